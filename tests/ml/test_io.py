"""The brain mask taken from an upload: what stays in the analysis."""
import numpy as np

from itermask3d.io import foreground_mask
from itermask3d.synthetic import make_case


def _brain():
    case = make_case("normal", "t1", seed=3, spacing_mm=(2.0, 2.0, 2.0))
    return np.asarray(case.image.dataobj, dtype=np.float32)


def test_brain_cut_by_missing_slices_keeps_both_parts():
    data = _brain()
    k = np.nonzero(data.any(axis=(0, 1)))[0]
    middle = (k.min() + k.max()) // 2
    data[:, :, middle - 4:middle + 4] = 0  # 16 mm of slices lost in acquisition
    mask = foreground_mask(data)
    assert mask[:, :, :middle - 4].sum() > 0.9 * (data[:, :, :middle - 4] > 0).sum()
    assert mask[:, :, middle + 4:].sum() > 0.9 * (data[:, :, middle + 4:] > 0).sum()


def test_small_leftovers_of_skull_stripping_are_dropped():
    data = _brain()
    brain = foreground_mask(data)
    corner = np.zeros_like(data, dtype=bool)
    corner[:6, :6, :6] = True  # 1.7 mL, away from the brain
    assert not (brain & corner).any()
    data[corner] = float(np.percentile(data[data > 0], 50))
    mask = foreground_mask(data)
    assert not mask[corner].any()
    assert (mask == brain).all()

"""The brain mask the engine takes from an upload (io.validate): what stays in the analysis."""
import nibabel as nib
import numpy as np
import pytest

from itermask3d.io import validate
from itermask3d.synthetic import make_case


def _scan():
    """A 2 mm synthetic normal T1: (data (I, J, K) float32, affine 4x4)."""
    case = make_case("normal", "t1", seed=3, spacing_mm=(2.0, 2.0, 2.0))
    return np.asarray(case.image.dataobj, dtype=np.float32), case.image.affine


def _brain_mask(data, affine):
    return validate(nib.Nifti1Image(data, affine)).foreground


def test_brain_cut_by_missing_slices_keeps_both_parts():
    data, affine = _scan()
    k = np.nonzero(data.any(axis=(0, 1)))[0]
    middle = (k.min() + k.max()) // 2
    data[:, :, middle - 4:middle + 4] = 0  # 16 mm of slices lost in acquisition
    mask = _brain_mask(data, affine)
    assert mask[:, :, :middle - 4].sum() > 0.9 * (data[:, :, :middle - 4] > 0).sum()
    assert mask[:, :, middle + 4:].sum() > 0.9 * (data[:, :, middle + 4:] > 0).sum()


def test_small_leftovers_of_skull_stripping_are_dropped():
    data, affine = _scan()
    brain = _brain_mask(data, affine)
    corner = np.zeros_like(data, dtype=bool)
    corner[:6, :6, :6] = True  # 1.7 mL, away from the brain
    assert not (brain & corner).any()
    data[corner] = float(np.percentile(data[data > 0], 50))
    mask = _brain_mask(data, affine)
    assert not mask[corner].any()
    assert (mask == brain).all()


def test_oblique_grid_at_the_largest_accepted_voxel_size_is_accepted():
    # An oblique 7 mm axis, stored as float32, can have a column norm a hair above 7.0; it must not be refused.
    case = make_case("normal", "t1", seed=206, spacing_mm=(0.9, 0.9, 7.0), oblique=True)
    affine = case.image.affine.copy()
    affine[:3, 2] *= 1 + 1e-7
    assert np.linalg.norm(affine[:3, 2]) > 7.0
    scan = validate(nib.Nifti1Image(np.asarray(case.image.dataobj), affine))
    assert scan.spacing_mm.max() == pytest.approx(7.0)


def test_a_grid_over_the_voxel_limit_is_refused_before_its_data_is_read(monkeypatch):
    """The limit is checked on the header's shape: a huge grid must not be read into memory to be refused."""
    import itermask3d.io as io
    from itermask3d.errors import InputError

    data, affine = _scan()
    monkeypatch.setattr(io, "MAX_VOXELS", data.size - 1)

    class Unreadable(nib.Nifti1Image):
        @property
        def dataobj(self):  # type: ignore[override]
            raise AssertionError("the data was read")

    with pytest.raises(InputError, match="million voxels"):
        validate(Unreadable(data, affine))

"""Which sequence a scan looks like (contrast.read_contrast): the tissue order of T1, T2 and FLAIR, read on the
template's tissue maps; a scan sent as another sequence than it clearly is gets refused in one sentence, and a scan
whose contrast is unclear is let through."""
import numpy as np
import pytest

from itermask3d import contrast, rescan
from itermask3d.errors import InputError
from itermask3d.io import validate
from itermask3d.preprocessing import prepare_scan
from itermask3d.profiles import PROFILES
from itermask3d.synthetic import make_case

FAST = PROFILES["fast"]


@pytest.mark.parametrize(("wm", "gm", "csf", "expected"), [
    (1.00, 0.64, 0.24, "t1"),  # the generator's mean contrasts
    (0.45, 0.62, 1.00, "t2"),
    (0.52, 0.70, 0.12, "flair"),
    (0.70, 0.72, 0.10, None),  # grey and white matter alike: not clear enough to refuse anything
    (0.50, 0.70, 0.65, None),  # fluid neither bright nor suppressed
    (0.44, 1.00, 0.39, None),  # a T2 with a blank slab across the ventricles: its fluid reads dim, not suppressed
    (0.70, 1.00, 0.84, None),  # a T2 under a strong bias field
    (1.00, 0.64, 0.90, None),  # white over grey but fluid brighter than grey matter: no known contrast
    (1.00, 0.64, None, "t1"),  # too little fluid to read: the white/grey order alone tells T1
    (0.50, 0.70, None, None),  # ... but not T2 from FLAIR
    (None, 0.70, 0.10, None),
])
def test_the_tissue_order_names_the_contrast(wm, gm, csf, expected):
    assert contrast.contrast_of(wm, gm, csf) == expected


@pytest.fixture(scope="module")
def prepared_scans():
    """One synthetic scan per sequence, oblique and anisotropic, a lesion in the FLAIR one."""
    cases = {
        "t1": make_case("normal", "t1", seed=3, spacing_mm=(1.5, 1.5, 3.0), oblique=True),
        "t2": make_case("normal", "t2", seed=4, spacing_mm=(2.0, 2.0, 2.0)),
        "flair": make_case("lesion", "flair", seed=5, spacing_mm=(2.0, 2.0, 2.0), lesion_type="cavity",
                           lesion_size_mm=12),
    }
    return {seq: prepare_scan(validate(case.image), FAST) for seq, case in cases.items()}


@pytest.mark.parametrize("sequence", ["t1", "t2", "flair"])
def test_each_synthetic_contrast_is_read_as_itself_and_passes_as_itself(prepared_scans, sequence):
    reading = contrast.check_sequence(prepared_scans[sequence], sequence)
    assert reading.looks_like == sequence, reading


def test_a_scan_sent_as_another_sequence_is_refused_with_what_it_looks_like(prepared_scans):
    with pytest.raises(contrast.SequenceMismatch) as refused:
        contrast.check_sequence(prepared_scans["flair"], "t1")
    assert (refused.value.stated, refused.value.looks_like) == ("t1", "flair")
    assert isinstance(refused.value, InputError)  # the CLI's and the worker's one-sentence refusal
    message = str(refused.value)
    assert message.startswith("it looks like a FLAIR scan (grey matter brighter than white matter, fluid dark)")
    assert "sent as T1" in message and message.endswith("run it again as FLAIR if that is what it is.")
    with pytest.raises(contrast.SequenceMismatch, match="looks like a T1 scan"):
        contrast.check_sequence(prepared_scans["t1"], "flair")
    with pytest.raises(contrast.SequenceMismatch, match="looks like a T2 scan"):
        contrast.check_sequence(prepared_scans["t2"], "flair")


def test_the_rescan_checks_refuse_a_t1_scan_sent_as_t2(tmp_path):
    """T2 scans get the rescan checks alone: a T1 filed as T2 would otherwise miss the lesion screening it can have."""
    case = make_case("normal", "t1", seed=3, spacing_mm=(2.0, 2.0, 2.0))
    path = tmp_path / "scan.nii.gz"
    case.image.to_filename(path)
    with pytest.raises(contrast.SequenceMismatch, match="looks like a T1 scan"):
        rescan.check_scan(path, tmp_path / "out", sequence="t2")
    assert rescan.check_scan(path, tmp_path / "out", sequence="t1")["sequence"] == "t1"


def test_a_brain_of_one_intensity_is_not_judged():
    """Nothing to read (e.g. a mask, or a phantom): the contrast check leaves the judgement to the other checks."""
    case = make_case("normal", "t1", seed=3, spacing_mm=(2.0, 2.0, 2.0))
    data = (np.asarray(case.image.dataobj) > 0).astype(np.float32) * 500.0
    uniform = prepare_scan(validate(type(case.image)(data, case.image.affine)), FAST)
    assert contrast.read_contrast(uniform).looks_like is None

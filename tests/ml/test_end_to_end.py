"""The shipped fast T1 model flags a synthetic lesion and leaves a synthetic normal (almost) unflagged."""
import json

import nibabel as nib
import numpy as np
import pytest

from itermask3d.checkpoints import default_weights_path
from itermask3d.rescan import check_scan
from itermask3d.synthetic import make_case


@pytest.fixture(scope="module")
def analyzer():
    from itermask3d.api import load_analyzer

    assert default_weights_path("fast", "t1").is_file(), "shipped fast T1 weights are missing"
    analyzer = load_analyzer(profile="fast", sequence="t1", device="cpu")
    assert analyzer.trained
    return analyzer


def _analyse(analyzer, case, tmp_path, name):
    scan = tmp_path / f"{name}.nii.gz"
    nib.save(case.image, str(scan))
    stages = []
    result = analyzer.analyse(scan, tmp_path / name, seed=0, progress=lambda f, s: stages.append((f, s)))
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert json.loads((tmp_path / name / "result.json").read_text()) == result
    # what the shipped model found on the benchmark travels with each result made with its default settings
    # (after a recalibration or new weights: itermask3d record-validation, see ml/README.md)
    assert result["model"].get("validation") == analyzer.metadata.get("validation") is not None
    # `itermask3d check` runs the same rescan checks without the network, for sequences without a model
    assert check_scan(scan, tmp_path / f"{name}-checks", analyzer.sequence)["quality"] == result["quality"]
    for output in ("anomaly_map", "anomaly_mask", "reconstruction"):
        img = nib.load(str(tmp_path / name / f"{output}.nii.gz"))
        assert img.shape == case.image.shape and np.allclose(img.affine, case.image.affine)
    # display windows for viewers: the map's full 0..1 range, the mask's labels 0..k
    for output, window in (("anomaly_map", (0, 1)), ("anomaly_mask", (0, max(len(result["flags"]), 1)))):
        header = nib.load(str(tmp_path / name / f"{output}.nii.gz")).header
        assert (float(header["cal_min"]), float(header["cal_max"])) == window
    return result


def _assert_lesion_flagged(analyzer, case, tmp_path, name):
    result = _analyse(analyzer, case, tmp_path, name)
    assert result["model"]["trained"] is True
    assert len(result["flags"]) >= 1
    labels = np.asarray(nib.load(str(tmp_path / name / "anomaly_mask.nii.gz")).dataobj)
    truth = np.asarray(case.truth.dataobj) > 0
    hit_labels = set(np.unique(labels[truth])) - {0}
    assert hit_labels, "no flag overlaps the lesion"
    assert result["triage"] in ("review", "urgent")
    amap = np.asarray(nib.load(str(tmp_path / name / "anomaly_map.nii.gz")).dataobj)
    assert amap.dtype == np.float32 and amap.min() >= 0 and amap.max() <= 1
    assert amap[truth].mean() > 3 * amap[(amap > 0) & ~truth].mean()


def test_cavity_is_flagged(analyzer, tmp_path):
    # A 2.4 cm CSF-filled cavity, the T1-visible lesion kind. Not every such case is caught yet: the
    # benchmark (ml/BENCHMARK.md) measures the hit rate over many; this one must stay caught.
    case = make_case("lesion", "t1", seed=101, spacing_mm=(1.5, 1.5, 1.5), lesion_type="cavity", lesion_size_mm=12)
    _assert_lesion_flagged(analyzer, case, tmp_path, "cavity")


# The shipped fast T1 weights (5427 CPU steps, see weights/fast_t1.json) do not yet flag this T1 tumour:
# the network rebuilds it from its edges in the high-frequency channel with normal-range T1 intensities
# (scripts/diagnose_model.py). strict=True: once a better-trained model passes, the XPASS fails the suite,
# so the marker has to go together with shipping that model (issue 3 stays open).
UNDERTRAINED = pytest.mark.xfail(
    strict=True, reason="shipped fast T1 model does not yet flag this T1 tumour; see ml/BENCHMARK.md"
)


@UNDERTRAINED
def test_tumour_is_flagged(analyzer, tmp_path):
    case = make_case("lesion", "t1", seed=101, spacing_mm=(1.5, 1.5, 1.5), lesion_type="tumour", lesion_size_mm=14)
    _assert_lesion_flagged(analyzer, case, tmp_path, "tumour")


def test_flair_model_flags_a_tumour(tmp_path):
    # FLAIR makes tumour and oedema hyperintense, the paper's main setting; the shipped FLAIR model finds
    # 1-1.6 cm tumours in the benchmark (ml/BENCHMARK-flair.md).
    from itermask3d.api import load_analyzer

    flair = load_analyzer(profile="fast", sequence="flair", device="cpu")
    case = make_case("lesion", "flair", seed=101, spacing_mm=(1.5, 1.5, 1.5), lesion_type="tumour", lesion_size_mm=8)
    _assert_lesion_flagged(flair, case, tmp_path, "flair_tumour")


def test_normal_is_almost_unflagged(analyzer, tmp_path):
    case = make_case("normal", "t1", seed=102, spacing_mm=(1.5, 1.5, 1.5))
    result = _analyse(analyzer, case, tmp_path, "normal")
    assert len(result["flags"]) <= 1
    assert sum(f["volume_mm3"] for f in result["flags"]) < 2000
    assert result["quality"] == [] and result["triage"] in ("routine", "review")


def test_missing_slices_send_the_scan_for_rescan(analyzer, tmp_path):
    # 10-20 mm of zero slices through the brain: outside the brain mask, so the network cannot see them;
    # the acquisition check reports them and the scan goes to the worklist as a rescan.
    case = make_case("artefact", "t1", seed=1, spacing_mm=(1.5, 1.5, 4.0), oblique=True, artefact_type="slices_missing")
    result = _analyse(analyzer, case, tmp_path, "gap")
    assert [issue["kind"] for issue in result["quality"]] == ["missing_slices"]
    assert result["quality"][0]["planes"] == case.info["planes"]
    assert result["triage"] == "rescan"


# The network's result does not say what is wrong with these scans (on the benchmarks motion scores like a normal, as
# the smeared edges come through the high-frequency channel; a bias scan at most carries scattered flags), so the
# signal checks report them.
@pytest.mark.parametrize("artefact, seed, kind", [("motion", 3, "motion"), ("bias", 1, "bias_field")])
def test_signal_artefact_sends_the_scan_for_rescan(analyzer, tmp_path, artefact, seed, kind):
    case = make_case("artefact", "t1", seed=seed, spacing_mm=(2.0, 2.0, 2.0), artefact_type=artefact)
    result = _analyse(analyzer, case, tmp_path, artefact)
    assert [issue["kind"] for issue in result["quality"]] == [kind]
    assert result["triage"] == "rescan"
    issue = result["quality"][0]
    if kind == "motion":  # the axis the k-space lines from the second head position ran along
        assert issue["axis"] == case.info["axis"]
    else:  # measured on the template's white matter (bias_estimate), and correctable
        assert "white matter" in issue["message"] and "N4" in issue["message"]

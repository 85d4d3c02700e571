"""Intensity scaling: the spec's p1-p99 and the lesion-robust p1-p50, chosen by the model's metadata.

A bright lesion of a few percent of the brain raises p99 and darkens every normal voxel under
p1-p99 scaling; under p1-p50 normal tissue keeps its value, which is what lets the threshold
search compare a lesion scan's errors with a normal scan's.
"""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from itermask3d.api import Analyzer
from itermask3d.checkpoints import save_weights
from itermask3d.cli import main
from itermask3d.io import load_scan
from itermask3d.networks import build_network
from itermask3d.preprocessing import normalise
from itermask3d.profiles import get_profile
from itermask3d.synthetic import make_case
from itermask3d.training import TrainConfig, train


def _two_tissue_brain(lesion_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(volume, brain, lesion) on a 40^3 grid: tissue at 100 and 140 (+ noise), CSF at 30, and a
    lesion at 400 covering ``lesion_fraction`` of the brain."""
    rng = np.random.default_rng(5)
    brain = np.zeros((40, 40, 40), dtype=bool)
    brain[4:36, 4:36, 4:36] = True
    volume = np.where(rng.random(brain.shape) < 0.5, 100.0, 140.0) + rng.normal(0, 5, brain.shape)
    volume[rng.random(brain.shape) < 0.1] = 30.0
    lesion = np.zeros_like(brain)
    count = int(round(lesion_fraction * brain.sum()))
    lesion.reshape(-1)[np.flatnonzero(brain)[:count]] = True
    volume[lesion] = 400.0
    return volume * brain, brain, lesion


@pytest.mark.parametrize("scaling, largest_shift", [("p1-p99", None), ("p1-p50", 0.03)])
def test_a_bright_lesion_moves_normal_tissue_only_under_the_p99_scaling(scaling, largest_shift):
    clean, brain, _ = _two_tissue_brain(0.0)
    ill, _, lesion = _two_tissue_brain(0.03)
    normal = brain & ~lesion
    before = normalise(clean, brain, scaling)[0][normal].mean()
    after = normalise(ill, brain, scaling)[0][normal].mean()
    shift = abs(after - before) / before
    if largest_shift is None:
        assert shift > 0.3  # the lesion became p99: normal tissue about half as bright
    else:
        assert shift < largest_shift


def test_p50_scaling_maps_p1_to_zero_and_the_median_to_its_fixed_level():
    volume, brain, _ = _two_tissue_brain(0.0)
    x, low, high = normalise(volume, brain, "p1-p50")
    p1, p50 = np.percentile(volume[brain], (1, 50))
    assert low == pytest.approx(p1)
    assert np.median(x[brain]) == pytest.approx(1 / 1.46, abs=0.01)
    assert (x[~brain] == 0).all() and x.min() >= 0 and x.max() <= 3


def test_an_unknown_scaling_is_refused():
    volume, brain, _ = _two_tissue_brain(0.0)
    with pytest.raises(ValueError, match="unknown intensity scaling 'zscore'"):
        normalise(volume, brain, "zscore")


def _scan(tmp_path):
    path = tmp_path / "scan.nii.gz"
    nib.save(make_case("normal", "t1", seed=4, spacing_mm=(3.0, 3.0, 3.0)).image, str(path))
    return load_scan(path)


def test_a_model_trained_with_p50_scaling_is_run_with_it(tmp_path):
    out = tmp_path / "p50.pt"
    metadata = train(TrainConfig(profile="tiny", out=str(out), steps=1, batch=1, device="cpu", pool_size=1,
                                 scaling="p1-p50"), show_progress=False)
    assert metadata["preprocessing"] == {"scaling": "p1-p50"}
    scan = _scan(tmp_path)
    trained = Analyzer(profile="tiny", device="cpu", model_path=out, registration="moments")
    prepared = trained.prepare(scan)
    assert trained.scaling == "p1-p50"
    p1, p50 = np.percentile(prepared.denormalise(prepared.x)[prepared.brain], (1, 50))
    assert prepared.intensity_high == pytest.approx(p1 + 1.46 * (p50 - p1), rel=0.02)
    # weights whose metadata names no scaling were trained with the spec's
    plain = tmp_path / "plain.pt"
    save_weights(build_network(get_profile("tiny")), plain, {"profile": "tiny", "sequence": "t1"})
    spec = Analyzer(profile="tiny", device="cpu", model_path=plain, registration="moments").prepare(scan)
    assert spec.intensity_high == pytest.approx(np.percentile(scan.data[scan.foreground], 99), rel=0.1)
    assert not np.allclose(spec.x, prepared.x)


def test_weights_asking_for_an_unknown_scaling_are_refused(tmp_path):
    path = tmp_path / "odd.pt"
    save_weights(build_network(get_profile("tiny")), path, {"preprocessing": {"scaling": "zscore"}})
    with pytest.raises(ValueError, match="odd.json asks for an unknown intensity scaling 'zscore'"):
        Analyzer(profile="tiny", device="cpu", model_path=path, registration="moments")


def test_train_cli_rejects_an_unknown_scaling_in_one_line(tmp_path, capsys):
    code = main(["train", "--profile", "tiny", "--scaling", "zscore", "--out", str(tmp_path / "m.pt")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err and "unknown intensity scaling 'zscore'" in err
    assert not (tmp_path / "m.pt").exists()

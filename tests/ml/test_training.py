"""Training: weights + metadata + loss log, resume from the checkpoint, synthetic and folder data.

Runs the real training loop on the tiny profile (4 mm grid) for a few steps on the CPU.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import nibabel as nib
import pytest
import torch

from itermask3d.checkpoints import load_state, read_metadata
from itermask3d.cli import main
from itermask3d.data import find_scans
from itermask3d.networks import build_network
from itermask3d.profiles import get_profile
from itermask3d.training import TrainConfig, reconstruction_loss, train


def _config(out: Path, steps: int, **overrides) -> TrainConfig:
    options = dict(profile="tiny", sequence="t1", out=str(out), steps=steps, batch=1, device="cpu",
                   pool_size=2, refresh_every=2, checkpoint_every=2, seed=3)
    options.update(overrides)
    return TrainConfig(**options)


def _logged_steps(out: Path) -> list[int]:
    with open(out.with_name(out.stem + "_loss.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert all(math.isfinite(float(row["loss"])) for row in rows)
    return [int(row["step"]) for row in rows]


def test_training_writes_weights_metadata_and_loss_log_then_resumes(tmp_path):
    out = tmp_path / "tiny_t1.pt"
    first = train(_config(out, steps=3), show_progress=False)

    metadata = read_metadata(out)
    assert metadata == first
    assert metadata["profile"] == "tiny" and metadata["sequence"] == "t1"
    assert metadata["steps"] == 3 and metadata["finished"] is True
    assert "synthetic" in metadata["data"]
    assert metadata["hardware"].startswith("cpu")
    assert metadata["seconds"] > 0 and metadata["code_version"] and metadata["torch"]
    assert math.isfinite(metadata["metrics"]["train_loss_last50"])
    assert _logged_steps(out) == [1, 2, 3]
    model = build_network(get_profile("tiny"))
    model.load_state_dict(load_state(out))  # the shipped format loads into a fresh network

    resumed = train(_config(out, steps=5), show_progress=False)
    assert resumed["steps"] == 5
    assert resumed["seconds"] > metadata["seconds"]  # time adds up across runs
    assert _logged_steps(out) == [1, 2, 3, 4, 5]  # the log continues, it does not restart

    restarted = train(_config(out, steps=2, resume=False), show_progress=False)
    assert restarted["steps"] == 2
    assert _logged_steps(out) == [1, 2]


def test_init_from_other_weights_is_recorded(tmp_path):
    base = tmp_path / "base.pt"
    train(_config(base, steps=1), show_progress=False)
    out = tmp_path / "flair.pt"
    metadata = train(_config(out, steps=1, sequence="flair", init_from=str(base)), show_progress=False)
    assert metadata["initialised_from"] == str(base)
    assert metadata["sequence"] == "flair"


@pytest.fixture(scope="module")
def bids_folder(tmp_path_factory):
    """A BIDS-like tree of normal synthetic scans: two subjects with T1w, one with FLAIR too."""
    from itermask3d.synthetic import make_case

    root = tmp_path_factory.mktemp("bids")
    for subject, sequences in (("01", ("t1", "flair")), ("02", ("t1",))):
        anat = root / f"sub-{subject}" / "anat"
        anat.mkdir(parents=True)
        for sequence in sequences:
            case = make_case("normal", sequence, seed=int(subject), spacing_mm=(3.0, 3.0, 3.0))
            suffix = "T1w" if sequence == "t1" else "FLAIR"
            nib.save(case.image, str(anat / f"sub-{subject}_{suffix}.nii.gz"))
    return root


def test_find_scans_picks_the_sequence_in_a_bids_tree_and_everything_in_a_flat_folder(bids_folder, tmp_path):
    t1 = find_scans(bids_folder, "t1")
    assert [p.name for p in t1] == ["sub-01_T1w.nii.gz", "sub-02_T1w.nii.gz"]
    assert [p.name for p in find_scans(bids_folder, "flair")] == ["sub-01_FLAIR.nii.gz"]
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in t1:
        (flat / path.name.replace("_T1w", "")).write_bytes(path.read_bytes())
    assert [p.name for p in find_scans(flat, "t1")] == ["sub-01.nii.gz", "sub-02.nii.gz"]


def test_training_from_a_folder_of_scans(bids_folder, tmp_path):
    out = tmp_path / "folder_t1.pt"
    metadata = train(_config(out, steps=2, data=str(bids_folder)), show_progress=False)
    assert metadata["steps"] == 2 and metadata["finished"] is True
    assert str(bids_folder) in metadata["data"]
    assert _logged_steps(out) == [1, 2]


def test_train_cli_rejects_missing_data_folder_in_one_line(tmp_path, capsys):
    code = main(["train", "--profile", "tiny", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.pt")])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "nowhere" in err
    assert not (tmp_path / "m.pt").exists()


def test_interrupted_training_keeps_its_progress(tmp_path, monkeypatch):
    import itermask3d.training as training

    real_inputs, calls = training.noise_filled_inputs, []

    def interrupt_on_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_inputs(*args, **kwargs)

    monkeypatch.setattr(training, "noise_filled_inputs", interrupt_on_fourth)
    out = tmp_path / "tiny_t1.pt"
    with pytest.raises(KeyboardInterrupt):
        train(_config(out, steps=10, checkpoint_every=100), show_progress=False)
    assert read_metadata(out)["steps"] == 3 and read_metadata(out)["finished"] is False
    monkeypatch.setattr(training, "noise_filled_inputs", real_inputs)
    resumed = train(_config(out, steps=5, checkpoint_every=100), show_progress=False)
    assert resumed["steps"] == 5
    assert _logged_steps(out) == [1, 2, 3, 4, 5]


def test_masked_weight_one_is_the_specs_plain_mse_and_more_weights_the_infilling():
    prediction = torch.zeros(1, 1, 2, 2, 2)
    targets = torch.zeros(1, 1, 2, 2, 2)
    targets[0, 0, 0, 0, 0] = 2.0  # one masked voxel off by 2
    targets[0, 0, 1, 1, 1] = 1.0  # one unmasked voxel off by 1
    masks = torch.zeros(1, 1, 2, 2, 2)
    masks[0, 0, 0, 0, 0] = 1.0
    assert reconstruction_loss(prediction, targets, masks).item() == pytest.approx((4 + 1) / 8)
    # weight 5: the masked voxel counts five times, out of 5 + 7 counted voxels
    assert reconstruction_loss(prediction, targets, masks, 5.0).item() == pytest.approx((5 * 4 + 1) / 12)


def test_a_masked_weight_is_recorded_and_the_log_keeps_the_plain_mse(tmp_path):
    out = tmp_path / "tiny_t1.pt"
    metadata = train(_config(out, steps=2, masked_weight=5.0), show_progress=False)
    assert metadata["config"]["masked_weight"] == 5.0
    with open(out.with_name(out.stem + "_loss.csv")) as handle:
        logged = [float(row["loss"]) for row in csv.DictReader(handle)]
    # the same seed without the weight draws the same batches; step 1 runs before any update
    plain = train(_config(tmp_path / "plain.pt", steps=1), show_progress=False)
    assert logged[0] == pytest.approx(plain["metrics"]["train_loss_last50"], rel=1e-5)


def test_train_cli_rejects_a_masked_weight_below_one_in_one_line(tmp_path, capsys):
    code = main(["train", "--profile", "tiny", "--out", str(tmp_path / "m.pt"), "--masked-weight", "0.5"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "masked-weight" in err
    assert not (tmp_path / "m.pt").exists()

"""Bad input gives one line on stderr and a non-zero exit status, never a traceback."""
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from itermask3d.cli import main


def _ball(shape=(80, 90, 80), spacing=2.0):
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) / 2).reshape(3, 1, 1, 1)
    r = (np.array([34, 42, 34]) / spacing).reshape(3, 1, 1, 1)
    inside = np.sum(((grid - centre) / r) ** 2, axis=0) <= 1
    return inside, np.diag([spacing, spacing, spacing, 1.0])


def _write(tmp_path, name, data, affine=None):
    path = tmp_path / name
    nib.save(nib.Nifti1Image(np.asarray(data, dtype=np.float32), np.eye(4) if affine is None else affine), str(path))
    return path


def _bad_inputs(tmp_path):
    text = tmp_path / "notes.nii.gz"
    text.write_text("this is not an image")
    inside, affine = _ball()
    brain = inside * 100.0
    rng = np.random.default_rng(0)
    head = np.where(inside, 100.0, 0.0)
    grid = np.indices(inside.shape).astype(float)
    centre = (np.array(inside.shape) / 2).reshape(3, 1, 1, 1)
    shell = np.sum(((grid - centre) / (np.array([38, 46, 38]).reshape(3, 1, 1, 1))) ** 2, axis=0) <= 1
    head = np.where(shell & ~inside, 60.0, head) + rng.random(inside.shape) * 5  # skull + noisy air
    textured = np.where(inside, 100.0 + 20.0 * rng.random(inside.shape), 0.0)
    scan = nib.Nifti1Image(textured.astype(np.int16), affine)
    intact = tmp_path / "intact.nii.gz"
    nib.save(scan, str(intact))
    compressed = intact.read_bytes()
    damaged = bytearray(compressed)
    for offset in range(len(damaged) // 2, len(damaged) // 2 + 64):
        damaged[offset] ^= 0xFF
    (tmp_path / "damaged.nii.gz").write_bytes(bytes(damaged))
    (tmp_path / "truncated.nii.gz").write_bytes(compressed[: len(compressed) // 2])
    nib.save(scan, str(tmp_path / "whole.nii"))
    (tmp_path / "truncated.nii").write_bytes((tmp_path / "whole.nii").read_bytes()[:200_000])
    rgb = np.zeros(inside.shape, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    rgb["R"] = rgb["G"] = rgb["B"] = inside * 100
    nib.save(nib.Nifti1Image(rgb, affine), str(tmp_path / "colour.nii.gz"))
    zscored = np.where(inside, (textured - textured[inside].mean()) / textured[inside].std(), 0.0)
    unoriented = nib.Nifti1Image(textured.astype(np.int16), affine)
    unoriented.set_sform(None, code=0)
    unoriented.set_qform(None, code=0)
    nib.save(unoriented, str(tmp_path / "unoriented.nii.gz"))
    return {
        "no orientation": (tmp_path / "unoriented.nii.gz", "left and right cannot be told apart"),
        "damaged gzip": (tmp_path / "damaged.nii.gz", "damaged"),
        "truncated gzip": (tmp_path / "truncated.nii.gz", "damaged"),
        "truncated nii": (tmp_path / "truncated.nii", "damaged"),
        "colour": (tmp_path / "colour.nii.gz", "greyscale"),
        "z-scored": (_write(tmp_path, "zscored.nii.gz", zscored, affine), "intensity-normalised"),
        "not NIfTI": (text, "NIfTI"),
        "missing": (tmp_path / "missing.nii.gz", "not found"),
        "2D": (_write(tmp_path, "slice.nii.gz", np.ones((64, 64))), "2D"),
        "4D": (_write(tmp_path, "series.nii.gz", np.ones((20, 20, 20, 3)), affine), "4D"),
        "empty": (_write(tmp_path, "empty.nii.gz", np.zeros((40, 40, 40)), affine), "empty"),
        "voxel size": (_write(tmp_path, "huge.nii.gz", brain, np.diag([20.0, 20.0, 20.0, 1.0])), "voxel size"),
        "skull": (_write(tmp_path, "head.nii.gz", head, affine), "skull-stripped"),
    }


COMMANDS = {"infer": ["--profile", "tiny", "--device", "cpu", "--allow-untrained"], "check": []}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", ["not NIfTI", "missing", "2D", "4D", "empty", "voxel size", "skull", "damaged gzip",
                                  "truncated gzip", "truncated nii", "colour", "z-scored", "no orientation"])
def test_bad_input_one_line(tmp_path, capsys, case, command):
    path, expected = _bad_inputs(tmp_path)[case]
    code = main([command, str(path), "--out", str(tmp_path / "out"), *COMMANDS[command]])
    err = capsys.readouterr().err
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert expected.lower() in lines[0].lower()
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_bad_arguments_one_line(capsys):
    code = main(["infer", "x.nii.gz", "--out", "o", "--profile", "huge"])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1


def test_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "scan.nii"
    bad.write_bytes(b"\x00" * 100)
    proc = subprocess.run([sys.executable, "-m", "itermask3d", "infer", str(bad), "--out", str(tmp_path / "o"),
                           "--profile", "tiny", "--allow-untrained"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--min-flag-mm3", "-5", "smallest flag"), ("--rise-gamma", "-0.01", "rise test's gamma must be a number >= 0"),
    ("--min-peak-ratio", "1.5", "peak ratio of a flag must lie in 0..1"),
    ("--min-peak-ratio", "nan", "peak ratio of a flag must lie in 0..1"),
    ("--rise-late-steps", "0", "late steps must be a whole number >= 1"),
])
def test_a_bad_inference_setting_is_refused_in_one_line(tmp_path, capsys, option, value, message):
    inside, affine = _ball()
    scan = _write(tmp_path, "brain.nii.gz", inside * 100.0, affine)
    code = main(["infer", str(scan), "--out", str(tmp_path / "out"), "--profile", "tiny", "--device", "cpu",
                 "--allow-untrained", option, value])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--min-flag-sizes", "abc", "positive volumes"), ("--min-flag-sizes", "120,-5", "positive volumes"),
    ("--min-flag-sizes", "", "positive volumes"), ("--max-normal-flags", "-1", "number >= 0"),
    ("--max-normal-flags", "abc", "number >= 0"), ("--max-normal-flags", "nan", "number >= 0"),
    ("--rise-gammas", "0,-0.01", "gammas >= 0"), ("--rise-gammas", "abc", "gammas >= 0"),
    ("--rise-gammas", "inf", "gammas >= 0"), ("--min-flag-sizes", "120,nan", "positive volumes"),
])
def test_bad_calibration_options_are_refused_in_one_line(capsys, option, value, message):
    code = main(["calibrate", "--profile", "tiny", option, value, "--dry-run"])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert message in err


def test_without_trained_weights_infer_refuses_in_one_line(tmp_path, capsys):
    """Random weights give a result that looks like any other, so infer refuses unless asked."""
    inside, affine = _ball()
    scan = _write(tmp_path, "brain.nii.gz", inside * 100.0, affine)
    code = main(["infer", str(scan), "--out", str(tmp_path / "out"), "--profile", "tiny", "--sequence", "t2",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no trained tiny-profile model for T2 scans" in err and "Traceback" not in err
    assert "itermask3d check runs the rescan checks without one" in err  # what can be done without a model
    assert not (tmp_path / "out").exists()


def test_weights_of_another_sequence_are_refused_in_one_line(tmp_path, capsys):
    from itermask3d.checkpoints import default_weights_path

    inside, affine = _ball()
    scan = _write(tmp_path, "brain.nii.gz", inside * 100.0, affine)
    code = main(["infer", str(scan), "--out", str(tmp_path / "out"), "--sequence", "t1", "--device", "cpu",
                 "--model", str(default_weights_path("fast", "flair"))])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "fast_flair.pt was trained on FLAIR scans, not T1" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("command", "message"), [
    (["calibrate", "--profile", "tiny", "--dry-run"], "no trained tiny-profile model for T1 scans"),
    (["normative", "--profile", "tiny", "--dry-run"], "no trained tiny-profile model for T1 scans"),
    (["calibrate", "--sequence", "t1", "--model", "FLAIR", "--dry-run"], "trained on FLAIR scans, not T1"),
])
def test_calibration_and_the_error_scale_refuse_missing_or_foreign_weights(capsys, command, message):
    """Settings calibrated on random weights, or on another sequence's, would be written into the metadata."""
    from itermask3d.checkpoints import default_weights_path

    command = [str(default_weights_path("fast", "flair")) if part == "FLAIR" else part for part in command]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err

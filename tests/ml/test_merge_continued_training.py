"""scripts/merge_continued_training.py: a run continued with --init is folded into shipped weights
with its history; a run that is not a continuation is refused and nothing is written."""
import csv
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "merge_continued_training.py"


def _weights(folder: Path, name: str, meta: dict, losses: list[tuple[int, float, float]]) -> Path:
    path = folder / f"{name}.pt"
    path.write_bytes(name.encode())  # stands in for a state dict: the script only copies it
    path.with_suffix(".json").write_text(json.dumps(meta))
    with (folder / f"{name}_loss.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "lr", "seconds"])
        writer.writerows([(s, loss, 0.001, sec) for s, loss, sec in losses])
    return path


def _meta(steps: int, seconds: float, init_from: str | None, sequence: str = "t1") -> dict:
    return {"profile": "fast", "sequence": sequence, "steps": steps, "planned_steps": steps, "seconds": seconds,
            "hardware": "cpu", "created": "2026-11-24T00:00:00Z", "metrics": {"train_loss_last50": 0.004},
            "config": {"init_from": init_from, "lr": 3e-4, "seed": 12}, "notes": "first run.",
            "sessions": [{"steps": steps}], "inference": {"gamma": 0.1}}


def _run(shipped: Path, run: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--shipped", str(shipped), "--run", str(run),
                           "--note", "second run."], capture_output=True, text=True)


def test_continued_run_is_appended_with_offsets(tmp_path):
    shipped = _weights(tmp_path, "shipped", _meta(2, 10.0, None), [(1, 0.5, 5.0), (2, 0.4, 10.0)])
    run = _weights(tmp_path, "run", _meta(2, 4.0, "shipped.pt"), [(1, 0.3, 2.0), (2, 0.2, 4.0)])
    result = _run(shipped, run)
    assert result.returncode == 0, result.stderr
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert (meta["steps"], meta["seconds"]) == (4, 14.0)
    assert len(meta["sessions"]) == 2 and meta["notes"] == "first run. second run."
    assert "inference" not in meta  # the old gamma belongs to the old weights
    rows = list(csv.DictReader((tmp_path / "shipped_loss.csv").open()))
    assert [(r["step"], r["seconds"]) for r in rows[2:]] == [("3", "12.0"), ("4", "14.0")]
    assert shipped.read_bytes() == b"run"


def test_run_without_init_is_refused_and_nothing_is_written(tmp_path):
    shipped = _weights(tmp_path, "shipped", _meta(2, 10.0, None), [(1, 0.5, 5.0)])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for run_meta in (_meta(2, 4.0, None), _meta(2, 4.0, "shipped.pt", sequence="flair")):
        run = _weights(tmp_path, "run", run_meta, [(1, 0.3, 2.0)])
        result = _run(shipped, run)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before

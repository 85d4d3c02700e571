"""Fold a training run continued from shipped weights (`itermask3d train --init SHIPPED`) into them.

`itermask3d train --init` writes a fresh weights file whose metadata and loss log describe only the
new run. Shipped weights carry their whole history, so this script
- copies the new weights over the shipped ones,
- appends the run to the metadata's `sessions` list and sums `steps` and `seconds`,
- appends the new loss log to the shipped one, its steps and seconds offset by the earlier runs',
- drops the calibrated gamma (`inference`): it belongs to the old weights; run `itermask3d calibrate` next.

    .venv/bin/python scripts/merge_continued_training.py --shipped ml/itermask3d/weights/fast_t1.pt \
        --run /tmp/train/fast_t1.pt --note "continued on 2026-11-24 (session 6) with `itermask3d train ...`"
"""
from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from itermask3d.checkpoints import read_metadata, write_metadata


def loss_log_path(weights: Path) -> Path:
    return weights.with_name(weights.stem + "_loss.csv")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def merge(shipped: Path, run: Path, note: str) -> dict:
    """Merge run (weights + metadata + loss log) into shipped, in place; returns the new metadata."""
    old, new = read_metadata(shipped), read_metadata(run)
    if not old or not new:
        raise SystemExit(f"metadata missing next to {shipped if not old else run}")
    if (old["profile"], old["sequence"]) != (new["profile"], new["sequence"]):
        raise SystemExit("profile/sequence differ: not a continuation of these weights")
    if not new.get("config", {}).get("init_from"):
        raise SystemExit(f"{run} was not trained with --init: nothing to continue")
    old_rows, new_rows = read_rows(loss_log_path(shipped)), read_rows(loss_log_path(run))
    step_offset, second_offset = int(old["steps"]), float(old["seconds"])
    merged_rows = old_rows + [
        {"step": str(int(r["step"]) + step_offset), "loss": r["loss"], "lr": r["lr"],
         "seconds": f"{float(r['seconds']) + second_offset:.1f}"} for r in new_rows]

    metadata = {k: v for k, v in new.items() if k != "inference"}
    session = {"steps": new["steps"], "seconds": new["seconds"], "loss_last50": new["metrics"]["train_loss_last50"],
               "initialised_from": f"the {step_offset}-step weights", "lr": new["config"]["lr"],
               "seed": new["config"]["seed"], "hardware": new["hardware"], "created": new["created"]}
    metadata["sessions"] = list(old.get("sessions", [])) + [session]
    metadata["steps"] = step_offset + int(new["steps"])
    metadata["planned_steps"] = step_offset + int(new["planned_steps"])
    metadata["seconds"] = round(second_offset + float(new["seconds"]), 1)
    metadata["initialised_from"] = None  # the whole history is in `sessions`
    metadata["notes"] = (old.get("notes", "") + " " + note).strip()

    shutil.copyfile(run, shipped)
    write_metadata(shipped, metadata)
    with loss_log_path(shipped).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "loss", "lr", "seconds"])
        writer.writeheader()
        writer.writerows(merged_rows)
    return metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--note", required=True, help="how the run was made (appended to the notes)")
    args = parser.parse_args()
    metadata = merge(args.shipped, args.run, args.note)
    print(f"{args.shipped}: {metadata['steps']} steps, {metadata['seconds']} s, "
          f"last-50 loss {metadata['metrics']['train_loss_last50']:.5f}; now run itermask3d calibrate")


if __name__ == "__main__":
    main()

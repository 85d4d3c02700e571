"""Locating, saving and loading model weights and their metadata.

Shipped weights: ``itermask3d/weights/<profile>_<sequence>.pt`` (a state dict) next to
``<profile>_<sequence>.json`` (metadata) and ``<profile>_<sequence>_loss.csv``.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import torch

from . import __version__

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def default_weights_path(profile: str, sequence: str) -> Path:
    """Where the shipped checkpoint for (profile, sequence) lives (it may not exist)."""
    return WEIGHTS_DIR / f"{profile}_{sequence}.pt"


def metadata_path(weights_path: Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def read_metadata(weights_path: Path) -> dict:
    """The metadata json next to ``weights_path``: {} if there is none.

    Raises ValueError when the file exists but cannot be read as a JSON object: its calibrated
    settings (gamma, schedule, smallest flag) would otherwise be replaced by the profile's
    defaults without anyone noticing.
    """
    path = metadata_path(weights_path)
    if not path.exists():
        return {}
    try:
        metadata = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"model metadata {path} cannot be read ({type(error).__name__}); restore it, "
                         "or remove it to run with the profile's default settings") from error
    if not isinstance(metadata, dict):
        raise ValueError(f"model metadata {path} is not a JSON object; restore it, "
                         "or remove it to run with the profile's default settings")
    return metadata


def write_metadata(weights_path: Path, metadata: dict) -> None:
    """Write the metadata json next to ``weights_path`` in one step (a temporary file, then a
    rename), so an interrupted write leaves the previous metadata whole."""
    target = metadata_path(weights_path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(metadata, indent=2, sort_keys=True))
    os.replace(temporary, target)


def save_weights(model: torch.nn.Module, path: Path, metadata: dict) -> None:
    """Write the state dict (float32) and the metadata json."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    torch.save(state, path)
    write_metadata(path, metadata)


def load_state(path: Path) -> dict:
    """Load a state dict saved by save_weights (or the 'model' entry of a training checkpoint)."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    return state["model"] if isinstance(state, dict) and "model" in state else state


def code_version() -> str:
    """Package version plus the git commit when the source tree is a checkout (read-only)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def hardware_description(device: torch.device) -> str:
    """Human-readable description of where training ran."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu:{cpu} x{torch.get_num_threads()} threads"


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU raises ValueError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu or cuda")
    return torch.device(device)

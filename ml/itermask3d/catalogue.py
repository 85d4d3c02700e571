"""Which trained models an installation has: one entry per (profile, sequence).

``Analyzer(require_trained=True)`` refuses a profile and sequence without fitting weights; the
catalogue answers the same question for every pair up front, without loading a network, so a
service can offer only what will run (the NeuroTriage worker reports it when it starts).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .checkpoints import default_weights_path, read_metadata
from .errors import MissingModelError
from .profiles import SEQUENCES, get_profile


@dataclass(frozen=True)
class CatalogueEntry:
    """installed: trained weights for this profile and sequence are at ``path``; otherwise
    ``reason`` says why not in one sentence (the one MissingModelError carries)."""

    profile: str
    sequence: str
    installed: bool
    path: Path
    reason: str | None = None


def weights_problem(path: Path, trained: bool, metadata: dict, profile: str, sequence: str) -> str | None:
    """Why the weights at ``path`` cannot analyse ``sequence`` scans on the ``profile`` grid, or None.

    trained: whether the file exists; metadata: its json (``checkpoints.read_metadata``). Weights
    without a recorded sequence or profile (older or foreign files) are taken at their word.
    """
    if not trained:
        return (f"no trained {profile}-profile model for {sequence.upper()} scans ({path.name} is not "
                "installed); train one with itermask3d train, or give one with --model (itermask3d check runs "
                "the rescan checks without one)")
    trained_on = metadata.get("sequence")
    if trained_on is not None and trained_on != sequence:
        return (f"{path.name} was trained on {str(trained_on).upper()} scans, not {sequence.upper()}; "
                f"give weights trained on {sequence.upper()} scans")
    trained_for = metadata.get("profile")
    if trained_for is not None and trained_for != profile:
        return (f"{path.name} was trained for the {trained_for} profile, not {profile}; "
                f"give weights of the {profile} profile")
    return None


def check_weights_fit(path: Path, trained: bool, metadata: dict, profile: str, sequence: str) -> None:
    """Raise MissingModelError unless ``path`` holds trained weights for this profile and sequence."""
    problem = weights_problem(path, trained, metadata, profile, sequence)
    if problem is not None:
        raise MissingModelError(problem)


def catalogue_entry(profile: str, sequence: str, model_path: str | Path | None = None) -> CatalogueEntry:
    """Whether ``profile``/``sequence`` scans can be analysed with trained weights: those at
    ``model_path`` when given (one file serves every sequence it fits), else the shipped ones."""
    profile = get_profile(profile).name  # unknown names raise ValueError
    path = Path(model_path) if model_path is not None else default_weights_path(profile, sequence)
    trained = path.is_file()
    try:
        metadata = read_metadata(path) if trained else {}
    except ValueError as error:  # unreadable metadata: Analyzer would refuse these weights too
        return CatalogueEntry(profile, sequence, False, path, str(error))
    problem = weights_problem(path, trained, metadata, profile, sequence)
    return CatalogueEntry(profile, sequence, problem is None, path, problem)


def model_catalogue(profiles: Iterable[str], model_path: str | Path | None = None) -> list[CatalogueEntry]:
    """One entry per profile in ``profiles`` and per sequence (t1, t2, flair), in that order."""
    return [catalogue_entry(profile, sequence, model_path) for profile in profiles for sequence in SEQUENCES]

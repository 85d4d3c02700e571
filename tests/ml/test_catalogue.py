"""The model catalogue says which (profile, sequence) pairs have fitting trained weights, and why not."""
import shutil

import pytest

from itermask3d.api import Analyzer
from itermask3d.catalogue import catalogue_entry, model_catalogue
from itermask3d.checkpoints import WEIGHTS_DIR
from itermask3d.errors import MissingModelError


def _installed(entries):
    return {(e.profile, e.sequence) for e in entries if e.installed}


def test_the_shipped_catalogue_lists_the_fast_models_and_says_why_paper_has_none():
    entries = model_catalogue(["fast", "paper"])
    assert [(e.profile, e.sequence) for e in entries] == [
        ("fast", "t1"), ("fast", "t2"), ("fast", "flair"), ("paper", "t1"), ("paper", "t2"), ("paper", "flair")]
    shipped = {(p.stem.split("_")[0], p.stem.split("_")[1]) for p in WEIGHTS_DIR.glob("*.pt")}
    assert _installed(entries) == shipped and {("fast", "t1"), ("fast", "flair")} <= shipped
    paper_t1 = entries[3]
    assert not paper_t1.installed and paper_t1.reason.startswith("no trained paper-profile model for T1 scans")


def test_one_weights_file_serves_only_the_sequence_it_was_trained_on():
    entries = model_catalogue(["fast"], model_path=WEIGHTS_DIR / "fast_flair.pt")
    assert _installed(entries) == {("fast", "flair")}
    t1 = entries[0]
    assert "fast_flair.pt was trained on FLAIR scans, not T1" in t1.reason


def test_weights_of_another_profile_are_refused_with_a_reason_not_a_shape_error(tmp_path):
    weights = tmp_path / "mine.pt"
    shutil.copy(WEIGHTS_DIR / "fast_t1.pt", weights)
    shutil.copy(WEIGHTS_DIR / "fast_t1.json", tmp_path / "mine.json")
    entry = catalogue_entry("tiny", "t1", weights)
    assert not entry.installed and entry.reason.startswith("mine.pt was trained for the fast profile, not tiny")
    with pytest.raises(MissingModelError, match="trained for the fast profile, not tiny"):
        Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=weights, require_trained=True)


def test_weights_with_unreadable_metadata_are_not_offered(tmp_path):
    weights = tmp_path / "mine.pt"
    shutil.copy(WEIGHTS_DIR / "fast_t1.pt", weights)
    (tmp_path / "mine.json").write_text("{ truncated")
    entry = catalogue_entry("fast", "t1", weights)
    assert not entry.installed and "cannot be read" in entry.reason


def test_an_unknown_profile_is_an_error():
    with pytest.raises(ValueError, match="unknown profile"):
        model_catalogue(["huge"])

"""Deployment settings: the compose stack gets every value production needs, and the embedded mode's
generated pseudonym key is private and stable."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml
from neurotriage.config import Settings, pseudonym_key

REPO = Path(__file__).resolve().parents[2]


def test_compose_requires_a_pseudonym_key_and_the_env_example_names_every_required_variable():
    compose_text = (REPO / "docker-compose.yml").read_text()
    service_env = yaml.safe_load(compose_text)["x-service-env"]
    # Without it the API would write a key inside its container (lost on rebuild) or fail to.
    assert "NEUROTRIAGE_PSEUDONYM_KEY" in service_env
    required = set(re.findall(r"\$\{(\w+):\?", compose_text))
    assert "NEUROTRIAGE_PSEUDONYM_KEY" in required
    example = {line.split("=", 1)[0] for line in (REPO / ".env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    assert required <= example, f"missing from .env.example: {sorted(required - example)}"


def test_without_a_configured_key_one_is_made_once_readable_by_the_owner_only(tmp_path):
    settings = Settings(pseudonym_key=None, pseudonym_key_file=tmp_path / "keys" / "pseudonym.key")
    first = pseudonym_key(settings)
    assert len(first) == 64
    assert pseudonym_key(settings) == first
    mode = stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode)
    assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0


def test_a_configured_key_wins_and_writes_no_file(tmp_path):
    settings = Settings(pseudonym_key="from-the-environment", pseudonym_key_file=tmp_path / "pseudonym.key")
    assert pseudonym_key(settings) == b"from-the-environment"
    assert not settings.pseudonym_key_file.exists()

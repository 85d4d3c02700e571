"""Deployment settings: the compose stack gets every value production needs, and the embedded mode's
generated pseudonym key is private and stable."""

from __future__ import annotations

import re
import stat
import threading
import time
from pathlib import Path

import pytest
import yaml
from neurotriage import config
from neurotriage.config import PseudonymKeyError, Settings, pseudonym_key
from pydantic import ValidationError

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


def test_the_env_example_ships_no_pseudonym_key():
    # A key copied from a public file lets anyone recompute pseudonyms and date offsets.
    lines = (REPO / ".env.example").read_text().splitlines()
    assert "NEUROTRIAGE_PSEUDONYM_KEY=" in lines


@pytest.mark.parametrize(
    "weak", ["change-me", "", "0123456789abcdef0123456789abcde", "Change-Me-" * 4, "CHANGEME" * 4, "ab" * 20]
)
def test_a_short_or_placeholder_key_is_refused_without_being_echoed(weak):
    with pytest.raises(ValidationError) as refused:
        Settings(pseudonym_key=weak)
    message = str(refused.value)
    assert "NEUROTRIAGE_PSEUDONYM_KEY" in message and "openssl rand -hex 32" in message
    assert not weak or weak not in message


def test_without_a_configured_key_one_is_made_once_readable_by_the_owner_only(tmp_path):
    settings = Settings(pseudonym_key=None, pseudonym_key_file=tmp_path / "keys" / "pseudonym.key")
    first = pseudonym_key(settings)
    assert len(first) == 64
    assert pseudonym_key(settings) == first
    mode = stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode)
    assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0


def test_an_empty_or_short_key_file_is_refused_not_used(tmp_path):
    # What the former touch-then-write left after a crash between the two, and then used forever.
    path = tmp_path / "pseudonym.key"
    for content in ("", "\n", "0123456789abcdef"):
        path.write_text(content)
        with pytest.raises(PseudonymKeyError, match="pseudonym key file .* at least 32 are required"):
            pseudonym_key(Settings(pseudonym_key=None, pseudonym_key_file=path))


def test_concurrent_first_uses_end_with_the_same_key(tmp_path, monkeypatch):
    """Key generation is slowed down so every thread is past the 'no file yet' check while the first
    one is still writing: formerly the others then read the empty file that touch had made."""
    made = iter(range(100))

    def slow_token_hex(nbytes):
        time.sleep(0.05)
        return f"{next(made):02d}" + "9f3ab0c17d25e648" * (nbytes // 8)

    monkeypatch.setattr(config.secrets, "token_hex", slow_token_hex)
    settings = Settings(pseudonym_key=None, pseudonym_key_file=tmp_path / "pseudonym.key")
    start = threading.Barrier(4)
    keys: list[bytes | Exception] = []

    def first_use():
        start.wait()
        try:
            keys.append(pseudonym_key(settings))
        except Exception as exc:  # noqa: BLE001 - a refused key is what this test must not see
            keys.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1, keys
    assert len(keys[0]) >= 32 and settings.pseudonym_key_file.read_text().encode() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no temporary file left behind


def test_a_configured_key_wins_and_writes_no_file(tmp_path):
    configured = "from-the-environment-7c41e09b2d8f"
    settings = Settings(pseudonym_key=configured, pseudonym_key_file=tmp_path / "pseudonym.key")
    assert pseudonym_key(settings) == configured.encode()
    assert not settings.pseudonym_key_file.exists()


def test_the_cli_refuses_a_weak_key_in_one_line_without_echoing_it(tmp_path):
    import os
    import subprocess
    import sys

    weak = "short-key-7Qx"
    env = {**os.environ, "NEUROTRIAGE_PSEUDONYM_KEY": weak,
           "NEUROTRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    done = subprocess.run([str(Path(sys.executable).parent / "neurotriage"), "migrate"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "NEUROTRIAGE_PSEUDONYM_KEY" in lines[0] and "openssl rand -hex 32" in lines[0]
    assert "Traceback" not in done.stderr and weak not in done.stderr + done.stdout
    assert not (tmp_path / "db.sqlite").exists()  # refused before anything was written


def test_a_default_profile_runs_cannot_be_requested_with_is_refused_at_start():
    with pytest.raises(ValidationError, match="NEUROTRIAGE_MODEL_PROFILE 'tiny' is not one of"):
        Settings(model_profile="tiny")
    assert Settings(model_profile="tiny", available_profiles=["tiny"]).model_profile == "tiny"


def test_the_web_server_logs_paths_without_query_strings():
    # nginx's default format logs $request (the URI with its query) and the Referer; a search can hold a name.
    conf = (REPO / "docker" / "nginx.conf").read_text()
    formats = dict(re.findall(r"log_format\s+(\w+)\s+((?:'[^']*'\s*)+);", conf))
    logs = re.findall(r"access_log\s+(\S+)(?:\s+(\w+))?\s*;", conf)
    assert logs and all(name in formats for _, name in logs), "every access_log names a format defined here"
    for name in formats:
        assert not re.search(r"\$(request|request_uri|args|query_string|arg_\w+|http_referer)\b", formats[name])

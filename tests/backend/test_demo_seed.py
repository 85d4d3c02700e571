"""`make demo` seeds an admin with a fresh password each time it runs; the old password's sessions and tokens end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from neurotriage import demo
from neurotriage.auth.models import ApiToken, BrowserSession
from neurotriage.auth.service import create_api_token, start_session
from neurotriage.db import make_engine
from neurotriage.models import Base
from neurotriage.users.models import User
from neurotriage.users.service import find_user, verify_login
from sqlalchemy import select
from sqlalchemy.orm import Session


def test_a_demo_rerun_prints_a_new_password_and_ends_what_the_old_one_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the embedded database `make demo` uses, here a scratch one (a committed admin would outlive the test otherwise)
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    Base.metadata.create_all(engine)

    @contextmanager
    def scratch_scope() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    monkeypatch.setattr(demo, "session_scope", scratch_scope)
    no_scans = tmp_path / "scans"
    no_scans.mkdir()

    def seed(url: str = "http://127.0.0.1:8000") -> str:
        demo.seed_demo(no_scans, url)
        printed = capsys.readouterr().out
        assert f"NeuroTriage demo: {url}\n" in printed  # where `make demo DEMO_PORT=…` serves it
        found = re.search(r"login: admin\s+password: (\S+)", printed)
        assert found
        return found.group(1)

    first = seed()
    with scratch_scope() as session:
        admin = find_user(session, "admin")
        assert admin is not None and verify_login(admin, first)
        start_session(session, admin)
        create_api_token(session, admin, "script")

    second = seed("http://127.0.0.1:8080")
    assert second != first
    with scratch_scope() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert verify_login(admin, second) and not verify_login(admin, first)
        assert all(s.ended_at is not None for s in session.scalars(select(BrowserSession)))
        assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken)))
    engine.dispose()


def test_each_demo_scan_is_queued_as_the_sequence_the_generator_made_it(tmp_path: Path) -> None:
    """`make demo` makes a T1 and a FLAIR set: a FLAIR scan sent as T1 would be refused as the wrong sequence."""
    for sequence in ("t1", "flair"):
        folder = tmp_path / sequence
        folder.mkdir()
        (folder / "lesion_00.nii.gz").write_bytes(b"")
        facts = {"kind": "lesion", "sequence": sequence, "lesion_type": "tumour"}
        (folder / "lesion_00.json").write_text(json.dumps(facts))
    t1, flair = tmp_path / "t1" / "lesion_00.nii.gz", tmp_path / "flair" / "lesion_00.nii.gz"
    assert (demo.demo_sequence(t1), demo.demo_label(t1)) == ("t1", "demo lesion (tumour) 00")
    assert (demo.demo_sequence(flair), demo.demo_label(flair)) == ("flair", "demo FLAIR lesion (tumour) 00")
    bare = tmp_path / "scan_03.nii.gz"  # no sidecar: a T1 named after its file
    assert (demo.demo_sequence(bare), demo.demo_label(bare)) == ("t1", "demo scan_03 03")

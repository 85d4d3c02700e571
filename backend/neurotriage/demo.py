"""Seeding the embedded demo: an admin with a fresh random password, and the demo scans queued."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from sqlalchemy import select

from neurotriage.cases.ingest import IngestOptions, UploadedFile, ingest_upload
from neurotriage.cases.models import Case
from neurotriage.config import get_settings, pseudonym_key
from neurotriage.auth.service import revoke_credentials
from neurotriage.core.storage import get_storage
from neurotriage.db import session_scope
from neurotriage.jobs.service import enqueue
from neurotriage.users.models import User
from neurotriage.users.service import create_user, set_password

DEMO_USER = "admin"


def _facts(scan: Path) -> dict:
    """The generator's sidecar JSON beside the scan (kind, sequence, lesion or artefact type), or nothing."""
    sidecar = scan.with_name(scan.name.removesuffix(".nii.gz") + ".json")
    return json.loads(sidecar.read_text()) if sidecar.exists() else {}


def demo_sequence(scan: Path) -> str:
    return str(_facts(scan).get("sequence", "t1"))


def demo_label(scan: Path) -> str:
    """'demo lesion (tumour) 00' for a T1 scan, 'demo FLAIR lesion (tumour) 00' for another sequence."""
    stem = scan.name.removesuffix(".nii.gz")
    facts = _facts(scan)
    detail = facts.get("lesion_type") or facts.get("artefact_type")
    sequence = demo_sequence(scan)
    # T1 labels stay as they were before the demo had other sequences, so a re-run finds the cases it made then
    named = "" if sequence == "t1" else f"{sequence.upper()} "
    return f"demo {named}{facts.get('kind', stem)}" + (f" ({detail})" if detail else "") + f" {stem[-2:]}"


def seed_demo(scans: Path, url: str = "http://127.0.0.1:8000") -> None:
    settings = get_settings()
    password = secrets.token_urlsafe(12)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == DEMO_USER))
        if user is None:
            user = create_user(session, DEMO_USER, password, ["admin", "clinician", "coordinator"])
        else:
            # A demo re-run prints a new password rather than a stored or fixed one, and, as any password change
            # does, ends the sessions and tokens made with the old one.
            set_password(user, password)
            revoke_credentials(session, user.id, actor_id=user.id)
        user_id = user.id
    queued = []
    # one folder per sequence, or the scans directly in the folder; T1 queued first
    for path in sorted(scans.rglob("*.nii.gz"), key=lambda scan: (demo_sequence(scan) != "t1", str(scan))):
        if path.name.endswith("_truth.nii.gz"):
            continue
        with session_scope() as session:
            user = session.get(User, user_id)
            assert user is not None
            label = demo_label(path)
            if session.scalar(select(Case.id).where(Case.label == label)) is not None:
                continue
            options = IngestOptions(
                label=label,
                sequence=demo_sequence(path),
                model_profile=settings.model_profile,
                max_inflated_bytes=settings.max_upload_bytes * 4,
                pseudonym_key=pseudonym_key(settings),
            )
            _case, job = ingest_upload(session, get_storage(), user, [UploadedFile(path.name, path)], options)
            job_id = job.id
        enqueue(job_id)
        queued.append(label)
    print(f"queued {len(queued)} demo scans: {', '.join(queued) or 'none (already there)'}")
    print("")
    print(f"  NeuroTriage demo: {url}")
    print(f"  login: {DEMO_USER}   password: {password}")
    print("")

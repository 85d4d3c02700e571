"""How the read endpoints hold up on a site's worth of cases: a report, not a timed test.

Creates its own PostgreSQL database (dropped at the end), migrates it, fills it with N synthetic cases (jobs,
re-runs, results, flags, verdicts, findings, claims and an audit trail as the app writes them; no scan files),
then calls the API in-process (FastAPI's TestClient, signed in as a coordinator, the role that reads everything)
and records per endpoint the median and 90th percentile time and the number of SQL statements one call runs.

    .venv/bin/python scripts/bench_api.py --cases 20000 --report backend/BENCHMARK-api.md

Needs PostgreSQL on 127.0.0.1:5432 (trust auth) as the tests do; Redis is not touched (no upload is made).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pg import create_database, database_url, drop_database  # noqa: E402

PASSWORD = "benchmark password 1"
TRIAGES = (("routine", 1, 0.55), ("review", 2, 0.25), ("rescan", 3, 0.1), ("urgent", 4, 0.1))
# The trail's other rows; verdict events are written with the verdicts themselves, as the service does.
ACTIONS = ("case.viewed", "case.file_downloaded", "case.file_prefetched", "case.claimed", "case.released")


def _environment(db_name: str) -> None:
    """Settings are read once per process, so they are set before neurotriage is imported."""
    os.environ["NEUROTRIAGE_DATABASE_URL"] = database_url(db_name)
    os.environ["NEUROTRIAGE_BROKER_URL"] = "redis://127.0.0.1:6379/11"
    os.environ["NEUROTRIAGE_STORAGE_DIR"] = tempfile.mkdtemp(prefix="nt-bench-api-")
    os.environ["NEUROTRIAGE_PSEUDONYM_KEY"] = "bench-api-pseudonym-key-0c7d51e9a2b84f36"


def seed(engine, n_cases: int, audit_per_case: int, rng: random.Random) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Bulk-inserts the synthetic site; returns row counts per table."""
    from neurotriage.audit.models import AuditEvent
    from neurotriage.cases.models import Case
    from neurotriage.jobs.models import Flag, Job, Result
    from neurotriage.reviews.models import CaseVerdict, FlagVerdict, MissedFinding
    from neurotriage.users.models import User
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        readers = list(session.scalars(select(User.id).where(User.username.like("reader%"))))
        uploader = session.scalar(select(User.id).where(User.username == "coordinator"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=300) / n_cases
    cases, jobs, results, flags, flag_verdicts, case_verdicts, findings, audit = [], [], [], [], [], [], [], []
    job_id = result_id = flag_id = 0
    for case_id in range(1, n_cases + 1):
        uploaded = start + step * case_id
        claimed = rng.random() < 0.01
        cases.append(dict(
            id=case_id, label=f"STUDY-{case_id:06d} T1", sequence=rng.choice(("t1", "flair")), scan_key=f"scans/{case_id}",
            content_sha256=uuid.uuid4().hex * 2, uploaded_by_id=uploader, uploaded_at=uploaded,
            claimed_by_id=rng.choice(readers) if claimed else None,
            claimed_until=uploaded + timedelta(days=400) if claimed else None, source_format="nifti", dicom_meta={},
        ))
        runs = 2 if rng.random() < 0.05 else 1
        for run in range(runs):
            job_id += 1
            # The newest run of a case still in the queue: the last few hundred uploads.
            pending = case_id > n_cases - 200 and run == runs - 1
            status = "queued" if pending else ("failed" if rng.random() < 0.02 else "succeeded")
            jobs.append(dict(
                id=job_id, case_id=case_id, status=status, progress=0 if pending else 100, stage=None, attempts=1,
                error="The scan is not skull-stripped." if status == "failed" else None, model_profile="fast",
                screening="lesions", created_at=uploaded, started_at=None if pending else uploaded,
                finished_at=None if pending else uploaded + timedelta(seconds=rng.uniform(20, 60)),
            ))
            if status != "succeeded":
                continue
            result_id += 1
            triage, priority = rng.choices([(t, p) for t, p, _ in TRIAGES], weights=[w for _, _, w in TRIAGES])[0]
            n_flags = 0 if triage in ("routine", "rescan") else rng.randint(1, 5)
            results.append(dict(
                id=result_id, job_id=job_id, case_id=case_id, screening="lesions", score=rng.random() * 0.01,
                mean_error=rng.random() * 0.01, mask_volume_mm3=rng.random() * 5000, triage=triage, priority=priority,
                threshold=0.05, passes=104, seconds=40.0, model_name="itermask3d-fast-t1", model_version="bench",
                model_trained=True, min_flag_mm3=120.0, min_peak_ratio=0.25, weak_regions=[], model_validation=None,
                files={"anomaly_map": "m", "anomaly_mask": "k", "reconstruction": "r"},
                quality_issues=[{"kind": "noise", "message": "Heavy noise."}] if triage == "rescan" else [],
                created_at=uploaded,
            ))
            for label in range(1, n_flags + 1):
                flag_id += 1
                flags.append(dict(
                    id=flag_id, result_id=result_id, label=label, voxel_count=200, volume_mm3=1600.0,
                    centroid_mm=[1.0, 2.0, 3.0], centroid_voxel=[40, 50, 60], anchor_mm=[1.0, 2.0, 3.0],
                    bbox_voxel=[[35, 45, 55], [45, 55, 65]], mean_anomaly=0.4, max_anomaly=0.9,
                ))
                for reader in rng.sample(readers, rng.choice((0, 1, 1, 2))):
                    verdict = rng.choice(("accept", "reject", "unsure"))
                    flag_verdicts.append(dict(
                        flag_id=flag_id, reviewer_id=reader, verdict=verdict, updated_at=uploaded + timedelta(hours=2),
                    ))
                    audit.append(dict(
                        at=uploaded + timedelta(hours=2), actor_id=reader, action="flag.verdict", case_id=case_id,
                        detail={"flag_id": flag_id, "verdict": verdict, "previous": None, "version": 1},
                        client_ip="10.0.0.1",
                    ))
        for reader in rng.sample(readers, rng.choice((0, 1, 1, 2))):
            verdict = rng.choice(("normal", "abnormal", "uncertain"))
            case_verdicts.append(dict(
                case_id=case_id, reviewer_id=reader, verdict=verdict, result_id=result_id or None,
                created_at=uploaded + timedelta(hours=3), updated_at=uploaded + timedelta(hours=3),
            ))
            audit.append(dict(
                at=uploaded + timedelta(hours=3), actor_id=reader, action="case.verdict", case_id=case_id,
                detail={"verdict": verdict, "previous": None, "version": 1}, client_ip="10.0.0.1",
            ))
        if rng.random() < 0.02:
            findings.append(dict(case_id=case_id, reviewer_id=rng.choice(readers), point_mm=[0.0, 0.0, 0.0],
                                 radius_mm=5.0, created_at=uploaded + timedelta(hours=3)))
        for k in range(audit_per_case):
            audit.append(dict(
                at=uploaded + timedelta(minutes=k), actor_id=rng.choice(readers), action=rng.choice(ACTIONS),
                case_id=case_id, detail={}, client_ip="10.0.0.1",
            ))
    tables = ((Case, cases), (Job, jobs), (Result, results), (Flag, flags), (FlagVerdict, flag_verdicts),
              (CaseVerdict, case_verdicts), (MissedFinding, findings), (AuditEvent, audit))
    with engine.begin() as connection:
        for model, rows in tables:
            for offset in range(0, len(rows), 5000):
                connection.execute(insert(model), rows[offset:offset + 5000])
        for table in ("cases", "jobs", "results", "flags"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        connection.exec_driver_sql("ANALYZE")
    return {model.__tablename__: len(rows) for model, rows in tables}


class StatementCounter:
    """Counts the SQL statements the engine sends while ``active``."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        from sqlalchemy import event

        self.count = 0
        self.active = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:  # type: ignore[no-untyped-def]
        if self.active:
            self.count += 1


def measure(call: Callable[[], object], counter: StatementCounter, repeats: int) -> dict[str, float]:
    call()  # warm-up: first-use imports and plan caches are not what a reader waits for every time
    times, statements, size = [], 0, 0
    for _ in range(repeats):
        counter.count, counter.active = 0, True
        began = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - began)
        counter.active = False
        statements = counter.count
        if response.status_code != 200:  # type: ignore[attr-defined]
            raise SystemExit(f"{response.request.url} answered {response.status_code}: {response.text[:300]}")  # type: ignore[attr-defined]
        size = len(response.content)  # type: ignore[attr-defined]
    ordered = sorted(times)
    return {
        "median_ms": 1000 * statistics.median(ordered),
        "p90_ms": 1000 * ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
        "statements": statements,
        "kib": size / 1024,
    }


def endpoints(n_cases: int) -> list[tuple[str, str]]:
    middle = n_cases // 2
    return [
        ("worklist, default (most urgent first, 25 rows)", "/api/cases"),
        ("worklist, 100 rows", "/api/cases?page_size=100"),
        ("worklist, last page", f"/api/cases?page={max(1, n_cases // 25)}"),
        ("worklist, newest first", "/api/cases?sort=uploaded_at"),
        ("worklist, flagged and unreviewed", "/api/cases?flagged=true&unreviewed=true"),
        ("worklist, not read by me", "/api/cases?unread_by_me=true"),
        ("worklist, by score", "/api/cases?sort=score"),
        ("worklist, triage rescan", "/api/cases?triage=rescan"),
        ("worklist, label search", f"/api/cases?q=STUDY-{middle:06d}"),
        ("worklist, my claims", "/api/cases?mine=true"),
        ("case page", f"/api/cases/{middle}"),
        ("case runs", f"/api/cases/{middle}/runs"),
        ("audit trail, newest 50", "/api/audit"),
        ("audit trail, one case", f"/api/audit?case_id={middle}"),
        ("audit trail, action prefix", "/api/audit?action=case.verdict"),
        ("audit trail, username part", "/api/audit?username=reader2"),
        ("statistics", "/api/stats"),
        ("export, CSV (every case)", "/api/export.csv"),
        ("export, JSON (every case)", "/api/export.json"),
        ("users", "/api/users"),
    ]


def run(n_cases: int, audit_per_case: int, repeats: int, report: Path, seed_value: int, keep: bool) -> None:
    db_name = f"nt_bench_api_{uuid.uuid4().hex[:8]}"
    _environment(db_name)
    create_database(db_name)
    try:
        from fastapi.testclient import TestClient
        from neurotriage.db import get_engine, get_sessionmaker
        from neurotriage.main import create_app
        from neurotriage.migrate import upgrade_to_head
        from neurotriage.users.service import create_user

        upgrade_to_head(os.environ["NEUROTRIAGE_DATABASE_URL"])
        engine = get_engine()
        with get_sessionmaker()() as session:
            create_user(session, "coordinator", PASSWORD, ["coordinator", "admin"])
            for k in range(1, 7):
                create_user(session, f"reader{k}", PASSWORD, ["clinician"])
            session.commit()
        began = time.perf_counter()
        counts = seed(engine, n_cases, audit_per_case, random.Random(seed_value))
        seeded_s = time.perf_counter() - began
        counter = StatementCounter(engine)
        rows = []
        with TestClient(create_app()) as client:
            signed_in = client.post("/api/auth/login", json={"username": "coordinator", "password": PASSWORD})
            if signed_in.status_code != 200:
                raise SystemExit(f"sign-in failed: {signed_in.status_code} {signed_in.text[:200]}")
            for name, path in endpoints(n_cases):
                rows.append((name, path, measure(lambda p=path: client.get(p), counter, repeats)))
                print(f"{name}: {rows[-1][2]['median_ms']:.0f} ms, {rows[-1][2]['statements']} statements", flush=True)
        engine.dispose()
    finally:
        if keep:
            print(f"database kept for EXPLAIN: {database_url(db_name)}")
        else:
            drop_database(db_name)
    write_report(report, rows, counts, seeded_s, repeats, audit_per_case)


def write_report(report: Path, rows, counts: dict[str, int], seeded_s: float, repeats: int,  # type: ignore[no-untyped-def]
                 audit_per_case: int) -> None:
    lines = [
        "# API read endpoints on a site's worth of cases",
        "",
        f"`scripts/bench_api.py --cases {counts['cases']} --audit-per-case {audit_per_case} --repeats {repeats}` on "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} CPUs, PostgreSQL on the same machine, "
        f"the API in-process (no network; a coordinator signed in). Seeded in {seeded_s:.0f} s: "
        + ", ".join(f"{n} {t}" for t, n in counts.items()) + ".",
        "",
        "Times are the whole request through the app, median and 90th percentile of the repeats after one warm-up; "
        "statements are the SQL statements one call sends (session check and audit row included).",
        "",
        "| endpoint | path | median ms | p90 ms | SQL statements | response KiB |",
        "|---|---|---|---|---|---|",
    ]
    for name, path, m in rows:
        lines.append(f"| {name} | `{path}` | {m['median_ms']:.0f} | {m['p90_ms']:.0f} | {m['statements']} | "
                     f"{m['kib']:.0f} |")
    report.write_text("\n".join(lines) + "\n")
    print(f"report: {report}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--audit-per-case", type=int, default=20,
                        help="audit rows per case besides its verdicts' (views, downloads, claims)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, default=REPO / "backend" / "BENCHMARK-api.md")
    parser.add_argument("--keep", action="store_true", help="keep the database (to read query plans); drop it by hand")
    args = parser.parse_args()
    if args.cases < 100 or args.repeats < 1 or args.audit_per_case < 0:
        parser.error("--cases must be at least 100, --repeats at least 1 and --audit-per-case not negative")
    run(args.cases, args.audit_per_case, args.repeats, args.report, args.seed, args.keep)


if __name__ == "__main__":
    main()

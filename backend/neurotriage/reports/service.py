"""Statistics and exports for study coordinators, computed from verdicts, results and jobs."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.jobs.models import Flag, Job, Result, Screening
from neurotriage.reviews.models import CaseVerdict, FlagVerdict
from neurotriage.users.models import User

FLAG_VERDICTS = ("accept", "reject", "unsure")
CASE_VERDICTS = ("normal", "abnormal", "artefact_rescan", "uncertain")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "median_s": statistics.median(ordered),
        "mean_s": statistics.fmean(ordered),
        "p90_s": ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))],
    }


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Agreement between two readers beyond chance; None when undefined (no pairs, or one category only)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


Reads = dict[int, dict[int, str]]  # item (case or flag id) -> reader id -> verdict
# The same, with None for a reader whose first verdict on the item was not independent (reviews.independence).
FirstReads = dict[int, dict[int, str | None]]


def first_reads(session: Session) -> tuple[FirstReads, FirstReads]:
    """Each reader's first saved verdict per case and per flag, from the audit trail (append-only, written with the
    verdict itself). A clinician reads blind until their own case verdict is in, so the first save is the
    independent read; a later edit may follow the other readers' verdicts, which agreement must not count. A first
    verdict given with another reader's already in view (its event says ``independent: false``) is None: it is
    no independent read at all. Events from before that field count as independent, as they always did."""
    cases: FirstReads = defaultdict(dict)
    flags: FirstReads = defaultdict(dict)
    # A few fields of each detail, read by the database: decoding every verdict event's whole detail took seconds
    # on a site's trail (scripts/bench_api.py).
    for action, reader, case_id, flag, verdict, independent in session.execute(
        select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.case_id, AuditEvent.detail["flag_id"].as_integer(),
               AuditEvent.detail["verdict"].as_string(), AuditEvent.detail["independent"].as_boolean())
        .where(AuditEvent.action.in_(("case.verdict", "flag.verdict")), AuditEvent.actor_id.is_not(None))
        .order_by(AuditEvent.id)
    ):
        item = case_id if action == "case.verdict" else flag
        if verdict is not None and item is not None:
            (cases if action == "case.verdict" else flags)[item].setdefault(
                reader, None if independent is False else verdict)
    return cases, flags


def _as_first_read(current: Reads, first: FirstReads) -> tuple[Reads, int, int]:
    """The current verdicts with each replaced by the reader's first (where the trail has it), how many differ
    from it (revised since), and how many are left out because their first read was not independent."""
    reads: Reads = {}
    revised = left_out = 0
    for item, readers in current.items():
        reads[item] = {}
        for reader, verdict in readers.items():
            original = first.get(item, {}).get(reader, verdict)
            if original is None:
                left_out += 1
                continue
            revised += original != verdict
            reads[item][reader] = original
    return reads, revised, left_out


def _agreement(first: tuple[Reads, int, int]) -> dict[str, Any]:
    """Pairwise agreement over items read by two or more reviewers (every pair of readers counts), on independent
    first reads."""
    groups, revised, left_out = first
    pairs = [(a, b) for readers in groups.values() if len(readers) > 1 for a, b in combinations(readers.values(), 2)]
    return {
        "revised": revised,
        "not_independent": left_out,
        "items_with_multiple_readers": sum(1 for readers in groups.values() if len(readers) > 1),
        "pairs": len(pairs),
        "percent_agreement": (100.0 * sum(a == b for a, b in pairs) / len(pairs)) if pairs else None,
        "cohen_kappa": cohen_kappa(pairs),
    }


def compute_stats(session: Session) -> dict[str, Any]:
    flag_rows = session.execute(
        select(FlagVerdict.flag_id, FlagVerdict.reviewer_id, FlagVerdict.verdict, User.username, Result.model_name,
               Result.model_version)
        .join(User, User.id == FlagVerdict.reviewer_id)
        .join(Flag, Flag.id == FlagVerdict.flag_id)
        .join(Result, Result.id == Flag.result_id)
    ).all()
    by_model: dict[str, Counter[str]] = defaultdict(Counter)
    by_reviewer: dict[str, Counter[str]] = defaultdict(Counter)
    per_flag: dict[int, dict[int, str]] = defaultdict(dict)  # flag -> reader -> verdict, for agreement
    for flag_id, reviewer_id, verdict, username, model_name, model_version in flag_rows:
        by_model[f"{model_name} {model_version}"][verdict] += 1
        by_reviewer[username][verdict] += 1
        per_flag[flag_id][reviewer_id] = verdict

    case_rows = session.execute(
        select(CaseVerdict.case_id, CaseVerdict.reviewer_id, CaseVerdict.verdict, CaseVerdict.created_at)
    ).all()
    verdict_counts = Counter(verdict for _, _, verdict, _ in case_rows)
    per_case: dict[int, dict[int, str]] = defaultdict(dict)
    first_verdict: dict[int, datetime] = {}
    for case_id, reviewer_id, verdict, created_at in case_rows:
        per_case[case_id][reviewer_id] = verdict
        if case_id not in first_verdict or created_at < first_verdict[case_id]:
            first_verdict[case_id] = created_at

    uploads = dict(session.execute(select(Case.id, Case.uploaded_at)).all())
    processing = [
        s
        for s in (_seconds(start, end) for start, end in session.execute(
            select(Job.created_at, Job.finished_at).where(Job.status == "succeeded")
        ))
        if s is not None
    ]
    first_cases, first_flags = first_reads(session)
    return {
        "flags_by_model": [{"model": model, **{v: counts[v] for v in FLAG_VERDICTS}} for model, counts in sorted(by_model.items())],
        "flags_by_reviewer": [
            {"reviewer": name, **{v: counts[v] for v in FLAG_VERDICTS}} for name, counts in sorted(by_reviewer.items())
        ],
        "case_verdicts": {v: verdict_counts[v] for v in CASE_VERDICTS},
        "turnaround": {
            "upload_to_first_verdict": _summary(
                [s for case_id, at in first_verdict.items() if (s := _seconds(uploads.get(case_id), at)) is not None]
            ),
            "queue_to_result": _summary(processing),
        },
        "agreement": {
            "case_verdicts": _agreement(_as_first_read(per_case, first_cases)),
            "flag_verdicts": _agreement(_as_first_read(per_flag, first_flags)),
        },
        "cases": len(uploads),
    }


EXPORT_COLUMNS = (
    "case_id", "label", "sequence", "uploaded_at", "status", "failure", "result_run", "result_run_number", "screening",
    "model", "score",
    "triage", "quality",
    "flags", "weak_regions", "min_flag_ml", "flags_accepted", "flags_rejected", "flags_unsure", "case_verdicts",
    "readers_disagree", "first_verdict_at", "turnaround_s",
)


def export_rows(session: Session) -> list[dict[str, Any]]:
    """One row per case: its newest run's status, its newest result and the reviewers' verdicts.

    Plain columns and counts, not ORM objects: an export covers every case of the site, and building a Case, a Job,
    a Result and its Flags for each made it take 8.5 s at 50,000 cases (scripts/bench_api.py)."""
    from neurotriage.cases.service import case_rows

    flags_per_result = (
        select(Flag.result_id, func.count().label("flags")).group_by(Flag.result_id).subquery()
    )
    rows = session.execute(
        case_rows()
        .with_only_columns(
            Case.id, Case.label, Case.sequence, Case.uploaded_at, Job.status, Job.failure, Result.id, Result.job_id,
            Result.screening, Result.model_name, Result.model_version, Result.score, Result.triage,
            Result.quality_issues, Result.weak_regions, Result.min_flag_mm3,
            func.coalesce(flags_per_result.c.flags, 0),
        )
        .outerjoin(flags_per_result, flags_per_result.c.result_id == Result.id)
        .order_by(Case.id)
    ).all()
    flag_counts: dict[int, Counter[str]] = defaultdict(Counter)
    for result_id, verdict in session.execute(
        select(Flag.result_id, FlagVerdict.verdict).join(FlagVerdict, FlagVerdict.flag_id == Flag.id)
    ):
        flag_counts[result_id][verdict] += 1
    case_verdicts: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
    for case_id, username, verdict, created_at in session.execute(
        select(CaseVerdict.case_id, User.username, CaseVerdict.verdict, CaseVerdict.created_at)
        .join(User, User.id == CaseVerdict.reviewer_id)
        .order_by(CaseVerdict.created_at)
    ):
        case_verdicts[case_id].append((username, verdict, created_at))
    # Each run's number within its case, as the case page counts them (in the order requested: created, then id).
    run_numbers: dict[int, int] = {}
    per_case: Counter[int] = Counter()
    for job_id, job_case in session.execute(select(Job.id, Job.case_id).order_by(Job.case_id, Job.created_at, Job.id)):
        per_case[job_case] += 1
        run_numbers[job_id] = per_case[job_case]
    out = []
    for (case_id, label, sequence, uploaded_at, status, failure, result_id, result_run, screening, model_name,
         model_version, score, triage, quality_issues, weak_regions, min_flag_mm3, n_flags) in rows:
        counts = flag_counts[result_id] if result_id is not None else Counter()
        verdicts = case_verdicts.get(case_id, [])
        first = verdicts[0][2] if verdicts else None
        if result_id is None:
            flags, weak = 0, 0
        elif screening == Screening.checks:  # never screened for lesions: unknown, not none found
            flags, weak = None, None
        else:
            flags, weak = n_flags, len(weak_regions or [])
        has_result = result_id is not None
        out.append(
            {
                "case_id": case_id,
                "label": label,
                "sequence": sequence,
                "uploaded_at": uploaded_at.isoformat(),
                "status": status,
                # Why the newest run failed (the case page's failure kinds), so an audit of failures needs no clicks.
                "failure": failure if status == "failed" else None,
                # The run the result columns come from: an earlier one when the newest has not succeeded.
                "result_run": result_run,
                "result_run_number": run_numbers.get(result_run) if result_run is not None else None,
                # "checks": the rescan checks alone (no model reads the sequence); score and flags mean nothing there.
                "screening": screening,
                "model": f"{model_name} {model_version}" if has_result else None,
                "score": score,
                "triage": triage,
                # The engine's acquisition problems (reasons to rescan), one sentence each.
                "quality": "; ".join(issue["message"] for issue in quality_issues) if has_result else "",
                "flags": flags,
                # Regions the engine left out of the flags as far weaker than the strongest: listed on the case
                # page, and what an audit of a missed finding looks at after the flags.
                "weak_regions": weak,
                # The run's smallest reported region: an audit of a missed finding needs to know it.
                "min_flag_ml": None if min_flag_mm3 is None else min_flag_mm3 / 1000.0,
                "flags_accepted": counts["accept"],
                "flags_rejected": counts["reject"],
                "flags_unsure": counts["unsure"],
                "case_verdicts": "; ".join(f"{name}: {verdict}" for name, verdict, _ in verdicts),
                "readers_disagree": len({verdict for _, verdict, _ in verdicts}) > 1,
                "first_verdict_at": first.isoformat() if first else None,
                "turnaround_s": _seconds(uploaded_at, first),
            }
        )
    return out

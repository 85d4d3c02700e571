"""Turning case, job and result rows into the API's response models."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from neurotriage.cases.models import Case
from neurotriage.cases.schemas import (
    CaseDetail,
    CaseSummary,
    CaseVerdictOut,
    FlagOut,
    FlagVerdictOut,
    MissedFindingOut,
    MissedInTesting,
    ModelInfo,
    PatientScanOut,
    QualityIssueOut,
    ReviewState,
    WeakRegionOut,
)
from neurotriage.cases.retention import delete_after
from neurotriage.cases.service import same_patient_rows
from neurotriage.jobs.models import Flag, Job, JobStatus, Result
from neurotriage.jobs.service import retry_can_help
from neurotriage.reviews.case_review import live_claim
from neurotriage.reviews.independence import disputed_cases, reads_blind
from neurotriage.reviews.models import (
    CaseVerdict,
    FlagVerdict,
    MissedFinding,
    ReviewTime,
)
from neurotriage.users.models import User

Row = tuple[Case, Job, Result | None]


def review_states(session: Session, case_ids: Sequence[int], reviewer_id: int | None = None) -> dict[int, ReviewState]:
    """reviewed: someone (``reviewer_id``, where given) gave a case verdict; in_progress: only flag verdicts so far;
    else unreviewed."""
    case_verdicts = select(CaseVerdict.case_id).where(CaseVerdict.case_id.in_(case_ids))
    flag_verdicts = (
        select(Result.case_id)
        .join(Flag, Flag.result_id == Result.id)
        .join(FlagVerdict, FlagVerdict.flag_id == Flag.id)
        .where(Result.case_id.in_(case_ids))
    )
    if reviewer_id is not None:
        case_verdicts = case_verdicts.where(CaseVerdict.reviewer_id == reviewer_id)
        flag_verdicts = flag_verdicts.where(FlagVerdict.reviewer_id == reviewer_id)
    with_case_verdict = set(session.scalars(case_verdicts))
    with_flag_verdict = set(session.scalars(flag_verdicts))
    return {
        case_id: "reviewed" if case_id in with_case_verdict else "in_progress" if case_id in with_flag_verdict else "unreviewed"
        for case_id in case_ids
    }


def _usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())


def case_summaries(session: Session, rows: Sequence[Row], viewer: User) -> list[CaseSummary]:
    states = review_states(session, [case.id for case, _, _ in rows])
    mine = review_states(session, [case.id for case, _, _ in rows], reviewer_id=viewer.id)
    ids = [case.id for case, _, _ in rows]
    disputed = set(session.scalars(disputed_cases().where(CaseVerdict.case_id.in_(ids)))) if ids else set()
    # a blind reader is told only of the cases they have read (reviews.independence.disagreement_visible)
    if reads_blind(viewer):
        disputed = {case_id for case_id in disputed if mine[case_id] == "reviewed"}
    claims = {case.id: live_claim(case) for case, _, _ in rows}
    names = _usernames(session, {holder for holder, _ in claims.values() if holder is not None})
    summaries = []
    for case, job, result in rows:
        holder, until = claims[case.id]
        summaries.append(
            CaseSummary(
                id=case.id,
                label=case.label,
                sequence=case.sequence,
                uploaded_at=case.uploaded_at,
                status=job.status,  # type: ignore[arg-type]
                failure=job.failure if job.status == JobStatus.failed else None,  # type: ignore[arg-type]
                progress=job.progress,
                stage=job.stage,
                score=result.score if result else None,
                triage=result.triage if result else None,  # type: ignore[arg-type]
                rescan_recommended=bool(result.quality_issues) if result else False,
                flag_count=len(result.flags) if result else 0,
                reviewed=states[case.id] == "reviewed",
                review_state=states[case.id],
                my_review_state=mine[case.id],
                readers_disagree=case.id in disputed,
                claimed_by=names.get(holder) if holder is not None else None,
                claimed_until=until,
                model=ModelInfo(name=result.model_name, version=result.model_version, trained=result.model_trained)
                if result
                else None,
                screening=result.screening if result else None,  # type: ignore[arg-type]
                missed_in_testing=missed_in_testing(result.model_validation) if result else None,
                result_run_id=result.job_id if result else None,
            )
        )
    return summaries


def missed_in_testing(validation: dict | None) -> MissedInTesting | None:
    """Lesions of 1 cm or more (tumours and cavities; sets of small lesions are counted apart) the model missed in
    its benchmark, as the case page's validation panel counts them."""
    if not validation:
        return None
    large = [row for row in validation.get("lesions", []) if (row.get("diameter_mm") or 0) >= 10]
    if not large:
        return None
    total = sum(int(row["total"]) for row in large)
    return MissedInTesting(missed=total - sum(int(row["found"]) for row in large), total=total)


def verdict_out(verdict: FlagVerdict) -> FlagVerdictOut:
    return FlagVerdictOut(
        verdict=verdict.verdict,  # type: ignore[arg-type]
        reason=verdict.reason,
        comment=verdict.comment,
        reviewer=verdict.reviewer.username,
        updated_at=verdict.updated_at,
        version=verdict.version,
    )


def case_verdict_out(verdict: CaseVerdict) -> CaseVerdictOut:
    return CaseVerdictOut(
        verdict=verdict.verdict,  # type: ignore[arg-type]
        comment=verdict.comment,
        reviewer=verdict.reviewer.username,
        updated_at=verdict.updated_at,
        version=verdict.version,
    )


def finding_out(finding: MissedFinding) -> MissedFindingOut:
    return MissedFindingOut(
        id=finding.id,
        point_mm=finding.point_mm,
        point_voxel=finding.point_voxel,
        radius_mm=finding.radius_mm,
        comment=finding.comment,
        reviewer=finding.reviewer.username,
        created_at=finding.created_at,
    )


def flag_out(flag: Flag, verdict: FlagVerdict | None, others: Sequence[FlagVerdict] = ()) -> FlagOut:
    return FlagOut(
        id=flag.id,
        label=flag.label,
        voxel_count=flag.voxel_count,
        volume_ml=flag.volume_mm3 / 1000.0,
        centroid_mm=flag.centroid_mm,
        centroid_voxel=flag.centroid_voxel,
        anchor_mm=flag.anchor_mm,
        bbox_voxel=flag.bbox_voxel,
        mean_anomaly=flag.mean_anomaly,
        max_anomaly=flag.max_anomaly,
        verdict=verdict_out(verdict) if verdict else None,
        other_verdicts=[verdict_out(other) for other in others],
    )


def same_patient_out(rows: Sequence[tuple[Case, Job, Result | None]]) -> list[PatientScanOut]:
    return [
        PatientScanOut(id=case.id, label=case.label, sequence=case.sequence, uploaded_at=case.uploaded_at,
                       acquisition_date=(case.dicom_meta or {}).get("acquisition_date"), status=job.status,
                       triage=result.triage if result else None)  # type: ignore[arg-type]
        for case, job, result in rows
    ]


def case_detail(
    session: Session, viewer: User, case: Case, job: Job, result: Result | None, *, retention_days: int | None
) -> CaseDetail:
    """The case as ``viewer`` sees it: their own verdicts to edit, and the other readers' beside them (a coordinator
    auditing the case, or a second reader, must see that it was read and what was decided) unless the viewer is a
    clinician who has not given a case verdict yet, who is told how many others read it (blind reading)."""
    flags: list[FlagOut] = []
    others_by_flag: dict[int, list[FlagVerdict]] = {}
    if result is not None:
        mine: dict[int, FlagVerdict] = {}
        for v in session.scalars(
            select(FlagVerdict)
            .join(Flag, Flag.id == FlagVerdict.flag_id)
            .where(Flag.result_id == result.id)
            .order_by(FlagVerdict.id)
        ):
            if v.reviewer_id == viewer.id:
                mine[v.flag_id] = v
            else:
                others_by_flag.setdefault(v.flag_id, []).append(v)
        flags = [flag_out(flag, mine.get(flag.id), others_by_flag.get(flag.id, [])) for flag in result.flags]
    # A re-run makes flags of its own; the viewer's verdicts on an earlier run's flags stay with that run, and the
    # page says so, lest a reader think their reading was lost.
    earlier_run_verdicts = session.scalar(
        select(func.count()).select_from(FlagVerdict).join(Flag, Flag.id == FlagVerdict.flag_id)
        .join(Result, Result.id == Flag.result_id)
        .where(Result.case_id == case.id, FlagVerdict.reviewer_id == viewer.id,
               Result.id != result.id if result is not None else true())
    ) or 0
    case_verdicts = session.scalars(
        select(CaseVerdict).where(CaseVerdict.case_id == case.id).order_by(CaseVerdict.id)
    ).all()
    my_verdict = next((v for v in case_verdicts if v.reviewer_id == viewer.id), None)
    all_findings = session.scalars(
        select(MissedFinding).where(MissedFinding.case_id == case.id).order_by(MissedFinding.id)
    ).all()
    other_readers = {
        v.reviewer_id for v in [*case_verdicts, *all_findings] if v.reviewer_id != viewer.id
    } | {v.reviewer_id for flag_verdicts in others_by_flag.values() for v in flag_verdicts}
    # Blind reading (reads_blind): the others' verdicts and marked findings once the viewer's own case verdict is in.
    hidden = reads_blind(viewer) and my_verdict is None and bool(other_readers)
    if hidden:
        flags = [flag.model_copy(update={"other_verdicts": []}) for flag in flags]
    findings = [finding for finding in all_findings if not hidden or finding.reviewer_id == viewer.id]
    seconds = session.scalar(
        select(ReviewTime.seconds).where(ReviewTime.case_id == case.id, ReviewTime.reviewer_id == viewer.id)
    )
    summary = case_summaries(session, [(case, job, result)], viewer)[0]
    same_rows, more_of_patient = same_patient_rows(session, case)
    return CaseDetail(
        **summary.model_dump(),
        error=job.error,
        retry_can_help=retry_can_help(job),
        looks_like=job.looks_like if job.status == JobStatus.failed else None,  # type: ignore[arg-type]
        attempts=job.attempts,
        source_format=case.source_format,
        dicom_meta=case.dicom_meta or {},
        same_patient=same_patient_out(same_rows),
        same_patient_more=more_of_patient,
        delete_after=delete_after(case.uploaded_at, retention_days),
        flags=flags,
        quality=[QualityIssueOut.model_validate(issue) for issue in result.quality_issues] if result else [],
        case_verdict=case_verdict_out(my_verdict) if my_verdict else None,
        other_case_verdicts=[] if hidden else [case_verdict_out(v) for v in case_verdicts if v.reviewer_id != viewer.id],
        other_readers=len(other_readers),
        other_verdicts_hidden=hidden,
        findings=[finding_out(finding) for finding in findings],
        earlier_run_verdicts=earlier_run_verdicts,
        review_seconds=float(seconds or 0.0),
        threshold=result.threshold if result else None,
        passes=result.passes if result else None,
        seconds=result.seconds if result else None,
        min_flag_ml=result.min_flag_ml if result else None,
        min_peak_ratio=result.min_peak_ratio if result else None,
        weak_regions=[
            WeakRegionOut(volume_ml=r["volume_mm3"] / 1000.0, centroid_mm=r["centroid_mm"], anchor_mm=r.get("anchor_mm"),
                          peak_ratio=r["peak_ratio"])
            for r in (result.weak_regions if result else [])
        ],
        model_validation=result.model_validation if result else None,
    )

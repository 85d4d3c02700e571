"""Whether a reader's verdict is an independent read: the statistics' agreement and kappa count only those.

A clinician reads a case blind until their own case verdict is in (``reads_blind``, ``blind_case_ids``); a
coordinator who also reads, or a clinician after their case verdict (a flag of a later run, say), sees the other
readers' verdicts. A verdict given then, with another reader's verdict already on the case, may follow it, so the
audit row of each verdict says whether it was independent (``reads_independently``) and agreement leaves out the
first reads that were not.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, distinct, exists, func, or_, select, true
from sqlalchemy.orm import Session

from neurotriage.jobs.models import Flag, Result
from neurotriage.reviews.models import CaseVerdict, FlagVerdict
from neurotriage.users.models import Role, User

# Audit actions whose detail holds a reader's verdict (the verdict given and the one it replaced).
VERDICT_ACTIONS = ("flag.verdict", "case.verdict")


def reads_blind(viewer: User) -> bool:
    """Whether ``viewer`` reads cases blind: a clinician (not also a coordinator, who audits) sees the other readers'
    verdicts on a case only once their own case verdict is in, so that each read stays independent (the
    statistics' agreement and kappa assume it)."""
    return viewer.has_role(Role.clinician) and not viewer.has_role(Role.coordinator)


def blind_case_ids(session: Session, viewer: User, case_ids: set[int]) -> set[int]:
    """The cases among ``case_ids`` on which ``viewer`` must not see other readers' verdicts yet."""
    if not case_ids or not reads_blind(viewer):
        return set()
    decided = session.scalars(
        select(CaseVerdict.case_id).where(CaseVerdict.reviewer_id == viewer.id, CaseVerdict.case_id.in_(case_ids))
    )
    return case_ids - set(decided)


def reads_independently(session: Session, reader: User, case_id: int) -> bool:
    """Whether a verdict ``reader`` gives on the case now cannot follow another reader's: the case is still blind for
    them, or nobody else has given a verdict on it (on any run's flags, or on the case). Asked before the verdict
    is saved: a first case verdict lifts the blind."""
    if case_id in blind_case_ids(session, reader, {case_id}):
        return True
    others_on_flags = (
        select(FlagVerdict.id).join(Flag, Flag.id == FlagVerdict.flag_id).join(Result, Result.id == Flag.result_id)
        .where(Result.case_id == case_id, FlagVerdict.reviewer_id != reader.id)
    )
    others_on_case = select(CaseVerdict.id).where(CaseVerdict.case_id == case_id, CaseVerdict.reviewer_id != reader.id)
    return not session.scalar(select(or_(exists(others_on_flags), exists(others_on_case))))


def disputed_cases() -> Select[tuple[int]]:
    """The ids of cases whose readers gave different case verdicts (two readers or more, not all alike)."""
    return (select(CaseVerdict.case_id).group_by(CaseVerdict.case_id)
            .having(func.count(distinct(CaseVerdict.verdict)) > 1))


def disagreement_visible(viewer: User, case_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether ``viewer`` may be told the readers of the case disagree: a blind reader learns it only once their
    own case verdict is in, when the others' verdicts show anyway (a ``where`` clause on ``case_id``)."""
    if not reads_blind(viewer):
        return true()
    return exists().where(CaseVerdict.case_id == case_id, CaseVerdict.reviewer_id == viewer.id)

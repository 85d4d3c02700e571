from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from neurotriage.audit.schemas import AuditEventOut, AuditPage
from neurotriage.audit.service import MAX_AUDIT_PAGE, AuditQuery, details_as_seen_by, query_events
from neurotriage.auth.deps import DbSession, require_roles
from neurotriage.core.inputs import DbId, PageNumber, Text, UtcTime
from neurotriage.core.openapi import errors
from neurotriage.users.models import Role, User

router = APIRouter(tags=["audit"])

Auditor = Annotated[User, Depends(require_roles(Role.coordinator, Role.admin))]


@router.get("/audit", response_model=AuditPage, responses=errors(401, 403, 422))
def get_audit(
    session: DbSession,
    user: Auditor,
    username: Annotated[
        Text | None, Query(max_length=64, description="Who did it: part of the username, any case ('cli' finds clin)")
    ] = None,
    case_id: DbId | None = None,
    action: Annotated[
        Text | None,
        Query(max_length=64, description="The start of the action: 'flag.' (or 'flag') for every flag event, "
              "'case.verdict' for that one"),
    ] = None,
    since: Annotated[
        UtcTime | None,
        Query(description="From this time (inclusive, ISO 8601); a time without a zone, or a date alone, is UTC"),
    ] = None,
    until: Annotated[
        UtcTime | None, Query(description="Before this time (ISO 8601); a time without a zone, or a date alone, is UTC")
    ] = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 50,
) -> AuditPage:
    """Who did what to which case, and when; newest first. User ids in the details come with their usernames
    (detail_usernames), and a case with its label for readers who may read cases."""
    rows, total = query_events(
        session,
        AuditQuery(username=username, case_id=case_id, action=action, since=since, until=until, page=page, page_size=page_size),
        # An admin without a reading role cannot open cases, so the trail does not show them case labels either.
        case_labels=user.has_role(Role.clinician, Role.coordinator),
    )
    details = details_as_seen_by(session, user, rows)
    items = [
        AuditEventOut(
            id=row.event.id, at=row.event.at, actor=row.actor, action=row.event.action, case_id=row.event.case_id,
            case_label=row.case_label,
            detail=details[row.event.id],
            detail_usernames=row.detail_usernames,
            client_ip=row.event.client_ip,
        )
        for row in rows
    ]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)

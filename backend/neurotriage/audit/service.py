"""Writing audit events. Callers pass their session so the event commits with the action itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neurotriage.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    case_id: int | None = None,
    client_ip: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, case_id=case_id, client_ip=client_ip, detail=detail)
    session.add(event)
    return event

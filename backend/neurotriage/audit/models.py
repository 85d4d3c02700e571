"""Append-only audit trail: written in the same transaction as the action it records, never updated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neurotriage.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Null for events without a known user (a failed login for an unknown name, the worker).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    # A case number, not a foreign key: the events of a deleted case stay, as the record of what was done to it.
    case_id: Mapped[int | None] = mapped_column(default=None, index=True)
    # Free-form context; never patient identifiers.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)

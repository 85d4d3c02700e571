"""Reviewers' verdicts on flags. Each verdict carries a version so a stale write can be refused."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neurotriage.db import Base, UTCDateTime, utcnow
from neurotriage.users.models import User


class FlagVerdictValue(StrEnum):
    accept = "accept"
    reject = "reject"
    unsure = "unsure"


class FlagVerdict(Base):
    __tablename__ = "flag_verdicts"
    __table_args__ = (UniqueConstraint("flag_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")

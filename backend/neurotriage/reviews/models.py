"""Reviewers' verdicts on flags. Each verdict carries a version so a stale write can be refused."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
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


class CaseVerdictValue(StrEnum):
    normal = "normal"
    abnormal = "abnormal"
    artefact_rescan = "artefact_rescan"
    uncertain = "uncertain"


class CaseVerdict(Base):
    """A reviewer's reading of the whole case; one per reviewer, versioned like flag verdicts."""

    __tablename__ = "case_verdicts"
    __table_args__ = (UniqueConstraint("case_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    # The model the reviewer saw when deciding, for per-model statistics.
    result_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")


class MissedFinding(Base):
    """Something a reviewer saw that the model did not flag: a point, or a small sphere around it."""

    __tablename__ = "missed_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    point_mm: Mapped[list[float]] = mapped_column(JSON)
    point_voxel: Mapped[list[int] | None] = mapped_column(JSON, default=None)
    radius_mm: Mapped[float] = mapped_column(Float, default=0.0)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")


class ReviewTime(Base):
    """Seconds a reviewer spent with a case open, accumulated from the app's heartbeats."""

    __tablename__ = "review_times"
    __table_args__ = (UniqueConstraint("case_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

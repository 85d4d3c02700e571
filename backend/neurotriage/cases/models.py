"""An uploaded scan. The stored copy is de-identified; patient identifiers never reach this table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neurotriage.db import Base, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200), index=True)
    sequence: Mapped[str] = mapped_column(String(16))
    # Storage key of the de-identified NIfTI; never a path chosen by the uploader.
    scan_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the uploaded bytes, to detect the same scan uploaded twice.
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

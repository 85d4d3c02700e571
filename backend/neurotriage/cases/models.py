"""An uploaded scan. The stored copy is de-identified; patient identifiers never reach this table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neurotriage.db import Base, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"
    # SQLite (the embedded mode) would otherwise hand a deleted row's id to the next one (see migration 0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200), index=True)
    sequence: Mapped[str] = mapped_column(String(16))
    # Storage key of the de-identified NIfTI; never a path chosen by the uploader.
    scan_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the uploaded bytes, to detect the same scan uploaded twice; for DICOM, of that hash and the chosen
    # series' key (one study zip holds several series to choose in turn; series_key refuses the same one again).
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # A reviewer's claim keeps two people from reading the same case at once; it lapses at claimed_until.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # From DICOM uploads: de-identified study/series facts clinicians need (modality, sequence name, scanner,
    # acquisition date per settings) and a keyed pseudonym linking series of the same patient.
    source_format: Mapped[str] = mapped_column(String(16), default="nifti")
    # Keyed hash of the SeriesInstanceUID (the UID itself is an identifier), to detect re-uploads.
    series_key: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    patient_pseudonym: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    dicom_meta: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

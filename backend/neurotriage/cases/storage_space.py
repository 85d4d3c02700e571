"""How much room the storage has left, in cases, for the admin page: a full disk refuses uploads (507) and fails
the results of runs, so an administrator should see it coming."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neurotriage.cases.models import Case
from neurotriage.core.storage import Storage, case_folder

# The newest cases whose stored size gives the average per case (scan, DICOM bundle, each run's maps).
SAMPLE_CASES = 20
# Low: room for fewer cases than this at the recent average, or less than LOW_SPACE_BYTES free, whichever is more
# (an upload needs room for its spool and its conversion too; one may be up to 512 MiB).
LOW_SPACE_CASES = 500
LOW_SPACE_BYTES = 2 * 1000**3


@dataclass(frozen=True)
class StorageSpace:
    total_bytes: int
    free_bytes: int
    cases: int
    case_bytes: float | None  # mean bytes stored per case over the newest SAMPLE_CASES; None before the first case
    room_for_cases: int | None
    low: bool

    def notice(self) -> str | None:
        """What the admin page says when the storage is nearly full; None while there is room."""
        if not self.low:
            return None
        room = "" if self.room_for_cases is None else f", room for about {self.room_for_cases} more cases"
        return (f"Storage is nearly full: {_gigabytes(self.free_bytes)} free{room}. When it is full, uploads are "
                "refused and finished runs cannot store their results. Free or add space, or delete cases.")


def _gigabytes(size: float) -> str:
    return f"{size / 1000**3:.1f} GB"


def storage_space(session: Session, storage: Storage) -> StorageSpace:
    total, free = storage.space()
    cases = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    newest = session.scalars(select(Case.id).order_by(Case.id.desc()).limit(SAMPLE_CASES)).all()
    case_bytes = sum(storage.tree_bytes(case_folder(case_id)) for case_id in newest) / len(newest) if newest else None
    room = int(free // case_bytes) if case_bytes else None
    low = free < max(LOW_SPACE_BYTES, LOW_SPACE_CASES * (case_bytes or 0))
    return StorageSpace(total_bytes=total, free_bytes=free, cases=cases, case_bytes=case_bytes, room_for_cases=room,
                        low=low)

"""The admin page's storage figures: free space in bytes and in cases at the recent size per case, a notice before
the disk is full (when uploads would be refused and results lost), and the site's retention period."""

from __future__ import annotations

from pathlib import Path

from neurotriage.cases.storage_space import LOW_SPACE_BYTES, StorageSpace, storage_space
from neurotriage.config import get_settings
from neurotriage.core.storage import LocalStorage
from sqlalchemy.orm import Session

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case


class SmallDisk(LocalStorage):
    """The real folder, on a disk of the given size: the test machine's own disk is whatever it is."""

    def __init__(self, root: Path, total: int, free: int) -> None:
        super().__init__(root)
        self.sizes = (total, free)

    def space(self) -> tuple[int, int]:
        return self.sizes


def test_room_is_counted_in_cases_at_the_size_of_the_newest(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path
) -> None:
    ids = [upload_case(clinician, tmp_path, f"c{i}", seed=i) for i in range(3)]
    per_case = sum(LocalStorage(storage_dir).tree_bytes(f"cases/{i}") for i in ids) / 3
    assert per_case > 1000  # each holds its de-identified scan
    roomy = storage_space(db, SmallDisk(storage_dir, total=10**12, free=10**11))
    assert (roomy.cases, roomy.case_bytes, roomy.room_for_cases) == (3, per_case, int(10**11 // per_case))
    assert not roomy.low and roomy.notice() is None

    nearly_full = storage_space(db, SmallDisk(storage_dir, total=10**12, free=LOW_SPACE_BYTES - 1))
    assert nearly_full.low
    assert nearly_full.notice() == (
        f"Storage is nearly full: 2.0 GB free, room for about {nearly_full.room_for_cases} more cases. When it is "
        "full, uploads are refused and finished runs cannot store their results. Free or add space, or delete cases."
    )


def test_before_the_first_case_only_the_bytes_count() -> None:
    empty = StorageSpace(total_bytes=10**12, free_bytes=10**9, cases=0, case_bytes=None, room_for_cases=None, low=True)
    assert empty.notice() is not None and "room for" not in (empty.notice() or "")


def test_the_admin_reads_the_real_disk_and_the_retention_period(app, admin: ApiClient) -> None:  # type: ignore[no-untyped-def]
    body = admin.get("/api/storage").json()
    assert body["total_bytes"] >= body["free_bytes"] > 0
    assert body["retention_days"] is None  # the default: cases are kept
    assert set(body) == {"total_bytes", "free_bytes", "cases", "case_bytes", "room_for_cases", "notice",
                         "retention_days"}
    app.dependency_overrides[get_settings] = lambda: get_settings().model_copy(update={"retention_days": 90})
    assert admin.get("/api/storage").json()["retention_days"] == 90

"""File storage behind one small interface, so an S3-compatible store can replace the local folder.

Keys are relative POSIX paths chosen by the service (``cases/12/scan.nii.gz``), never by uploaders.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

log = logging.getLogger(__name__)


class Storage(Protocol):
    def put_file(self, key: str, source: Path) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def delete_tree(self, prefix: str) -> bool: ...
    def local_path(self, key: str) -> Path: ...
    def folders(self, prefix: str) -> list[tuple[str, float]]: ...
    def space(self) -> tuple[int, int]: ...
    def tree_bytes(self, prefix: str) -> int: ...


def case_folder(case_id: int) -> str:
    """The key prefix under which every stored file of a case lies: its scan, DICOM bundle and each run's maps."""
    return f"cases/{case_id}"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        pure = PurePosixPath(key)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"invalid storage key {key!r}")
        return self.root.joinpath(*pure.parts)

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy to a temporary name first so a reader never sees half a file.
        partial = target.with_name(target.name + ".partial")
        try:
            shutil.copyfile(source, partial)
            partial.replace(target)
        except BaseException:
            # A full disk leaves part of a file that no row names and nothing would ever remove.
            partial.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_tree(self, prefix: str) -> bool:
        """Remove a folder and everything under it; False, and logged, when some of it is still there (a deleted
        case's scan left behind must not go unnoticed)."""
        path = self._path(prefix)
        shutil.rmtree(path, ignore_errors=True)
        if path.exists():
            log.error("storage: %s could not be removed completely", prefix)
            return False
        return True

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def folders(self, prefix: str) -> list[tuple[str, float]]:
        """The folders directly under ``prefix``: (key, the folder's modification time as a POSIX timestamp, which a
        file put into it directly moves). One stat per folder: housekeeping lists every case's folder."""
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return [(f"{prefix.rstrip('/')}/{entry.name}", entry.stat().st_mtime)
                for entry in sorted(base.iterdir()) if entry.is_dir()]

    def space(self) -> tuple[int, int]:
        """The storage's disk: (total, free) bytes, free as an unprivileged process may use it."""
        existing = self.root  # before the first upload the folder may not exist yet: its disk is its parent's
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        usage = shutil.disk_usage(existing)
        return usage.total, usage.free

    def tree_bytes(self, prefix: str) -> int:
        """Bytes of the files under ``prefix`` (0 when there is none)."""
        base = self._path(prefix)
        return sum(path.stat().st_size for path in base.rglob("*") if path.is_file()) if base.is_dir() else 0


def get_storage() -> Storage:
    from neurotriage.config import get_settings

    return LocalStorage(get_settings().storage_dir)

"""Unpacking the zip files of an upload safely, and zipping the de-identified copy.

Entries are named by number in every message: their file names often carry patient names, and so do the
texts of the zip module's own errors (e.g. "Bad CRC-32 for file ...").
"""

from __future__ import annotations

import lzma
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from neurotriage.core.errors import PayloadTooLarge, Unprocessable

MAX_ZIP_MEMBERS = 5000  # files, across the upload's zips
# Every entry (folders and desktop clutter too): each costs memory and time to list, whether unpacked or not.
# Room for each file, its macOS AppleDouble twin and a folder.
MAX_ZIP_ENTRIES = 3 * MAX_ZIP_MEMBERS

# What operating systems add to the zips they make, never DICOM: macOS Finder's __MACOSX/ folder of
# AppleDouble "._name" files and .DS_Store (any dot-file, as on Unix), Windows Explorer's thumbnail caches.
DESKTOP_CLUTTER_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})

# How an unpacked zip entry is named on disk, so that a later message can still say which entry of
# which zip it was (see dicom._source_labels).
UNPACKED_NAME = re.compile(r"zip(\d+)-entry(\d+)\.dcm")

# What reading a damaged entry raises: bad CRC or header (BadZipFile), bad deflate data (zlib.error),
# bad LZMA data (LZMAError), bad bzip2 data (OSError), a stream that stops short (EOFError).
CORRUPT_ENTRY_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError)
# What zipfile raises for a malformed central directory: a name flagged UTF-8 that is not (UnicodeDecodeError),
# bad sizes or offsets (ValueError, struct.error, OSError), and the rest (BadZipFile).
CORRUPT_DIRECTORY_ERRORS = (zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError, struct.error, EOFError)

CENTRAL_RECORD_SIGNATURE = b"PK\x01\x02"


def is_zip(path: Path) -> bool:
    return zipfile.is_zipfile(path)


@dataclass
class InflateBudget:
    """What all the zip files of one upload may unpack to together, so that many small zip
    bombs in one request are refused like one large one."""

    max_bytes: int
    max_members: int = MAX_ZIP_MEMBERS
    max_entries: int = MAX_ZIP_ENTRIES
    bytes_used: int = 0
    members_used: int = 0
    entries_used: int = 0
    zips_opened: int = 0  # numbers each zip of the upload in messages


def _is_desktop_clutter(name: PurePosixPath) -> bool:
    return any(part in DESKTOP_CLUTTER_NAMES or part.startswith(".") for part in name.parts)


def _entry_label(zip_number: int, entry_number: int) -> str:
    """How the user can find an entry: its place in the zip's listing (1-based, folders included), and
    which zip of the upload when there are several."""
    return f"Zip entry {entry_number}" if zip_number == 1 else f"Entry {entry_number} of zip file {zip_number}"


def _zip_label(zip_number: int) -> str:
    return "The zip file" if zip_number == 1 else f"Zip file {zip_number}"


def _too_many_entries(budget: InflateBudget) -> Unprocessable:
    return Unprocessable(
        f"The upload's zip files hold more than {budget.max_entries} entries (files and folders); at most "
        f"{budget.max_members} files are accepted."
    )


def _count_entries_up_front(archive: Path, budget: InflateBudget, zip_number: int) -> None:
    """Refuse more entries than the budget has left before zipfile lists them all: listing is what costs (a few
    MiB of central directory can hold hundreds of thousands of empty entries). The count in the end record may
    lie, so the central directory's record signatures are counted as well: zipfile reads no record without one."""
    left = budget.max_entries - budget.entries_used
    with archive.open("rb") as handle:
        # zipfile's own reader of the end record (zip64 too), the one ZipFile uses: no second parser here.
        end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
        if end is None:
            raise Unprocessable(f"{_zip_label(zip_number)} is corrupt; it may be damaged or incompletely copied.")
        if end[zipfile._ECD_ENTRIES_TOTAL] > left:  # type: ignore[attr-defined]
            raise _too_many_entries(budget)
        size = end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
        start = end[zipfile._ECD_LOCATION] - size  # type: ignore[attr-defined]
        if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
            start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
        handle.seek(max(0, start))
        records, tail, remaining = 0, b"", size
        while remaining > 0 and (chunk := handle.read(min(remaining, 1 << 20))):
            remaining -= len(chunk)
            # A signature split over two chunks is counted once: the tail keeps its first 3 bytes only.
            records += (tail + chunk).count(CENTRAL_RECORD_SIGNATURE)
            tail = chunk[-3:]
            if records > left:
                raise _too_many_entries(budget)


def extract_zip(archive: Path, target: Path, budget: InflateBudget) -> list[Path]:
    """Unpack a zip, refusing absolute or '..' paths, links, encrypted entries, a zip without files, and more
    entries, files or bytes than the upload's ``budget`` has left (updated in place). Folders and desktop clutter
    (``_is_desktop_clutter``) are not unpacked, but count as entries."""
    zip_number = budget.zips_opened + 1
    try:
        _count_entries_up_front(archive, budget, zip_number)
        bundle = zipfile.ZipFile(archive)
    except CORRUPT_DIRECTORY_ERRORS as exc:
        raise Unprocessable(f"{_zip_label(zip_number)} is corrupt; it may be damaged or incompletely copied.") from exc
    budget.zips_opened = zip_number
    with bundle:
        listing = bundle.infolist()
        budget.entries_used += len(listing)
        if budget.entries_used > budget.max_entries:
            raise _too_many_entries(budget)
        entries = []
        for entry_number, member in enumerate(listing, start=1):
            label = _entry_label(zip_number, entry_number)
            name = PurePosixPath(member.filename.replace("\\", "/"))
            # Before the clutter rule, which would otherwise skip a '..' part as a dot-file.
            if name.is_absolute() or ".." in name.parts or member.filename.startswith("/"):
                raise Unprocessable(f"{label} has an unsafe path (absolute or with '..').")
            if member.is_dir() or _is_desktop_clutter(name):
                continue
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise Unprocessable(f"{label} is a symbolic link; upload the files themselves.")
            if member.flag_bits & 0x1:
                raise Unprocessable(f"{label} is encrypted; upload the files without a password.")
            entries.append((entry_number, member))
        if not entries:
            # Else it would vanish from the upload without a word, e.g. a DICOM file taken for an empty zip.
            raise Unprocessable(f"{_zip_label(zip_number)} holds no files (only folders or system files).")
        budget.members_used += len(entries)
        if budget.members_used > budget.max_members:
            raise Unprocessable(
                f"The upload's zip files hold {budget.members_used} files; at most {budget.max_members} are accepted."
            )
        out = []
        for entry_number, member in entries:
            label = _entry_label(zip_number, entry_number)
            destination = target / f"zip{zip_number}-entry{entry_number}.dcm"
            with _open_entry(bundle, member, label) as source, destination.open("wb") as sink:
                # Count real output bytes: the sizes in the zip directory can lie.
                while chunk := _read_entry(source, label):
                    budget.bytes_used += len(chunk)
                    if budget.bytes_used > budget.max_bytes:
                        raise PayloadTooLarge(
                            f"The upload's zip files inflate to more than {budget.max_bytes // (1 << 20)} MiB."
                        )
                    # Outside the corrupt-entry handling: a full disk is the server's fault, not the upload's.
                    sink.write(chunk)
            out.append(destination)
        return out


def _corrupt_entry(label: str) -> Unprocessable:
    return Unprocessable(f"{label} is corrupt; the zip file may be damaged or incompletely copied.")


def _open_entry(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, label: str) -> IO[bytes]:
    try:
        return bundle.open(member)
    except NotImplementedError as exc:
        raise Unprocessable(
            f"{label} uses a compression method that is not supported; use plain zip (deflate)."
        ) from exc
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(label) from exc


def _read_entry(source: IO[bytes], label: str) -> bytes:
    """The entry's next MiB; b"" at its end."""
    try:
        return source.read(1 << 20)
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(label) from exc


def zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.write(path, arcname=path.name)

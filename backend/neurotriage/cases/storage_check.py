"""Whether every file the database names is in storage, for the operator after restoring a backup or losing a disk.

The database and the storage folder are copied apart, so a restore can pair a database with files from another
moment: a case deleted between the two copies names files that are not there. The app then refuses to show them (a 500 naming the file, ``cases.router``) and the worker refuses to
analyse a missing scan; this lists them all at once (``neurotriage check-storage``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.cases.models import Case
from neurotriage.core.storage import Storage
from neurotriage.jobs.models import Result


@dataclass(frozen=True)
class MissingFile:
    case_id: int
    kind: str  # "scan", or a result volume's kind (anomaly_map, anomaly_mask, reconstruction)
    key: str
    job_id: int | None = None  # the run whose result names it; None for the scan


@dataclass(frozen=True)
class StorageReport:
    cases: int  # cases in the database
    checked: int  # files the database names
    missing: list[MissingFile]
    # Case folders no case row owns: uploads stored after the database copy was taken, or a deletion cut short.
    # Housekeeping removes them once untouched for an hour; after a restore, remove_unowned_folders at once.
    unowned_folders: list[str]


def check_storage(session: Session, storage: Storage) -> StorageReport:
    """Every scan and result file the database names, looked up in ``storage`` (one stat each)."""
    named: list[MissingFile] = [
        MissingFile(case_id, "scan", key)
        for case_id, key in session.execute(select(Case.id, Case.scan_key).order_by(Case.id))
    ]
    for case_id, job_id, files in session.execute(
        select(Result.case_id, Result.job_id, Result.files).order_by(Result.case_id, Result.job_id)
    ):
        named.extend(MissingFile(case_id, kind, key, job_id) for kind, key in sorted(files.items()))
    case_ids = set(session.scalars(select(Case.id)))
    unowned = [
        key for key, _modified in storage.folders("cases")
        if not (match := re.fullmatch(r"cases/(\d+)", key)) or int(match.group(1)) not in case_ids
    ]
    return StorageReport(
        cases=len(case_ids),
        checked=len(named),
        missing=[file for file in named if not storage.exists(file.key)],
        unowned_folders=sorted(unowned),
    )


def removal_refused(report: StorageReport) -> str | None:
    """Why ``--remove-unowned`` should not remove what it found, unless forced: more folders to remove than the
    database has cases looks like the wrong database, or one whose restore failed (an empty schema made by
    ``migrate`` after ``pg_restore --clean`` stopped), and removing them would wipe the storage just restored."""
    unowned = len(report.unowned_folders)
    if unowned == 0 or unowned <= report.cases:
        return None
    return (f"Not removing {unowned} case folder(s): the database knows only {report.cases} case(s). Is it the "
            "right database, and did its restore finish? Run again with --force to remove them all the same.")


def remove_unowned_folders(storage: Storage, report: StorageReport) -> list[str]:
    """Remove the case folders no case row owns, whatever their age; those that could not be are left (and logged).

    For a restore, with the API and the workers stopped (a running upload's folder has no case row until its
    commit): the restored database hands out its case ids again, and a new case must not find another's files in
    its folder."""
    return [key for key in report.unowned_folders if storage.delete_tree(key)]


def report_lines(report: StorageReport) -> list[str]:
    """What ``neurotriage check-storage`` prints: one line per missing file, then a summary."""
    lines = [
        f"case {file.case_id}: {file.kind.replace('_', ' ')}"
        f"{'' if file.job_id is None else f' of run {file.job_id}'} missing ({file.key})"
        for file in report.missing
    ]
    if report.unowned_folders:
        lines.append(
            f"{len(report.unowned_folders)} case folder(s) belong to no case ({', '.join(report.unowned_folders[:5])}"
            f"{', ...' if len(report.unowned_folders) > 5 else ''}); after a restore, remove them with --remove-unowned "
            "before starting the API (housekeeping removes them once untouched for an hour)"
        )
    lines.append(
        f"{report.checked} file(s) named by the database, {len(report.missing)} missing"
        + ("" if not report.missing else
           ": restore them from the storage backup taken with this database, or delete the cases they belong to")
    )
    return lines

from __future__ import annotations

import errno
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response

from neurotriage.audit.service import record, record_view
from neurotriage.auth.deps import AppSettings, DbSession, client_ip, require_roles
from neurotriage.cases import service
from neurotriage.cases.ingest import UPLOAD_SPOOL_PREFIX, IngestOptions, UploadedFile, ingest_upload
from neurotriage.cases.deletion import delete_case_rows
from neurotriage.cases.schemas import (
    CaseDeletion,
    CaseDetail,
    CasePage,
    FileKind,
    JobStatusName,
    StorageSpaceOut,
    TriageName,
    UploadRefused,
)
from neurotriage.cases.storage_space import storage_space
from neurotriage.cases.views import case_detail, case_summaries
from neurotriage.config import pseudonym_key
from neurotriage.core.errors import InsufficientStorage, MissingFromStorage, PayloadTooLarge, ServiceUnavailable
from neurotriage.core.inputs import DbId, PageNumber, Text
from neurotriage.core.openapi import errors
from neurotriage.core.storage import case_folder, get_storage
from neurotriage.jobs.models import Failure, JobStatus
from neurotriage.jobs.service import enqueue, transition
from neurotriage.users.models import Role, User

router = APIRouter(tags=["cases"])
log = logging.getLogger(__name__)

Reader = Annotated[User, Depends(require_roles(Role.clinician, Role.coordinator))]
Uploader = Annotated[User, Depends(require_roles(Role.clinician, Role.coordinator))]
# Coordinators manage the study's cases; a clinician asks one to delete a case uploaded by mistake.
Coordinator = Annotated[User, Depends(require_roles(Role.coordinator))]
Admin = Annotated[User, Depends(require_roles(Role.admin))]


def _spool(upload: UploadFile, target: Path, max_bytes: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                raise PayloadTooLarge(f"The upload is larger than {max_bytes // (1 << 20)} MiB.")
            out.write(chunk)


@router.post(
    "/cases",
    response_model=CaseDetail,
    status_code=201,
    responses={
        **errors(401, 403, 409, 413, 415, 503, 507),
        422: {"model": UploadRefused, "description": "Refused input; `series` lists the series of a DICOM upload "
              "that holds several, to choose one"},
    },
)
def upload_case(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: Uploader,
    files: Annotated[
        list[UploadFile],
        File(description="One NIfTI file, or the DICOM files (or zips of them) of one series or of a whole study."),
    ],
    label: Annotated[Text | None, Form(max_length=200)] = None,
    sequence: Annotated[Text, Form()] = "t1",
    series: Annotated[
        Text | None,
        Form(max_length=64, description="From an upload of several DICOM series, the one to analyse: the `choice` "
             "of one of the series a 422 listed under `series`."),
    ] = None,
) -> CaseDetail:
    storage = get_storage()
    options = IngestOptions(
        label=label,
        sequence=sequence,
        model_profile=settings.model_profile,
        max_inflated_bytes=settings.max_upload_bytes * 4,
        pseudonym_key=pseudonym_key(settings),
        shift_dicom_dates=settings.shift_dicom_dates,
        client_ip=client_ip(request),
        series=series,
    )
    try:
        with tempfile.TemporaryDirectory(prefix=UPLOAD_SPOOL_PREFIX) as tmp:
            uploads = []
            for index, upload in enumerate(files):
                spooled = Path(tmp) / f"upload{index}"
                _spool(upload, spooled, settings.max_upload_bytes)
                uploads.append(UploadedFile(filename=upload.filename or "", path=spooled))
            case, job = ingest_upload(session, storage, user, uploads, options)
            try:
                session.commit()
            except BaseException:
                storage.delete_tree(case_folder(case.id))
                raise
    except BaseException as exc:
        session.rollback()  # a failed upload leaves no row, whoever owns the session afterwards
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage(
                "The server's storage is full, so the upload was not kept; nothing was stored. "
                "Try again later, and tell an administrator."
            ) from exc
        raise
    try:
        enqueue(job.id)
    except Exception as exc:
        transition(session, job, JobStatus.failed, error="The job queue is unavailable; re-run the case later.",
                   failure=Failure.queue_unavailable)
        session.commit()
        # The case stays (a second upload of the file would be refused as a duplicate of it), so say where it is.
        raise ServiceUnavailable(
            f"The scan was stored as case {case.id}, but the job queue is unavailable: "
            "re-run the case from its page once the queue is back."
        ) from exc
    return case_detail(session, user, *service.get_case(session, case.id), retention_days=settings.retention_days)


@router.get("/cases", response_model=CasePage, responses=errors(401, 403, 422))
def list_cases(
    session: DbSession,
    user: Reader,
    status: Annotated[JobStatusName | None, Query()] = None,
    triage: Annotated[
        TriageName | None,
        Query(description="Only cases whose shown result has this triage; rescan also takes an urgent result whose "
              "scan must be repeated as well (rescan_recommended), as the worklist shows both"),
    ] = None,
    flagged: Annotated[bool, Query(description="Only cases whose shown result has at least one flag")] = False,
    screening: Annotated[
        Literal["lesions", "checks"] | None,
        Query(description='What the shown result looked for; "checks": not screened for lesions (rescan checks alone)'),
    ] = None,
    mine: Annotated[bool, Query(description="Only cases I have claimed")] = False,
    unreviewed: Annotated[bool, Query(description="Only cases without a case verdict (by anyone)")] = False,
    unread_by_me: Annotated[
        bool, Query(description="Only cases without my own case verdict: a second reader's list, since reads are blind")
    ] = False,
    disputed: Annotated[
        bool, Query(description="Only cases whose readers gave different case verdicts (for a reader who reads "
                                "blind: only cases they have read themselves)")
    ] = False,
    q: Annotated[Text | None, Query(max_length=200, description="Text in the case label")] = None,
    sort: Annotated[Literal["priority", "score", "uploaded_at"], Query()] = "priority",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 25,
) -> CasePage:
    """The worklist: by default the most urgent first (triage priority, then score, then newest)."""
    query = service.WorklistQuery(
        status=status, triage=triage, flagged=flagged, screening=screening, mine=mine, unreviewed=unreviewed,
        unread_by_me=unread_by_me, disputed=disputed,
        search=q, sort=sort, descending=order == "desc",
        page=page, page_size=page_size,
    )
    rows, total = service.list_cases(session, user, query)
    return CasePage(items=case_summaries(session, rows, user), total=total, page=page, page_size=page_size)


@router.get("/storage", response_model=StorageSpaceOut, responses=errors(401, 403))
def get_storage_space(session: DbSession, settings: AppSettings, _user: Admin) -> StorageSpaceOut:
    """For administrators: the storage's free space, in bytes and in cases at the recent size per case, with a
    notice when it is nearly full, and the site's retention period."""
    space = storage_space(session, get_storage())
    return StorageSpaceOut(
        total_bytes=space.total_bytes, free_bytes=space.free_bytes, cases=space.cases, case_bytes=space.case_bytes,
        room_for_cases=space.room_for_cases, notice=space.notice(), retention_days=settings.retention_days,
    )


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=errors(401, 403, 404))
def get_case(
    case_id: DbId, request: Request, session: DbSession, settings: AppSettings, user: Reader
) -> CaseDetail:
    case, job, result = service.get_case(session, case_id)
    record_view(session, actor_id=user.id, case_id=case.id, client_ip=client_ip(request))
    detail = case_detail(session, user, case, job, result, retention_days=settings.retention_days)
    session.commit()
    return detail


@router.delete("/cases/{case_id}", status_code=204, responses=errors(401, 403, 404, 409, 422))
def delete_case(case_id: DbId, body: CaseDeletion, request: Request, session: DbSession, user: Coordinator) -> Response:
    """Delete a case with its scan, every run's results and files, and every reader's verdicts and findings; the
    audit trail keeps its events and records the deletion with its reason. Refused (409) while a run is queued
    or running. The same scan may be uploaded again afterwards."""
    delete_case_rows(session, case_id, reason=body.reason, actor_id=user.id, client_ip=client_ip(request))
    session.commit()
    if not get_storage().delete_tree(case_folder(case_id)):
        # The case is deleted; what is left of its folder is an orphan, which housekeeping removes (and logs
        # again while it cannot).
        log.error("case %s: deleted, but its stored files could not all be removed", case_id)
    return Response(status_code=204)


@router.get(
    "/cases/{case_id}/files/{kind}",
    response_class=FileResponse,
    responses={**errors(401, 403, 404, 500), 200: {"content": {"application/gzip": {}}, "description": "Gzipped NIfTI"}},
)
def get_case_file(
    case_id: DbId,
    kind: FileKind,
    request: Request,
    session: DbSession,
    user: Reader,
    prefetch: Annotated[bool, Query(description="Loaded ahead of a possible view (the app does this when a "
                                    "worklist link is pointed at); audited as such, not as a download")] = False,
) -> FileResponse:
    case, _job, result = service.get_case(session, case_id)
    key = service.file_key(case, result, kind)
    storage = get_storage()
    if not storage.exists(key):
        # Storage keys hold ids only, no patient's data.
        log.error("storage: case %s: its %s %s is missing", case.id, kind, key)
        raise MissingFromStorage(
            f"The {kind.replace('_', ' ')} of case {case.id} is missing from the server's storage, so it cannot be "
            "shown. Tell an administrator (neurotriage check-storage lists every missing file)."
        )
    # Still audited (the bytes left the server), but not as something the reader opened.
    action = "case.file_prefetched" if prefetch else "case.file_downloaded"
    record(session, action, actor_id=user.id, case_id=case.id, client_ip=client_ip(request), kind=kind)
    session.commit()
    return FileResponse(
        storage.local_path(key),
        media_type="application/gzip",
        filename=f"{kind}.nii.gz",
        headers={"Cache-Control": "private, no-store"},
    )

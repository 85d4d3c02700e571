from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from neurotriage.audit.service import record
from neurotriage.auth.deps import DbSession, client_ip, require_roles
from neurotriage.core.openapi import errors
from neurotriage.reports.schemas import ExportRow, Stats
from neurotriage.reports.service import EXPORT_COLUMNS, compute_stats, export_rows
from neurotriage.users.models import Role, User

router = APIRouter(tags=["reports"])

Coordinator = Annotated[User, Depends(require_roles(Role.coordinator))]
# A spreadsheet runs a cell starting with one of these as a formula (tab and CR too, as frontend/src/lib/csv.ts has it).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, quoted with a leading apostrophe; anything else as is."""
    return "'" + value if isinstance(value, str) and value[:1] in _FORMULA_START else value


@router.get("/stats", response_model=Stats, responses=errors(401, 403))
def get_stats(session: DbSession, user: Coordinator) -> Stats:
    """Flags accepted/rejected per model version and per reviewer, case verdicts, turnaround, agreement."""
    return Stats.model_validate(compute_stats(session))


def _audited_export(session: DbSession, request: Request, user: User, fmt: str) -> list[dict[str, Any]]:
    rows = export_rows(session)
    record(session, "export.downloaded", actor_id=user.id, client_ip=client_ip(request), format=fmt, rows=len(rows))
    session.commit()
    return rows


@router.get(
    "/export.csv",
    response_class=Response,
    responses={**errors(401, 403), 200: {"content": {"text/csv": {}}, "description": "One row per case"}},
)
def export_csv(request: Request, session: DbSession, user: Coordinator) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in _audited_export(session, request, user, "csv"):
        # Cells starting with a formula character are quoted so spreadsheets do not execute them.
        # (A tuple, not the string "=+-@": the empty string is "in" every string, and empty cells stay empty.)
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="neurotriage-export.csv"'},
    )


@router.get("/export.json", response_model=list[ExportRow], responses=errors(401, 403))
def export_json(request: Request, session: DbSession, user: Coordinator) -> list[ExportRow]:
    return [ExportRow.model_validate(row) for row in _audited_export(session, request, user, "json")]

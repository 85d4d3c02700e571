"""The API's own description (OpenAPI document and Swagger UI), for signed-in users only: the route
list and error catalogue are no business of an anonymous visitor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from neurotriage.auth.deps import CurrentUser

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def openapi_document(request: Request, _user: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui(_user: CurrentUser) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/api/openapi.json", title="NeuroTriage API")

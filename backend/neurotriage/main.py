"""The FastAPI application: API routers under /api, and the built frontend at / in embedded mode."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from neurotriage.api_docs import router as api_docs_router
from neurotriage.audit.router import router as audit_router
from neurotriage.auth.router import router as auth_router
from neurotriage.cases.router import router as cases_router
from neurotriage.config import get_settings
from neurotriage.core.errors import DomainError, validation_error
from neurotriage.core.cross_site import CrossSiteRefusalMiddleware
from neurotriage.core.security_headers import SecurityHeadersMiddleware, response_headers
from neurotriage.core.upload_limit import UploadLimitMiddleware
from neurotriage.health import router as health_router
from neurotriage.jobs.router import router as jobs_router
from neurotriage.reports.router import router as reports_router
from neurotriage.reviews.router import router as reviews_router
from neurotriage.users.router import router as users_router

log = logging.getLogger(__name__)

# Everything the app serves under /api, besides the JSON 404 for unknown paths (tests/backend/test_roles.py
# checks each route's roles from this list, hidden routes included).
API_ROUTERS = (
    health_router, auth_router, users_router, cases_router, jobs_router, reviews_router, audit_router,
    reports_router, api_docs_router,
)


def create_app() -> FastAPI:
    settings = get_settings()
    # FastAPI's own documentation routes take no dependencies; api_docs serves them behind sign-in.
    app = FastAPI(title="NeuroTriage", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(CrossSiteRefusalMiddleware)
    # Added last, so it wraps the others: their refusals carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware, https_only=settings.cookie_secure)

    @app.exception_handler(DomainError)
    def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({**exc.extra, "detail": exc.message}, status_code=exc.status_code)

    # Without echoing the input: a NaN in it cannot be written as JSON, and the 422 would become a 500.
    app.exception_handler(RequestValidationError)(validation_error)

    @app.exception_handler(Exception)
    def _unexpected_error(request: Request, _exc: Exception) -> JSONResponse:
        # The app reads ``detail`` from every error; the traceback still goes to the server log (Starlette re-raises).
        # Starlette answers this outside every middleware, so the security headers are set here.
        return JSONResponse(
            {"detail": "An unexpected error stopped the request. Tell an administrator: the server log has the cause."},
            status_code=500,
            headers=response_headers(request.url.path, https_only=settings.cookie_secure),
        )

    for router in API_ROUTERS:
        app.include_router(router, prefix="/api")

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def _api_not_found(rest: str) -> JSONResponse:
        return JSONResponse({"detail": f"No API route /api/{rest}."}, status_code=404)

    _mount_frontend(app, settings.frontend_dist)
    return app


def _mount_frontend(app: FastAPI, dist: Path) -> None:
    """Serve the built single-page app; unknown paths get index.html so client routes deep-link."""
    index = dist / "index.html"
    if not index.is_file():
        log.warning("frontend build not found at %s; serving the API only", dist)
        return
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def _spa(path: str) -> FileResponse:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

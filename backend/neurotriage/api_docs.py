"""The API's own description (OpenAPI document and Swagger UI), for signed-in users only: the route
list and error catalogue are no business of an anonymous visitor.

Swagger UI is served from this server, not from a CDN: hospital networks often reach no outside site, and the
page then stayed blank. Its files come from the ``fastapi-offline`` wheel (Swagger UI 5, which reads OpenAPI 3.1),
and the page starts it from a script file of ours, so the docs run under the app's own policy (script and style
from this origin only, no inline script)."""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from neurotriage.auth.deps import CSRF_COOKIE, CSRF_HEADER, CurrentUser

router = APIRouter(include_in_schema=False)

DOCS_PATH = "/api/docs"
# The vendored files (the wheel's own data; test_api_docs checks they are there) and the start script.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
START_SCRIPT = """\
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The session cookie signs the "Try it out" requests in; unsafe ones also need the CSRF header.
    requestInterceptor: function (request) {
      var match = document.cookie.match(/(?:^|; )CSRF_COOKIE=([^;]*)/);
      if (match) request.headers["CSRF_HEADER"] = decodeURIComponent(match[1]);
      return request;
    },
  });
});
""".replace("CSRF_COOKIE", CSRF_COOKIE).replace("CSRF_HEADER", CSRF_HEADER)
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NeuroTriage API</title>
<link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/start.js"></script>
</body>
</html>
"""
# Signed-in users only, like the page; a browser may keep them for the session (they change with the wheel).
PRIVATE_CACHE = {"Cache-Control": "private, max-age=3600"}


def vendored_asset(name: str) -> bytes:
    """One of Swagger UI's files as the installed ``fastapi-offline`` wheel holds it."""
    return (files("fastapi_offline") / "static" / name).read_bytes()


@router.get("/openapi.json")
def openapi_document(request: Request, _user: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui(_user: CurrentUser) -> HTMLResponse:
    return HTMLResponse(PAGE)


@router.get("/docs/start.js")
def swagger_ui_start(_user: CurrentUser) -> Response:
    return Response(START_SCRIPT, media_type="text/javascript; charset=utf-8", headers=PRIVATE_CACHE)


@router.get("/docs/{name}")
def swagger_ui_asset(name: Literal["swagger-ui-bundle.js", "swagger-ui.css"], _user: CurrentUser) -> Response:
    return Response(vendored_asset(name), media_type=ASSET_TYPES[name], headers=PRIVATE_CACHE)

"""Refuses API requests that another site's page makes the browser send.

The session cookie is SameSite=Lax, which browsers still send on a top-level GET navigation from another site, and
the CSRF header is checked on writes only. So a link elsewhere to ``/api/cases/5`` or ``/api/export.csv`` would be
answered in the reader's name: its reply stays out of the other site's reach, but the audit trail would record a
view or an export the reader never made. Browsers say where a request comes from (``Sec-Fetch-Site``); the app's
own requests are ``same-origin``, an address typed or bookmarked is ``none``, and scripts with an API token send no
such header. Only ``cross-site`` is refused, for every method: nothing under /api is meant to be reached from
another site.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

REFUSAL = ("Requests from another site's page are refused: open NeuroTriage itself (its address, or a bookmark) "
           "and go on from there.")


class CrossSiteRefusalMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api(scope["path"]) and _fetch_site(scope) == b"cross-site":
            body = json.dumps({"detail": REFUSAL}).encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _fetch_site(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name == b"sec-fetch-site":
            return bytes(value).strip().lower()
    return None

"""Response headers that keep the browser from doing what the app never needs: running script from elsewhere,
being framed by another site (a hidden verdict button clicked through an overlay), guessing content types, or
sending the page's address (a worklist search can hold a name) to another site.

The compose stack's nginx sends the same headers for the files it serves itself (``docker/nginx.conf``; a test
keeps the two policies equal); this middleware covers the API and the app as ``neurotriage serve`` serves it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The viewer (NiiVue) draws with WebGL from volumes the app fetches from /api; images it makes are data: or
# blob: URLs. Styles: React sets element styles through the DOM, which a policy does not restrict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
OTHER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **OTHER_HEADERS}
# API answers hold case labels, DICOM facts and verdicts: a shared workstation's browser keeps none of them on disk.
# An answer that sets its own (a file download's "private, no-store") keeps it.
API_CACHE_CONTROL = "no-store"
# Sent only where cookies are Secure (NEUROTRIAGE_COOKIE_SECURE): the site is then reached over HTTPS alone.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def response_headers(path: str, *, https_only: bool) -> dict[str, str]:
    """The headers every answer to ``path`` carries; the 500 handler, which runs outside the middleware, uses it too."""
    headers = dict(PAGE_HEADERS)
    if path == "/api" or path.startswith("/api/"):
        headers["Cache-Control"] = API_CACHE_CONTROL
    if https_only:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https_only: bool = False) -> None:
        self.app = app
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [(name.lower().encode(), value.encode())
                 for name, value in response_headers(scope["path"], https_only=self.https_only).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = [*message.get("headers", []), *[(n, v) for n, v in added if n not in present]]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

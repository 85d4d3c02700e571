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


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [(name.lower().encode(), value.encode())
                 for name, value in {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **OTHER_HEADERS}.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = [*message.get("headers", []), *[(n, v) for n, v in added if n not in present]]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

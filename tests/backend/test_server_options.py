"""``neurotriage serve``'s uvicorn settings, run in a real uvicorn process: the client's address comes from a
trusted proxy only, and the access log never carries query strings (searches hold what users typed)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

# A bare ASGI app that answers with the client address uvicorn settled on; the options under test are the CLI's.
_SERVER = """
import sys, uvicorn
from neurotriage.cli import server_options

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": scope["client"][0].encode()})

options = server_options("127.0.0.1", int(sys.argv[1]), forwarded_allow_ips=sys.argv[2])
options.pop("factory")
uvicorn.run(app, **options)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_one_request(forwarded_allow_ips: str, path: str, forwarded_for: str) -> tuple[str, str]:
    """Start the server, make one request through a pretend proxy, stop it; (client it saw, the server's log)."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port), forwarded_allow_ips],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"X-Forwarded-For": forwarded_for})
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    seen = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    return seen, log


def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address_and_searches_stay_out_of_the_log() -> None:
    seen, log = _serve_one_request("127.0.0.1", "/api/cases?q=Doe+Jane", "203.0.113.7")
    assert seen == "203.0.113.7"
    assert '"GET /api/cases HTTP/1.1" 200' in log
    assert "Doe" not in log and "q=" not in log


def test_a_client_not_behind_a_trusted_proxy_cannot_choose_its_address() -> None:
    seen, _ = _serve_one_request("10.9.9.9", "/api/health", "203.0.113.7")
    assert seen == "127.0.0.1"


def test_serving_other_machines_without_secure_cookies_is_warned_about() -> None:
    from neurotriage.cli import insecure_cookie_warning

    warning = insecure_cookie_warning("0.0.0.0", cookie_secure=False)
    assert warning and "NEUROTRIAGE_COOKIE_SECURE=true" in warning and "0.0.0.0" in warning
    assert insecure_cookie_warning("0.0.0.0", cookie_secure=True) is None
    for local in ("127.0.0.1", "localhost", "::1"):  # make demo; a proxy on the same host
        assert insecure_cookie_warning(local, cookie_secure=False) is None

"""Stop `make test` early, with a useful message, when PostgreSQL or Redis is not reachable."""

from __future__ import annotations

import os
import socket
import sys

SERVICES = {
    "PostgreSQL": (
        os.environ.get("NEUROTRIAGE_TEST_PG_HOST", "127.0.0.1"),
        int(os.environ.get("NEUROTRIAGE_TEST_PG_PORT", "5432")),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   "
        "(or: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16)",
    ),
    "Redis": (
        os.environ.get("NEUROTRIAGE_TEST_REDIS_HOST", "127.0.0.1"),
        int(os.environ.get("NEUROTRIAGE_TEST_REDIS_PORT", "6379")),
        "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no   "
        "(or: docker run -d -p 6379:6379 redis:7)",
    ),
}


def main() -> int:
    missing = []
    for name, (host, port, how) in SERVICES.items():
        try:
            with socket.create_connection((host, port), timeout=3):
                pass
        except OSError as exc:
            missing.append(f"  {name} is not reachable at {host}:{port} ({exc}).\n    Start it with: {how}")
    if missing:
        print("make test needs these services:\n" + "\n".join(missing), file=sys.stderr)
        return 1
    print("services: PostgreSQL and Redis reachable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A live NeuroTriage stack for tests: real API server and Celery worker processes on PostgreSQL + Redis.

Started through the same console scripts an operator uses (``neurotriage migrate``, ``user add``,
``serve``, ``worker``), each test run on its own database and Redis database number.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from tests.pg import create_database, database_url, drop_database

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "stack password 1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    logs: Path
    users: dict[str, str] = field(default_factory=dict)  # username -> role

    @contextmanager
    def client(self, username: str) -> Iterator[httpx.Client]:
        """An HTTP client signed in as ``username``, sending the CSRF header like the browser app."""
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            response.raise_for_status()
            client.headers["X-CSRF-Token"] = response.cookies["csrftoken"]
            yield client

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(args, env=env, input=stdin, text=True, check=True, capture_output=True, cwd=REPO)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("server did not become healthy")


def _wait_for_worker(database: str, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Until the worker's first heartbeat: it then takes tasks, and pages show it running from their first load."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with code {process.returncode}")
            with engine.connect() as connection:
                if connection.execute(text("SELECT count(*) FROM workers")).scalar():
                    return
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise TimeoutError("the worker wrote no heartbeat")


@contextmanager
def running_stack(
    workdir: Path, *, profile: str, broker_db: int, users: dict[str, str], extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    db_name = f"nt_stack_{uuid.uuid4().hex[:10]}"
    port = free_port()
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NEUROTRIAGE_DATABASE_URL": database_url(db_name),
        "NEUROTRIAGE_BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
        "NEUROTRIAGE_STORAGE_DIR": str(workdir / "storage"),
        "NEUROTRIAGE_MODEL_PROFILE": profile,
        "NEUROTRIAGE_AVAILABLE_PROFILES": json.dumps(sorted({"fast", "paper", profile})),
        "NEUROTRIAGE_MODEL_DEVICE": "cpu",
        "NEUROTRIAGE_PSEUDONYM_KEY": "stack-test-key-3e9a1c07b5d24f68a0",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    broker = redis.Redis(port=6379, db=broker_db)
    broker.flushdb()
    create_database(db_name)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _run([str(BIN / "neurotriage"), "migrate"], env)
        for username, role in users.items():
            _run([str(BIN / "neurotriage"), "user", "add", username, "--role", role], env, stdin=PASSWORD + "\n")
        worker_log = (logs / "worker.log").open("wb")
        processes.append(
            subprocess.Popen(
                [str(BIN / "neurotriage"), "worker", "--queues", "gpu,default", "--concurrency", "1"],
                env=env, stdout=worker_log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
            )
        )
        server_log = (logs / "server.log").open("wb")
        server = subprocess.Popen(
            [str(BIN / "neurotriage"), "serve", "--port", str(port)],
            env=env, stdout=server_log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
        )
        processes.append(server)
        stack = Stack(base_url=f"http://127.0.0.1:{port}", env=env, logs=logs, users=dict(users))
        try:
            _wait_healthy(stack.base_url, server)
            _wait_for_worker(env["NEUROTRIAGE_DATABASE_URL"], processes[0])
        except Exception as exc:
            raise RuntimeError(f"{exc}\n{stack.log_tail()}") from exc
        yield stack
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        broker.flushdb()
        drop_database(db_name)


def wait_for_job(client: httpx.Client, case_id: int, stack: Stack, timeout_s: float = 600) -> dict:
    """Poll the case until its job finishes; fail with the processes' logs if it does not."""
    deadline = time.monotonic() + timeout_s
    seen_progress: set[int] = set()
    while time.monotonic() < deadline:
        case = client.get(f"/api/cases/{case_id}").json()
        seen_progress.add(case["progress"])
        if case["status"] in ("succeeded", "failed", "cancelled"):
            case["_seen_progress"] = sorted(seen_progress)
            return case
        time.sleep(1)
    raise TimeoutError(f"case {case_id} did not finish in {timeout_s} s\n{stack.log_tail()}")

"""The ``neurotriage`` command: serve the API, run a worker, manage users, migrate, check storage, seed the demo."""

from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from neurotriage.config import PseudonymKeyError, get_settings


def migrate_entry(_args: argparse.Namespace) -> int:
    from neurotriage.migrate import upgrade_to_head

    upgrade_to_head(get_settings().database_url)
    print("database schema is up to date")
    return 0


def server_options(host: str, port: int, forwarded_allow_ips: str) -> dict[str, object]:
    """uvicorn's settings for the API: the client's address from the trusted proxies' X-Forwarded-For (login
    limits and the audit trail count people, not the proxy), and an access log without query strings."""
    from neurotriage.core.access_log import server_log_config

    return {
        "factory": True, "host": host, "port": port, "log_level": "info", "log_config": server_log_config(),
        "proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips,
    }


def insecure_cookie_warning(host: str, cookie_secure: bool) -> str | None:
    """What to tell the operator who serves other machines with cookies a plain-HTTP hop could read; None when the
    cookies are Secure or only this machine can connect (``make demo``, a proxy on this host)."""
    if cookie_secure or host in ("127.0.0.1", "localhost", "::1"):
        return None
    return (f"warning: serving on {host} with NEUROTRIAGE_COOKIE_SECURE=false: browsers send the session cookie over "
            "plain HTTP too. Put the API behind HTTPS and set NEUROTRIAGE_COOKIE_SECURE=true (the compose stack does).")


def serve_entry(args: argparse.Namespace) -> int:
    import tempfile
    from datetime import timedelta

    import uvicorn

    from neurotriage.jobs.housekeeping import remove_stale_upload_spools

    # A day: no upload takes that long, and a running server's own spools are minutes old.
    remove_stale_upload_spools(Path(tempfile.gettempdir()), timedelta(days=1))
    settings = get_settings()
    warning = insecure_cookie_warning(args.host, settings.cookie_secure)
    if warning:
        print(warning, file=sys.stderr)
    options = server_options(args.host, args.port, settings.forwarded_allow_ips)
    uvicorn.run("neurotriage.main:create_app", **options)  # type: ignore[arg-type]
    return 0


def worker_entry(args: argparse.Namespace) -> int:
    import neurotriage.jobs.tasks  # noqa: F401  (registers the tasks)
    from neurotriage.celery_app import GPU_QUEUE, celery_app

    if GPU_QUEUE in args.queues.split(","):
        from neurotriage.jobs.inventory import publish_installed_models

        reports = publish_installed_models(get_settings())
        if reports is not None:
            available = [f"{r.profile}/{r.sequence}" for r in reports if r.available]
            print(f"models this worker can run: {', '.join(available) or 'none'}", file=sys.stderr)
    celery_app.worker_main(worker_argv(args))
    return 0


def worker_argv(args: argparse.Namespace) -> list[str]:
    """Celery's worker arguments for ``neurotriage worker``."""
    argv = ["worker", f"--queues={args.queues}", f"--concurrency={args.concurrency}", "--loglevel=INFO"]
    if args.name:
        # Celery's node name, which is also the worker's heartbeat row: two workers on one host each need their own.
        argv.append(f"--hostname={args.name}@%h")
    if args.pool:
        argv.append(f"--pool={args.pool}")
    if args.beat:
        argv += ["--beat", f"--schedule={args.schedule_file}"]
    return argv


def user_add_entry(args: argparse.Namespace) -> int:
    from neurotriage.core.errors import DomainError
    from neurotriage.db import session_scope
    from neurotriage.users.service import create_user

    if args.generate_password:
        password = secrets.token_urlsafe(12)
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        with session_scope() as session:
            user = create_user(session, args.name, password, args.role)
            print(f"created user {user.username} with roles {', '.join(user.roles)}")
    except DomainError as exc:
        print(f"neurotriage: {exc.message}", file=sys.stderr)
        return 1
    if args.generate_password:
        print(f"password: {password}")
    return 0


def check_storage_entry(args: argparse.Namespace) -> int:
    from neurotriage.cases.storage_check import check_storage, removal_refused, remove_unowned_folders, report_lines
    from neurotriage.core.storage import get_storage
    from neurotriage.db import session_scope

    storage = get_storage()
    with session_scope() as session:
        report = check_storage(session, storage)
    for line in report_lines(report):
        print(line)
    if args.remove_unowned and report.unowned_folders:
        refusal = None if args.force else removal_refused(report)
        if refusal:
            print(f"neurotriage: {refusal}", file=sys.stderr)
            return 1
        removed = remove_unowned_folders(storage, report)
        print(f"removed {len(removed)} of {len(report.unowned_folders)} case folder(s) no case owns")
        if len(removed) < len(report.unowned_folders):
            return 1
    return 1 if report.missing else 0


def demo_seed_entry(args: argparse.Namespace) -> int:
    from neurotriage.demo import seed_demo

    seed_demo(Path(args.scans), args.url)
    return 0


def _node_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise argparse.ArgumentTypeError("use 1-64 letters, digits, '-' or '_' (the host is added after '@')")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurotriage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and the built frontend")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(entry=serve_entry)

    worker = commands.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--queues", default="gpu,default")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--pool", default=None, help="Celery pool (prefork, solo, threads)")
    worker.add_argument("--beat", action="store_true", help="also schedule housekeeping (run in one worker only)")
    worker.add_argument("--schedule-file", default="celerybeat-schedule", help="where the scheduler keeps its state")
    worker.add_argument("--name", default=None, type=_node_name, help="node name before @host (default celery); needed to run two "
                        "workers on one host, since each worker's heartbeat is kept under its node name")
    worker.set_defaults(entry=worker_entry)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    migrate.set_defaults(entry=migrate_entry)

    check = commands.add_parser("check-storage", help="list the files the database names that storage lacks (after "
                                "restoring a backup); exit status 1 when any is missing")
    check.add_argument("--remove-unowned", action="store_true", help="also remove the case folders no case owns, "
                       "whatever their age: after restoring a backup, with the API and the workers stopped")
    check.add_argument("--force", action="store_true", help="with --remove-unowned: remove them even when they "
                       "outnumber the cases the database knows")
    check.set_defaults(entry=check_storage_entry)

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True, choices=["clinician", "coordinator", "admin"])
    add.add_argument("--generate-password", action="store_true", help="make a random password and print it")
    add.set_defaults(entry=user_add_entry)

    seed = commands.add_parser("demo-seed", help="create a demo admin and queue the demo scans")
    seed.add_argument("--scans", required=True, help="folder of .nii.gz scans to upload")
    seed.add_argument("--url", default="http://127.0.0.1:8000", help="where the demo will be served (printed only)")
    seed.set_defaults(entry=demo_seed_entry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.entry(args))
    except ValidationError as exc:
        if exc.title != "Settings":
            raise  # not a setting: a bug to see with its traceback
        # A refused setting is the operator's to fix: one line per setting, no traceback (and, with
        # hide_input_in_errors, never the refused value itself).
        for error in exc.errors():
            name = "NEUROTRIAGE_" + "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            print(f"neurotriage: {message if name in message else f'{name}: {message}'}", file=sys.stderr)
        return 2
    except PseudonymKeyError as exc:
        print(f"neurotriage: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""Requests that arrive together (a double click, two tabs, two readers) get an answer each, never a 500, and leave
one row where one belongs: a pending run per case, a verdict or review time per reader, a user per name.

They need real commits on separate connections (``tests.backend.live``)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import redis
from neurotriage.jobs.models import Flag, Job, JobStatus, Result
from neurotriage.reviews.models import CaseVerdict, FlagVerdict, ReviewTime
from neurotriage.users.models import User
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.factories import finish_job
from tests.backend.helpers import upload_case
from tests.backend.live import LiveApi, live, live_api, run_together  # noqa: F401  (fixtures)

TOGETHER = 6
# The live database lasts the module: each case needs a scan of its own (a second upload would be refused).
_SEEDS = itertools.count(100)


@pytest.fixture
def reader(live: LiveApi) -> ApiClient:
    if not _exists(live, "reader"):
        live.add_user("reader", ["clinician"])
    client = ApiClient(live.app)
    client.login("reader")
    return client


@pytest.fixture
def analysed(live: LiveApi, reader: ApiClient, broker: redis.Redis, tmp_path: Path) -> int:
    """A case whose only run has succeeded with two flags: a re-run may be queued."""
    case_id = upload_case(reader, tmp_path, label=tmp_path.name, seed=next(_SEEDS))
    with live.sessions() as session:
        job = session.scalars(select(Job).where(Job.case_id == case_id)).one()
        finish_job(session, job.id, n_flags=2)
        session.commit()
    return case_id


def _exists(live: LiveApi, username: str) -> bool:
    with live.sessions() as session:
        return session.scalar(select(User.id).where(User.username == username)) is not None


def _count(live: LiveApi, statement) -> int:  # type: ignore[no-untyped-def]
    with live.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


def _clients(live: LiveApi, username: str) -> list[ApiClient]:
    clients = [ApiClient(live.app) for _ in range(TOGETHER)]
    for client in clients:
        client.login(username)
    return clients


def test_a_rerun_requested_together_is_queued_once(live: LiveApi, analysed: int, broker: redis.Redis) -> None:
    clients = _clients(live, "reader")
    codes = run_together(TOGETHER, lambda i: clients[i].post(f"/api/cases/{analysed}/runs", json={}).status_code)
    assert sorted(codes) == [201] + [409] * (TOGETHER - 1)
    queued = select(Job.id).where(Job.case_id == analysed, Job.status == JobStatus.queued)
    assert _count(live, queued) == 1


def test_first_flag_verdicts_sent_together_leave_one_row(live: LiveApi, analysed: int) -> None:
    with live.sessions() as session:
        flag_id = session.scalars(
            select(Flag.id).join(Result, Result.id == Flag.result_id).where(Result.case_id == analysed)
        ).first()
    clients = _clients(live, "reader")
    codes = run_together(
        TOGETHER, lambda i: clients[i].put(f"/api/flags/{flag_id}/verdict", json={"verdict": "accept"}).status_code
    )
    assert codes == [200] * TOGETHER
    assert _count(live, select(FlagVerdict.id).where(FlagVerdict.flag_id == flag_id)) == 1
    with live.sessions() as session:
        assert session.scalar(select(FlagVerdict.version).where(FlagVerdict.flag_id == flag_id)) == TOGETHER


def test_first_case_verdicts_and_review_time_sent_together_leave_one_row(live: LiveApi, analysed: int) -> None:
    clients = _clients(live, "reader")
    verdicts = run_together(
        TOGETHER, lambda i: clients[i].put(f"/api/cases/{analysed}/verdict", json={"verdict": "normal"}).status_code
    )
    times = run_together(
        TOGETHER, lambda i: clients[i].post(f"/api/cases/{analysed}/review-time", json={"seconds": 5}).status_code
    )
    assert verdicts == [200] * TOGETHER and times == [204] * TOGETHER
    assert _count(live, select(CaseVerdict.id).where(CaseVerdict.case_id == analysed)) == 1
    with live.sessions() as session:
        seconds = session.scalars(select(ReviewTime.seconds).where(ReviewTime.case_id == analysed)).all()
    assert seconds == [5.0 * TOGETHER]  # every heartbeat counted, in one row


def test_one_user_created_together_twice_is_one_user_and_conflicts(live: LiveApi) -> None:
    if not _exists(live, "chief"):
        live.add_user("chief", ["admin"])
    clients = _clients(live, "chief")
    body = {"username": "twin", "password": "a long password", "roles": ["clinician"]}
    codes = run_together(TOGETHER, lambda i: clients[i].post("/api/users", json=body).status_code)
    assert sorted(codes) == [201] + [409] * (TOGETHER - 1)
    assert _count(live, select(User.id).where(User.username == "twin")) == 1


def _hold_then(first, second) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Run ``first`` (which opens a transaction, does its writes, then waits on the event it is given before it
    commits) and ``second`` meanwhile; the outcome of ``second``: "done" or the exception it raised."""
    import threading

    holding, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def run_first() -> None:
        first(holding, release)

    def run_second() -> None:
        holding.wait()
        try:
            second()
            outcome["second"] = "done"
        except Exception as exc:  # the outcome is what the test looks at
            outcome["second"] = exc

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    threading.Event().wait(0.5)  # the second is now waiting on the first's locks, if it waits at all
    release.set()
    for thread in threads:
        thread.join()
    return outcome


def test_a_finding_marked_while_its_case_is_deleted_is_a_404_not_a_500(live: LiveApi, analysed: int) -> None:
    from neurotriage.cases.deletion import delete_case_rows
    from neurotriage.core.errors import NotFound
    from neurotriage.reviews.case_review import add_missed_finding
    from neurotriage.reviews.schemas import MissedFindingIn

    def delete(holding, release) -> None:  # type: ignore[no-untyped-def]
        with live.sessions() as session:
            delete_case_rows(session, analysed, reason="withdrawn", actor_id=_user_id(live, "reader"), client_ip=None)
            holding.set()
            release.wait()
            session.commit()

    def mark() -> None:
        with live.sessions() as session:
            reader = session.get(User, _user_id(live, "reader"))
            add_missed_finding(session, reader, analysed, MissedFindingIn(point_mm=[1.0, 2.0, 3.0]))
            session.commit()

    outcome = _hold_then(delete, mark)
    assert isinstance(outcome["second"], NotFound), outcome


def test_a_case_deleted_while_a_flag_verdict_is_saved_goes_whole(live: LiveApi, analysed: int) -> None:
    from neurotriage.cases.deletion import delete_case_rows
    from neurotriage.reviews.schemas import FlagVerdictIn
    from neurotriage.reviews.service import set_flag_verdict

    with live.sessions() as session:
        flag_id = session.scalars(
            select(Flag.id).join(Result, Result.id == Flag.result_id).where(Result.case_id == analysed)
        ).first()

    def save_verdict(holding, release) -> None:  # type: ignore[no-untyped-def]
        with live.sessions() as session:
            reader = session.get(User, _user_id(live, "reader"))
            set_flag_verdict(session, reader, flag_id, FlagVerdictIn(verdict="accept"))
            holding.set()
            release.wait()
            session.commit()

    def delete() -> None:
        with live.sessions() as session:
            delete_case_rows(session, analysed, reason="withdrawn", actor_id=_user_id(live, "reader"), client_ip=None)
            session.commit()

    outcome = _hold_then(save_verdict, delete)
    assert outcome["second"] == "done", outcome
    assert _count(live, select(FlagVerdict.id).where(FlagVerdict.flag_id == flag_id)) == 0
    assert _count(live, select(Flag.id).where(Flag.id == flag_id)) == 0


def _user_id(live: LiveApi, username: str) -> int:
    with live.sessions() as session:
        return int(session.scalars(select(User.id).where(User.username == username)).one())

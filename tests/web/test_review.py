"""
Provisional points over HTTP and JSON-RPC, against a real Redis and a
listening Site started as with C{--review-days 3}: a push's commits held
(the webhook's answer and the commit's REST record say so), flagged ones
waiting for an admin, players' reports (C{julython.reportCommit}), the
admin's queue, acceptance and rejection (C{admin.reviewQueue},
C{admin.acceptCommit}, C{admin.rejectCommit}: the recount job takes a
rejected commit's points off the boards), for admins only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.config import Config
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.schedule import RELEASE_EVERY, Plan
from julytwisted.models import Job
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import github_payload, sha
from tests.test_methods import ADMIN, basic, finished, rpc, signup
from tests.web.test_web import call, post_github


@pytest.fixture
def store(redis: RedisService, clock: Clock, config: Config) -> Store:
    """The store of a node started with C{--review-days 3}."""
    return Store(redis.client, clock, config.games, review_days=3)


async def points(server: str, username: str = "ada") -> tuple[int, int]:
    _, player, _ = await call("GET", f"{server}/api/v1/people/{username}")
    return player["points"], player["pending_points"]


async def commit_record(server: str, seed: str) -> dict[str, Any]:
    code, found, _ = await call("GET", f"{server}/api/v1/commits/{sha(seed)}")
    assert code == 200, found
    return found  # type: ignore[no-any-return]


async def bob(server: str) -> str:
    """Bob signs up; his credentials, for his calls."""
    code, answer = await rpc(
        server,
        "julython.signup",
        {"username": "bob", "password": "correct horse", "email": "bob@example.com"},
    )
    assert code == 200, answer
    return basic("bob", "correct horse")


@pytest_twisted.ensureDeferred
async def test_a_push_is_held_and_an_admin_accepts(server: str) -> None:
    """
    The webhook answers the held commits; each is held until three days
    after its arrival, its points pending.  The admin's queue lists both;
    accepted, one counts at once.  A player may not accept.
    """
    await signup(server)
    code, answer, _ = await post_github(server, github_payload("a", "b"))
    assert code == 201
    assert answer["held"] == [sha("a"), sha("b")]
    found = await commit_record(server, "a")
    assert (found["review"], found["review_until"], found["games"]) == (
        "held",
        "2026-07-18T12:00:00Z",
        [],
    )
    assert await points(server) == (0, 2)

    _, answer = await rpc(server, "admin.reviewQueue", {}, auth=ADMIN)
    queued = answer["result"]["commits"]
    assert [q["commit"]["hash"] for q in queued] == [sha("a"), sha("b")]

    _, answer = await rpc(
        server, "admin.acceptCommit", [sha("a")], auth=basic("ada", "correct horse")
    )
    assert answer["error"]["code"] == 403
    _, answer = await rpc(server, "admin.acceptCommit", [sha("a")], auth=ADMIN)
    assert answer["result"]["review"] == "accepted"
    assert await points(server) == (11, 1)
    _, answer = await rpc(server, "admin.reviewQueue", {}, auth=ADMIN)
    assert [e["action"] for e in answer["result"]["log"]] == ["accept"]


@pytest_twisted.ensureDeferred
async def test_report_then_reject_takes_points_off(server: str) -> None:
    """
    Bob reports ada's accepted commit, with a reason (none, or a second
    report, is refused); the admin rejects it with a reason: the recount
    job takes its points off every board, and its record says why.
    """
    await signup(server)
    await post_github(server, github_payload("a", "b"))
    for seed in ("a", "b"):
        await rpc(server, "admin.acceptCommit", [sha(seed)], auth=ADMIN)
    assert await points(server) == (12, 0)

    auth = await bob(server)
    _, answer = await rpc(server, "julython.reportCommit", [sha("b"), ""], auth=auth)
    assert answer["error"]["code"] == -32602
    _, answer = await rpc(server, "julython.reportCommit", [sha("b"), "copied"])
    assert "error" in answer
    _, answer = await rpc(
        server, "julython.reportCommit", [sha("b"), "copied from cy"], auth=auth
    )
    assert "result" in answer, answer
    _, answer = await rpc(
        server, "julython.reportCommit", [sha("b"), "copied"], auth=auth
    )
    assert answer["error"]["code"] == 409

    _, answer = await rpc(
        server, "admin.rejectCommit", [sha("b"), "copied from cy's repo"], auth=ADMIN
    )
    rejected = answer["result"]
    assert rejected["commit"]["review"] == "rejected"
    [job] = rejected["recount"]
    await finished(server, job)
    assert await points(server) == (11, 0)
    _, project, _ = await call("GET", f"{server}/api/v1/projects/gh-ada-engine")
    assert project["points"] == 11
    found = await commit_record(server, "b")
    assert (found["review"], found["review_reason"], found["games"]) == (
        "rejected",
        "copied from cy's repo",
        [],
    )
    _, answer = await rpc(server, "admin.acceptCommit", [sha("b")], auth=ADMIN)
    assert answer["error"]["code"] == 409


@pytest_twisted.ensureDeferred
async def test_an_empty_commit_waits_for_an_admin(server: str) -> None:
    """
    A GitHub commit touching no file is held, flagged empty, with no date
    to count by: it waits for an admin.
    """
    await signup(server)
    payload = github_payload("a")
    payload["commits"][0].update(added=[], removed=[], modified=[])
    await post_github(server, payload)
    found = await commit_record(server, "a")
    assert (found["review"], found["review_flags"], found["review_until"]) == (
        "held",
        ["empty"],
        None,
    )


@pytest_twisted.ensureDeferred
async def test_an_unknown_commit_is_404(server: str) -> None:
    """Reports and verdicts of a commit never stored are 404."""
    auth = await bob(server)
    _, answer = await rpc(server, "julython.reportCommit", [sha("x"), "why"], auth=auth)
    assert answer["error"]["code"] == 404
    _, answer = await rpc(server, "admin.rejectCommit", [sha("x"), "why"], auth=ADMIN)
    assert answer["error"]["code"] == 404


@pytest_twisted.ensureDeferred
async def test_the_release_job_counts_them_after_the_days(
    server: str, queue: Queue, clock: Clock
) -> None:
    """
    The scheduler's release job, run by the node's worker three days after
    the push, lets the held commits count; it is due every five minutes.
    """
    await signup(server)
    await post_github(server, github_payload("a", "b"))
    clock.advance(3 * 86400)
    job = await queue.enqueue(Job.RELEASE_HELD)
    status = await finished(server, job)
    assert status["result"] == {"released": 2}
    assert await points(server) == (12, 0)
    now = datetime.fromtimestamp(clock.seconds(), UTC)
    due = Plan(None, None, RELEASE_EVERY).due(now)
    assert [o.job for o in due] == [Job.RELEASE_HELD]

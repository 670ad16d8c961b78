"""
Games at run time over real HTTP against a real redis-server: the admin's
JSON-RPC methods (admin.createGame, admin.updateGame, admin.endGame), the
recount a running game's change queues (taking in, once extended, the
commits pushed meanwhile), and C{GET /api/v1/games/<slug>} with the
game's log.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest_twisted
import treq
from twisted.internet.task import Clock

from julytwisted.store import Store
from tests.builders import body, github_payload
from tests.test_methods import ADMIN, basic, finished, rpc, signup

SPRINT = {
    "name": "Meetup Sprint",
    "start": "2026-07-15T12:00:00Z",
    "end": "2026-07-20T00:00:00+00:00",
    "commitPoints": 3,
    "firstBonus": 5,
}


async def get(server: str, path: str) -> tuple[int, Any]:
    response = await treq.get(server + path)
    return response.code, json.loads(await response.content())


async def points(server: str, game: str) -> int:
    code, player = await get(server, f"/api/v1/people/ada?game={game}")
    assert code == 200, player
    return int(player["points"])


async def push_now(server: str, store: Store, seed: str) -> None:
    await push_at(server, store.now() + timedelta(minutes=1), seed)


async def push_at(server: str, when: datetime, seed: str) -> None:
    """Push ada's commit made at C{when}, now."""
    response = await treq.post(
        server + "/api/v1/github",
        data=body(github_payload(seed, when=when)),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert response.code in (200, 201), await response.content()


@pytest_twisted.ensureDeferred
async def test_create_score_change_end(server: str, store: Store, clock: Clock) -> None:
    """
    An admin makes a game with its own points; a push scores them; changing
    the points of the running game queues a recount that rescores it; ending
    it early is logged too, and its page in the API shows every change.
    """
    await signup(server)
    code, answer = await rpc(server, "admin.createGame", SPRINT, auth=ADMIN)
    assert code == 200, answer
    game = answer["result"]["game"]
    assert (game["slug"], game["state"], game["commit_points"]) == (
        "meetup-sprint",
        "running",
        3,
    )
    assert answer["result"]["recount"] is None
    await push_now(server, store, "a")
    assert await points(server, "meetup-sprint") == 8
    _, answer = await rpc(
        server,
        "admin.updateGame",
        {"slug": "meetup-sprint", "commitPoints": 2, "firstBonus": 0},
        auth=ADMIN,
    )
    job = answer["result"]["recount"]
    assert job, answer
    assert (await finished(server, job))["result"]["repaired"]
    assert await points(server, "meetup-sprint") == 2
    clock.advance(3600)
    _, answer = await rpc(server, "admin.endGame", ["meetup-sprint"], auth=ADMIN)
    await finished(server, answer["result"]["recount"])
    code, detail = await get(server, "/api/v1/games/meetup-sprint")
    assert code == 200
    assert detail["state"] == "ended" and detail["end"] == "2026-07-15T13:00:00Z"
    log = detail["log"]
    assert [(e["action"], e["by"]) for e in log] == [
        ("created", "admin"),
        ("updated", "admin"),
        ("ended", "admin"),
    ]
    assert log[1]["changes"] == [
        {"field": "commit_points", "old": "3", "new": "2"},
        {"field": "first_bonus", "old": "5", "new": "0"},
    ]
    assert log[0]["changes"][0] == {
        "field": "start",
        "old": None,
        "new": "2026-07-15T12:00:00+00:00",
    }


@pytest_twisted.ensureDeferred
async def test_upcoming_edit_needs_no_recount(server: str) -> None:
    """An edit of a game that has not started is saved with no recount."""
    later = SPRINT | {"name": "Later", "start": "2026-07-16T00:00:00Z"}
    await rpc(server, "admin.createGame", later, auth=ADMIN)
    _, answer = await rpc(
        server,
        "admin.updateGame",
        {"slug": "later", "start": "2026-07-17T00:00:00Z", "firstBonus": 1},
        auth=ADMIN,
    )
    assert answer["result"]["recount"] is None
    assert answer["result"]["game"]["start"] == "2026-07-17T00:00:00Z"
    assert answer["result"]["game"]["first_bonus"] == 1


@pytest_twisted.ensureDeferred
async def test_bad_edits_are_refused_and_lose_nothing(server: str) -> None:
    """
    Bad input answers -32602 (or 409 for a taken slug, 403 for a player, 404
    for no game) and the game and its log stay as they were.
    """
    await signup(server)
    await rpc(server, "admin.createGame", SPRINT, auth=ADMIN)
    bad_creates = [
        SPRINT | {"name": "Other", "start": "tomorrow"},
        SPRINT | {"name": "Other", "start": "2026-07-16T00:00:00"},
        SPRINT | {"name": "Other", "end": "2026-07-15T11:00:00Z"},
        SPRINT | {"name": "Other", "commitPoints": 101},
        SPRINT | {"name": "Other", "firstBonus": -1},
        SPRINT | {"name": "Other", "commitPoints": "3"},
        SPRINT | {"name": "Julython 2030"},
        SPRINT | {"name": "!!!"},
    ]
    for params in bad_creates:
        _, answer = await rpc(server, "admin.createGame", params, auth=ADMIN)
        assert answer["error"]["code"] == -32602, params
    _, answer = await rpc(
        server, "admin.createGame", SPRINT | {"name": "meetup sprint"}, auth=ADMIN
    )
    assert answer["error"]["code"] == 409
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "admin.endGame", ["meetup-sprint"], auth=auth)
    assert answer["error"]["code"] == 403
    bad_updates = [
        {"slug": "meetup-sprint", "start": "2026-07-15T13:00:00Z"},
        {"slug": "meetup-sprint", "end": "2026-07-15T11:59:00Z"},
        {"slug": "meetup-sprint", "commitPoints": 1000},
        {"slug": "julython-2026", "commitPoints": 2},
    ]
    for params in bad_updates:
        _, answer = await rpc(server, "admin.updateGame", params, auth=ADMIN)
        assert answer["error"]["code"] == -32602, params
    _, answer = await rpc(server, "admin.endGame", ["no-such-game"], auth=ADMIN)
    assert answer["error"]["code"] == 404
    _, detail = await get(server, "/api/v1/games/meetup-sprint")
    assert (detail["start"], detail["end"], detail["commit_points"]) == (
        "2026-07-15T12:00:00Z",
        "2026-07-20T00:00:00Z",
        3,
    )
    assert len(detail["log"]) == 1
    code, _ = await get(server, "/api/v1/games/no-such-game")
    assert code == 404


@pytest_twisted.ensureDeferred
async def test_extending_takes_in_commits_pushed_meanwhile(
    server: str, store: Store, clock: Clock
) -> None:
    """
    A commit pushed before the sprint's end but dated after it (its clock
    ahead) scores nothing there; extending the running sprint queues a
    recount that takes it in, as the push would have scored it.
    """
    await signup(server)
    await rpc(server, "admin.createGame", SPRINT, auth=ADMIN)
    clock.advance(timedelta(days=4).total_seconds())
    await push_at(server, store.now() + timedelta(hours=18), "a")
    assert await points(server, "julython-2026") == 11
    assert await points(server, "meetup-sprint") == 0
    _, answer = await rpc(
        server,
        "admin.updateGame",
        {"slug": "meetup-sprint", "end": "2026-07-25T00:00:00Z"},
        auth=ADMIN,
    )
    done = await finished(server, answer["result"]["recount"])
    assert done["result"]["added"] == 1
    assert await points(server, "meetup-sprint") == 3 + 5
    code, commits = await get(server, "/api/v1/commits?game=meetup-sprint")
    assert code == 200 and len(commits["models"]) == 1

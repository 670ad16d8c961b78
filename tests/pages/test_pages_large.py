"""
Every page over a game of 10,000 players, seeded once for the module through
the store (players concurrently, commits in pushes of 2,000), on a
redis-server and a Site of the module's own.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import Clock

from julytwisted.config import Config, RedisAddress
from julytwisted.jobs.queue import Queue
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, all_of
from tests.builders import commit, ingest, project, push
from tests.conftest import NOW, start_redis_server
from tests.htmlcheck import check_page

PLAYERS = 10_000
PER_PUSH = 2_000


async def seed(store: Store) -> None:
    """10,000 players in 100 locations and 50 teams, a commit each."""
    for start in range(0, PLAYERS, 500):
        await all_of(
            [
                store.create_player(
                    f"p{i:05}",
                    f"Player <{i}>",
                    [f"p{i}@example.com"],
                    f"City {i % 100}",
                    f"Team {i % 50}",
                    approve_team=True,
                )
                for i in range(start, start + 500)
            ]
        )
    for start in range(0, PLAYERS, PER_PUSH):
        commits = [
            commit(f"c{i}", email=f"p{i}@example.com", message=f"work <{i}>")
            for i in range(start, start + PER_PUSH)
        ]
        await ingest(store, push(*commits, proj=project("org", f"repo{start}")))


@pytest_twisted.async_yield_fixture(scope="module")
async def big_server() -> AsyncIterator[str]:
    """A Site over a game of 10,000 players; yields its base URL."""
    directory = Path(tempfile.mkdtemp(prefix="julython-big-"))
    process, socket = start_redis_server(directory)
    redis = RedisService(
        reactor, RedisAddress(None, None, str(socket), 0, None), directory
    )
    redis.startService()
    clock = Clock()
    clock.advance(NOW.timestamp())
    store = Store(redis.client, clock)
    await seed(store)
    from julytwisted.service import build_site

    config = Config(data_dir=directory, admin_token="admin-secret")
    site = build_site(store, config, Queue(redis.client, reactor), clock=clock)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()
    await redis.stopService()
    process.terminate()
    process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


PAGES = (
    "/",
    "/people/",
    "/people/?page=200",
    "/projects/",
    "/projects/?size=small",
    "/locations/",
    "/locations/?page=2",
    "/teams/",
    "/languages/",
    "/people/p04242",
    "/projects/gh-org-repo4000",
    "/locations/city-42",
    "/teams/team-7",
    "/help/",
)


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("path", PAGES)
async def test_pages_of_a_big_game(big_server: str, path: str) -> None:
    """Each page answers 200 with a valid page."""
    answer = await treq.get(big_server + path)
    body = await answer.content()
    assert answer.code == 200, body[:500]
    check_page(body)


@pytest_twisted.ensureDeferred
async def test_big_boards_count_and_page(big_server: str) -> None:
    """The home page counts 10,000 players; the last page holds the last 50."""
    body = await (await treq.get(big_server + "/")).content()
    assert b"10,000</strong> commits and <strong>10,000</strong> players" in body
    body = await (await treq.get(big_server + "/people/?page=200")).content()
    tree: Any = check_page(body)
    rows = tree.findall(".//tbody/tr")
    assert len(rows) == 50
    assert tree.find(".//a[@rel='next']") is None

"""
Every kind of page stays under 100 KB in a big game, over a real Site and
Redis: a twenty-year game, a player with a commit every nine days of it,
150 players in one location and team, each with a project of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from julytwisted.config import Config
from julytwisted.store import Store, all_of
from tests.builders import commit, ingest, project, push
from tests.htmlcheck import check_page
from tests.pages.test_player_pages import LONG, MOST_BYTES, years_of_commits

MEMBERS = 150

#: A page of each kind, in the long game where a page takes one.
PAGES = (
    "/",
    "/people/",
    "/projects/",
    "/projects/?size=small",
    "/locations/",
    "/teams/",
    "/languages/",
    "/people/ada",
    "/people/ada?game=long",
    "/projects/gh-ada-p0?game=long",
    "/locations/lyon?game=long",
    "/teams/snakes?game=long",
    "/help/",
    "/live/",
    "/json/browse/",
    "/signup",
    "/login",
)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The tests' configuration, with the twenty-year game."""
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        open_repositories=True,
        games=(LONG,),
    )


async def seed(store: Store) -> None:
    await all_of(
        [
            store.create_player(
                name,
                name.title(),
                [f"{name}@example.com"],
                "Lyon",
                "Snakes",
                approve_team=True,
            )
            for name in ("ada", *(f"m{i:03}" for i in range(MEMBERS)))
        ]
    )
    await years_of_commits(store, "ada")
    when = datetime(2026, 7, 10, tzinfo=UTC)
    for i in range(MEMBERS):
        made = commit(f"m{i}", email=f"m{i:03}@example.com", when=when)
        await ingest(store, push(made, proj=project("m", f"repo{i}")))


@pytest_twisted.ensureDeferred
async def test_every_page_is_under_100_kb(
    live_server: tuple[str, Any], store: Store
) -> None:
    """Each page answers 200, valid, in less than 100 KB before gzip."""
    server, _ = live_server
    await seed(store)
    sizes = {}
    for path in PAGES:
        answer = await treq.get(server + path, headers={"Accept-Encoding": "identity"})
        body = await answer.content()
        assert answer.code == 200, (path, body[:300])
        check_page(body)
        sizes[path] = len(body)
    assert max(sizes.values()) < MOST_BYTES, sizes
    assert sizes["/people/ada?game=long"] > 20_000, sizes

"""
A location's and a team's pages, over a real Site and Redis: their members
with their points in the game shown, most first, the top hundred of a big
group; the game named in a heading, not a dangling "In GAME:".
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from julytwisted.config import Config
from julytwisted.config._parsers import parse_game
from julytwisted.store import Store, all_of
from tests.builders import commit, ingest, push
from tests.htmlcheck import check_page

RETRO = parse_game("Retro=2012-07-01T00:00:00Z/2012-08-01T00:00:00Z")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The tests' configuration, with a game called Retro."""
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        open_repositories=True,
        games=(RETRO,),
    )


async def get(url: str) -> Any:
    answer = await treq.get(url)
    body = await answer.content()
    assert answer.code == 200, body[:300]
    return check_page(body)


def members(tree: Any) -> list[tuple[str, str, str, str]]:
    """The members table: each player's name, link, points and commits."""
    return [
        (
            row.find("th/a").text,
            row.find("th/a").get("href"),
            row[1].text,
            row[2].text,
        )
        for row in tree.iterfind(".//main//table/tbody/tr")
    ]


async def seed(store: Store) -> None:
    """Ada (2 commits) and Bob (1) in Lyon and Snakes, Cy in Lyon, idle."""
    for name in ("ada", "bob", "cy"):
        await store.create_player(
            name, name.title(), [f"{name}@example.com"], "Lyon",
            "Snakes" if name != "cy" else None, approve_team=True,
        )  # fmt: skip
    await ingest(
        store,
        push(commit("a1"), commit("a2"), commit("b1", email="bob@example.com")),
    )


@pytest_twisted.ensureDeferred
async def test_groups_list_their_members(server: str, store: Store) -> None:
    """
    Lyon lists Ada, Bob and Cy with their points in the game, most first;
    Snakes lists its two.  Each links to the player's page in that game.
    """
    await seed(store)
    tree = await get(server + "/locations/lyon")
    game = "?game=julython-2026"
    assert members(tree) == [
        ("Ada", "/people/ada" + game, "12", "2"),
        ("Bob", "/people/bob" + game, "11", "1"),
        ("Cy", "/people/cy" + game, "0", "0"),
    ]
    caption = tree.findtext(".//main//table/caption")
    assert caption == "Members' points in Julython 2026"
    tree = await get(server + "/teams/snakes")
    assert [m[0] for m in members(tree)] == ["Ada", "Bob"]


@pytest_twisted.ensureDeferred
async def test_the_game_is_a_heading(server: str, store: Store) -> None:
    """
    In a game the group has nothing in, the page names the game in a
    heading over the figures (0, unranked); no paragraph dangles on a
    colon; the members are listed with 0.
    """
    await seed(store)
    tree = await get(server + "/teams/snakes?game=retro")
    headings = [h.text for h in tree.iterfind(".//main/h2")]
    assert headings[:2] == ["In Retro", "Members"]
    dangling = [
        p.text for p in tree.iterfind(".//main/p") if (p.text or "").endswith(":")
    ]
    assert dangling == []
    figures = [dd.text for dd in tree.iterfind(".//dl[@class='figures']//dd")]
    assert figures == ["unranked", "0", "0"]
    assert {m[2] for m in members(tree)} == {"0"}


@pytest_twisted.ensureDeferred
async def test_a_big_group_lists_its_top_hundred(server: str, store: Store) -> None:
    """Of 105 members, the page lists the hundred with the most points."""
    await all_of(
        [
            store.create_player(f"p{i:03}", f"P{i}", [f"p{i}@example.com"], "Lyon")
            for i in range(105)
        ]
    )
    when = datetime(2026, 7, 10, tzinfo=UTC)
    await ingest(
        store,
        push(
            *(commit(f"c{i}", email=f"p{i}@example.com", when=when) for i in range(3))
        ),
    )
    tree = await get(server + "/locations/lyon")
    listed = members(tree)
    assert len(listed) == 100
    assert {m[0] for m in listed[:3]} == {"P0", "P1", "P2"}
    caption = tree.findtext(".//main//table/caption")
    assert caption == "The top 100 of 105 members by points in Julython 2026"

"""
A player's page in games of every length, over a real Site and Redis: the
calendar of a twenty-year game spans the weeks that hold commits (a year
at most) with the year in its labels, and stays small; a player with
nothing in a game reads 0 and "No commits yet in GAME".  The days a
calendar shows are checked without a reactor too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from julytwisted.config import Config
from julytwisted.config._parsers import parse_game
from julytwisted.game.badges import game_days
from julytwisted.pages._calendar import MOST_WEEKS, shown_days
from julytwisted.store import Store
from tests.builders import commit, ingest, project, push
from tests.htmlcheck import check_page

#: A game of twenty years and one of a month, besides the built-in ones.
LONG = parse_game("Long=2006-01-01T00:00:00Z/2026-12-31T00:00:00Z")
RETRO = parse_game("Retro=2012-07-01T00:00:00Z/2012-08-01T00:00:00Z")

#: Where a page must stay below.
MOST_BYTES = 100_000


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The tests' configuration, with the long game and Retro."""
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        open_repositories=True,
        games=(LONG, RETRO),
    )


async def get(url: str) -> tuple[bytes, Any]:
    answer = await treq.get(url)
    body = await answer.content()
    assert answer.code == 200, body[:300]
    return body, check_page(body)


async def years_of_commits(
    store: Store, username: str, every: int = 9
) -> list[datetime]:
    """
    A commit of C{username} every C{every} days of the long game, up to
    the tests' now (July 2026), each pushed as it was made.

    @return: their times.
    """
    stamps = []
    when = datetime(2006, 1, 5, 10, tzinfo=UTC)
    while when < datetime(2026, 7, 12, tzinfo=UTC):
        stamps.append(when)
        when += timedelta(days=every)
    made = [
        commit(f"{username}{i}", email=f"{username}@example.com", when=t)
        for i, t in enumerate(stamps)
    ]
    # Each arrives the hour after it was made: twenty years of history
    # pushed at once would be stale, held for an admin.
    for one in made:
        arrived = one.timestamp + timedelta(hours=1)
        await ingest(store, push(one, proj=project("ada", "p0")), arrived)
    return stamps


@pytest_twisted.ensureDeferred
async def test_a_twenty_year_calendar_spans_a_year(server: str, store: Store) -> None:
    """
    In a twenty-year game with a commit every nine days, the calendar shows
    the latest 53 weeks with commits, ending with the week of the last one,
    each day labelled with its year; the page stays under 100 KB.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    last = (await years_of_commits(store, "ada"))[-1].date()
    sunday = last + timedelta(days=6 - last.weekday())
    monday = sunday - timedelta(weeks=MOST_WEEKS, days=-1)
    body, tree = await get(server + "/people/ada?game=long")
    assert len(body) < MOST_BYTES, len(body)
    days = tree.findall(".//ol[@class='heatmap wide']/li[@title]")
    assert len(days) == MOST_WEEKS * 7
    assert days[-1].get("title") == f"{sunday:%a %d %b %Y}: 0 commits"
    assert days[0].get("title").startswith(f"Mon {monday:%d %b %Y}: ")
    busy = [d.get("title") for d in days if not d.get("title").endswith(" 0 commits")]
    assert busy[-1] == f"{last:%a %d %b %Y}: 1 commit"
    assert len(busy) in (41, 42)
    text = " ".join(tree.itertext())
    assert f"From Mon {monday:%d %b %Y} to Sun {sunday:%d %b %Y}" in text


@pytest_twisted.ensureDeferred
async def test_a_month_game_shows_the_whole_month(server: str, store: Store) -> None:
    """Retro, a month long, shows its 31 days upright, labelled with 2012."""
    await store.create_player("ada", "Ada", ["ada@example.com"])
    retro = commit("r", when=datetime(2012, 7, 9, 10, tzinfo=UTC))
    await ingest(store, push(retro), datetime(2012, 7, 9, 11, tzinfo=UTC))
    _, tree = await get(server + "/people/ada?game=retro")
    days = tree.findall(".//ol[@class='heatmap']/li[@title]")
    assert len(days) == 31
    assert days[8].get("title") == "Mon 09 Jul 2012: 1 commit"


@pytest_twisted.ensureDeferred
async def test_a_player_without_points_reads_zero(server: str, store: Store) -> None:
    """
    A new player, and a player with commits in other games only: their
    figures read 0 (unranked), and the calendar says there are no commits
    yet in the game, naming it.
    """
    await store.create_player("bob", "Bob", ["bob@example.com"])
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await ingest(store, push(commit("a")))
    for path, game in [
        ("/people/bob", "Julython 2026"),
        ("/people/ada?game=retro", "Retro"),
    ]:
        body, tree = await get(server + path)
        figures = [dd.text for dd in tree.iterfind(".//dl[@class='figures']//dd")]
        assert figures == ["unranked", "0", "0", "0"], path
        assert f"No commits yet in {game}." in " ".join(tree.itertext()), path
        assert b">none<" not in body
        assert tree.find(".//ol[@class='heatmap']") is None


def test_shown_days_of_a_month() -> None:
    """A game shorter than a year shows all its days, if any holds a commit."""
    days = game_days(RETRO)
    assert shown_days(days, {date(2012, 7, 3): 2}) == days
    assert shown_days(days, {}) == []
    assert shown_days(days, {date(2013, 1, 1): 2}) == []


def test_shown_days_of_a_long_game() -> None:
    """
    A long game shows the weeks from its first to its last commit, whole
    weeks from Monday, or the latest 53 of them; days outside it never.
    """
    days = game_days(LONG)
    shown = shown_days(days, {date(2010, 3, 3): 1, date(2010, 4, 1): 1})
    assert (shown[0], shown[-1]) == (date(2010, 3, 1), date(2010, 4, 4))
    shown = shown_days(days, {date(2007, 1, 1): 1, date(2020, 6, 10): 4})
    assert (shown[0], shown[-1]) == (date(2019, 6, 10), date(2020, 6, 14))
    assert len(shown) == MOST_WEEKS * 7
    shown = shown_days(days, {date(2006, 1, 1): 1})
    assert (shown[0], shown[-1]) == (date(2006, 1, 1), date(2006, 1, 1))

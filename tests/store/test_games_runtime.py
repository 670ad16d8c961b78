"""
Games made and changed at run time, against a real redis-server: two nodes
(two L{Store}s on one Redis) see each other's changes, the flags are seeded
once, edits follow the rules of L{julytwisted.game.games.check_edit}, each
change is logged, and a game's own points score in the ingest and the
recount as the reference tally says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater

from julytwisted.config import RedisAddress
from julytwisted.errors import Conflict, InvalidInput, NotFound
from julytwisted.game.games import Game
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.live.test_live import calls
from tests.store.test_store import ada
from tests.store.test_store_members import assert_boards_match_tally

#: The clock's now is 2026-07-15 12:00 UTC (tests/conftest.py).
SPRINT = Game(
    "Meetup Sprint",
    datetime(2026, 7, 15, 12, tzinfo=UTC),
    datetime(2026, 7, 20, tzinfo=UTC),
    commit_points=3,
    first_bonus=5,
)


@pytest_twisted.ensureDeferred
async def test_two_nodes_see_a_new_game(
    store: Store, redis_socket: Path, tmp_path: Path, clock: Clock
) -> None:
    """A game made on one node is found on another once it refreshes."""
    other = RedisService(
        reactor, RedisAddress(None, None, str(redis_socket), 0, None), tmp_path
    )
    other.startService()
    try:
        second = Store(other.client, clock, ())
        with pytest.raises(NotFound):
            second.game("meetup-sprint")
        await store.games.create(SPRINT, "admin")
        await second.games.refresh()
        assert second.game("meetup-sprint") == SPRINT
        await store.games.update("meetup-sprint", "ada", commit_points=4)
        await second.games.refresh()
        assert second.game("meetup-sprint").commit_points == 4
    finally:
        await other.stopService()


@pytest_twisted.ensureDeferred
async def test_refresh_reads_the_games_only_when_they_changed(
    store: Store, redis: RedisService
) -> None:
    """
    A node refreshes twice a second: with no game kept in Redis, it reads
    the version alone once it has loaded, and the whole games again only
    once one is made.
    """
    await store.games.refresh()
    loaded = await calls(redis, "hgetall")
    await store.games.refresh()
    await store.games.refresh()
    assert await calls(redis, "hgetall") == loaded
    await store.games.create(SPRINT, "admin")
    await store.games.refresh()
    assert await calls(redis, "hgetall") == loaded + 1
    assert store.game("meetup-sprint") == SPRINT


@pytest_twisted.ensureDeferred
async def test_watch_seeds_and_reloads(store: Store, clock: Clock) -> None:
    """
    A node's watching service seeds its flags' games when it starts, and
    reloads a change another node made at its next tick, half a second on.
    """
    flag = Game("Flag Jam", SPRINT.start, SPRINT.end)
    second = Store(store.redis, clock, (flag,))
    watch = second.games.watch()
    watch.startService()
    try:
        await until(lambda: "flag-jam" in store_slugs(second))
        await store.games.create(SPRINT, "admin")
        clock.advance(0.5)
        await until(lambda: "meetup-sprint" in store_slugs(second))
    finally:
        await watch.stopService()


def store_slugs(store: Store) -> set[str]:
    return {g.slug for g in store.games.configured}


async def until(condition: Callable[[], bool]) -> None:
    """Wait on the real reactor (Redis answers there) for C{condition}."""
    for _ in range(200):
        if condition():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("never happened")


@pytest_twisted.ensureDeferred
async def test_flags_are_seeded_once(store: Store, clock: Clock) -> None:
    """
    A flag's game is kept in Redis at start; an edit made at run time
    outlives a restart with the same flag (seeding again changes nothing).
    """
    flag = Game(
        "Flag Jam",
        datetime(2026, 7, 20, tzinfo=UTC),
        datetime(2026, 7, 22, tzinfo=UTC),
    )
    node = Store(store.redis, clock, (flag,))
    assert await node.games.seed() == ["flag-jam"]
    await node.games.update("flag-jam", "ada", first_bonus=20)
    restarted = Store(store.redis, clock, (flag,))
    assert await restarted.games.seed() == []
    assert restarted.game("flag-jam").first_bonus == 20
    log = (await restarted.games.detail("flag-jam")).log
    assert [(e.action, e.by) for e in log] == [
        ("created", "--game"),
        ("updated", "ada"),
    ]
    assert [(c.field, c.old, c.new) for c in log[1].changes] == [
        ("first_bonus", "10", "20")
    ]


@pytest_twisted.ensureDeferred
async def test_create_refuses_taken_slugs_and_bad_windows(store: Store) -> None:
    """Nothing is stored for a bad game, and a good one is not overwritten."""
    await store.games.create(SPRINT, "admin")
    with pytest.raises(Conflict):
        await store.games.create(
            Game("meetup  sprint!", SPRINT.start, SPRINT.end), "admin"
        )
    with pytest.raises(InvalidInput):
        await store.games.create(
            Game("Julython 2027", SPRINT.start, SPRINT.end), "admin"
        )
    with pytest.raises(InvalidInput):
        await store.games.create(
            Game("Yesterday", SPRINT.start - timedelta(days=1), SPRINT.end), "admin"
        )
    assert store.game("meetup-sprint") == SPRINT
    assert len((await store.games.detail("meetup-sprint")).log) == 1


@pytest_twisted.ensureDeferred
async def test_edit_rules(store: Store, clock: Clock) -> None:
    """
    Before it starts anything may change; running, its start is fixed and
    its end stays after now; ended, nothing changes but nothing; a built-in
    game never changes.  A refused edit leaves the game and its log as
    they were.
    """
    later = Game(
        "Later", datetime(2026, 7, 16, tzinfo=UTC), datetime(2026, 7, 18, tzinfo=UTC)
    )
    await store.games.create(later, "admin")
    _, _, changes = await store.games.update(
        "later", "admin", start=datetime(2026, 7, 17, tzinfo=UTC)
    )
    assert [c.field for c in changes] == ["start"]
    clock.advance(timedelta(days=1, hours=13).total_seconds())
    with pytest.raises(InvalidInput, match="start is fixed"):
        await store.games.update(
            "later", "admin", start=datetime(2026, 7, 16, tzinfo=UTC)
        )
    with pytest.raises(InvalidInput, match="into the past"):
        await store.games.update(
            "later", "admin", end=store.now() - timedelta(minutes=1)
        )
    with pytest.raises(InvalidInput):
        await store.games.update("later", "admin", commit_points=101)
    await store.games.end("later", "ada")
    assert store.game("later").end == store.now()
    with pytest.raises(InvalidInput, match="has ended"):
        await store.games.update("later", "admin", first_bonus=1)
    with pytest.raises(InvalidInput, match="already ended"):
        await store.games.end("later", "admin")
    _, _, none = await store.games.update("later", "admin", first_bonus=10)
    assert none == ()
    with pytest.raises(InvalidInput, match="built in"):
        await store.games.update("julython-2026", "admin", commit_points=2)
    assert [e.action for e in (await store.games.detail("later")).log] == [
        "created",
        "updated",
        "ended",
    ]


@pytest_twisted.ensureDeferred
async def test_own_points_score_and_recount(store: Store, clock: Clock) -> None:
    """
    A game's own points score in the ingest; changing them and recounting
    moves every board to the tally of the new points.
    """
    await ada(store)
    await store.games.create(SPRINT, "admin")
    clock.advance(3600)
    when = SPRINT.start + timedelta(minutes=30)
    await ingest(store, push(commit("a", when=when), commit("b", when=when)))
    assert (await store.detail("people", "ada", "meetup-sprint")).points == 3 * 2 + 5
    assert (await store.detail("people", "ada", "julython-2026")).points == 12
    await assert_boards_match_tally(store, "meetup-sprint")
    await store.games.update("meetup-sprint", "admin", commit_points=1, first_bonus=0)
    recount = await store.recount("meetup-sprint")
    assert recount.repaired
    assert (await store.detail("people", "ada", "meetup-sprint")).points == 2
    await assert_boards_match_tally(store, "meetup-sprint")
    assert (await store.recount("meetup-sprint")).repaired == ()


@pytest_twisted.ensureDeferred
async def test_ending_early_takes_later_commits_out(store: Store, clock: Clock) -> None:
    """Ending a game early and recounting drops commits made after its end."""
    await ada(store)
    await store.games.create(SPRINT, "admin")
    clock.advance(3600)
    await ingest(store, push(commit("a", when=SPRINT.start + timedelta(minutes=5))))
    clock.advance(3600)
    await store.games.end("meetup-sprint", "admin")
    late = SPRINT.start + timedelta(hours=3)
    clock.advance(3 * 3600)
    await ingest(store, push(commit("b", when=late)))
    await store.recount("meetup-sprint")
    assert (await store.detail("people", "ada", "meetup-sprint")).points == 8
    await assert_boards_match_tally(store, "meetup-sprint")


@pytest_twisted.ensureDeferred
async def test_ending_early_takes_out_commits_already_in(
    store: Store, clock: Clock
) -> None:
    """
    A commit that arrived while the game ran but was made after the end the
    game is then given (its clock ahead of the push's, or the game ended
    early) leaves every board with the recount, an orphan's project board
    too; the commit itself stays stored.
    """
    await store.games.create(SPRINT, "admin")
    clock.advance(3600)
    ahead = SPRINT.start + timedelta(hours=3)
    await ingest(store, push(commit("x", email="nobody@example.com", when=ahead)))
    assert (await store.detail("projects", "gh-ada-engine", "meetup-sprint")).points
    await store.games.end("meetup-sprint", "admin")
    await store.recount("meetup-sprint")
    board = await store.board("projects", "meetup-sprint")
    assert list(board.models) == []
    assert (await store.commit(commit("x").hash)).hash == commit("x").hash
    await assert_boards_match_tally(store, "meetup-sprint")

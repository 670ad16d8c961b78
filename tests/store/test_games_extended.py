"""
A running game whose window is extended, against a real redis-server: the
recount takes in the commits stored while the game did not hold them (their
own time after its old end, their arrival within its new window plus the
late grace), as the ingest would have scored them: an orphan for its
project (and for its player once adopted), a commit waiting for its host or
held for review waiting for this game too, one new to review held for the
review days left; and never one from the future.  A second recount repairs
nothing, and every board equals the reference tally throughout.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.game.games import Game
from julytwisted.game.hooks import repository
from julytwisted.redis_service import RedisService
from julytwisted.store import CommitMigration, Store
from tests.builders import commit, ingest, push, sha
from tests.store.test_games_runtime import SPRINT
from tests.store.test_store import ada
from tests.store.test_store_members import assert_boards_match_tally
from tests.store.test_verification import register

SLUG = SPRINT.slug
LATER_END = datetime(2026, 7, 25, tzinfo=UTC)
#: Made after the sprint's first end, pushed before it (a clock ahead of
#: the push's by less than the day allowed).
AHEAD = datetime(2026, 7, 20, 6, tzinfo=UTC)


async def before_the_end(store: Store, clock: Clock) -> None:
    """The sprint made; the clock four days on, half a day before its end."""
    await store.games.create(SPRINT, "admin")
    clock.advance(timedelta(days=4).total_seconds())


async def extend(store: Store) -> None:
    """An admin moves the sprint's end five days on, as admin.updateGame does."""
    await store.games.update(SLUG, "admin", end=LATER_END)


@pytest.fixture
def held(redis: RedisService, clock: Clock) -> Store:
    """A node whose new points are held for three days."""
    return Store(redis.client, clock, (), review_days=3)


@pytest_twisted.ensureDeferred
async def test_extension_takes_in_commits_stored_meanwhile(
    store: Store, clock: Clock
) -> None:
    """
    Ada's commit and an orphan made after the sprint's first end score in
    it once it is extended (3 + 5 each), and list it among their games; a
    commit from the future does not.  A second recount adds nothing.
    """
    await ada(store)
    await before_the_end(store, clock)
    await ingest(store, push(commit("a", when=AHEAD)))
    await ingest(
        store,
        push(commit("o", email="nobody@example.com", when=AHEAD + timedelta(hours=1))),
    )
    # 32 hours after its push: from the future, it never scores.
    await ingest(store, push(commit("f", when=AHEAD + timedelta(hours=14))))
    assert (await store.commit(sha("a"))).games == ("julython-2026",)
    await extend(store)

    recount = await store.recount(SLUG)
    assert (recount.commits, recount.added) == (2, 2)
    assert (await store.detail("people", "ada", SLUG)).points == 3 + 5
    assert (await store.detail("projects", "gh-ada-engine", SLUG)).points == 2 * 3 + 5
    assert (await store.commit(sha("a"))).games == ("julython-2026", SLUG)
    assert (await store.commit(sha("o"))).games == ("julython-2026", SLUG)
    assert (await store.commit(sha("f"))).games == ()
    assert await store.game_commits(SLUG) == 2
    await assert_boards_match_tally(store, SLUG)
    again = await store.recount(SLUG)
    assert (again.commits, again.added, again.repaired) == (2, 0, ())

    # The orphan's e-mail verified: its adoption scores it in the sprint too.
    await store.create_player("nob", "Nob", ["nobody@example.com"])
    await store.adopt_orphans("nobody@example.com")
    assert (await store.detail("people", "nob", SLUG)).points == 3 + 5
    await assert_boards_match_tally(store, SLUG)
    assert (await store.recount(SLUG)).repaired == ()


@pytest_twisted.ensureDeferred
async def test_commits_arrived_after_the_grace_stay_out(
    store: Store, clock: Clock
) -> None:
    """
    Ending the sprint early and recounting takes out what it no longer
    holds; a commit arrived after the window plus the grace is never taken
    in by a recount, whatever its own time.
    """
    await ada(store)
    await before_the_end(store, clock)
    await ingest(store, push(commit("a", when=AHEAD)))
    await store.games.end(SLUG, "admin")
    clock.advance(timedelta(days=3).total_seconds())
    await ingest(store, push(commit("b", when=datetime(2026, 7, 19, tzinfo=UTC))))
    recount = await store.recount(SLUG)
    assert (recount.commits, recount.added) == (0, 0)
    assert (await store.board("people", SLUG)).models == ()
    await assert_boards_match_tally(store, SLUG)


@pytest_twisted.ensureDeferred
async def test_a_pending_commit_waits_for_the_extended_game(
    store: Store, clock: Clock
) -> None:
    """
    A registered repository's commit waiting for its host's word is not
    scored by the recount, but waits for the sprint too: verified, it
    scores there as in Julython.
    """
    await ada(store)
    await register(store)
    await before_the_end(store, clock)
    delivered = push(commit("a", when=AHEAD))
    await store.ingest(repository(delivered), delivered, store.now(), verify=True)
    await extend(store)
    recount = await store.recount(SLUG)
    assert (recount.commits, recount.added) == (0, 0)
    pending = await store.redis.execute("ZRANGE", f"j:game:{SLUG}:pending", 0, -1)
    assert pending == [sha("a")]
    assert (await store.player("ada", SLUG)).pending_points == 1
    await assert_boards_match_tally(store, SLUG)
    assert await store.verification.verify(sha("a"))
    assert (await store.detail("people", "ada", SLUG)).points == 3 + 5
    assert (await store.commit(sha("a"))).games == ("julython-2026", SLUG)
    await assert_boards_match_tally(store, SLUG)
    assert (await store.recount(SLUG)).repaired == ()


@pytest_twisted.ensureDeferred
async def test_a_held_commit_waits_for_the_extended_game(
    held: Store, clock: Clock
) -> None:
    """
    A commit held for the review days is not scored by the recount, but
    its release scores it in the sprint too.
    """
    await ada(held)
    await before_the_end(held, clock)
    await ingest(held, push(commit("a", when=AHEAD)))
    await extend(held)
    recount = await held.recount(SLUG)
    assert (recount.commits, recount.added) == (0, 0)
    assert (await held.commit(sha("a"))).review == "held"
    await assert_boards_match_tally(held, SLUG)
    clock.advance(timedelta(days=3).total_seconds())
    assert await held.review.release_due() == 1
    assert (await held.detail("people", "ada", SLUG)).points == 3 + 5
    await assert_boards_match_tally(held, SLUG)
    assert (await held.recount(SLUG)).repaired == ()


@pytest_twisted.ensureDeferred
async def test_a_commit_scoring_nowhere_is_held_for_its_days_left(
    held: Store, clock: Clock
) -> None:
    """
    On a node with review days a commit that scored in no game when it
    arrived (so none held it) is held by the recount that takes it in,
    until its arrival's review days run out, as the ingest would have.
    """
    await ada(held)
    jam = Game(
        "August Jam",
        datetime(2026, 8, 1, 13, tzinfo=UTC),
        datetime(2026, 8, 3, tzinfo=UTC),
    )
    clock.advance((jam.start - held.now()).total_seconds())
    await held.games.create(jam, "admin")
    clock.advance(timedelta(hours=23).total_seconds())
    made = datetime(2026, 8, 3, 6, tzinfo=UTC)
    await ingest(held, push(commit("a", when=made)))
    stored = await held.commit(sha("a"))
    assert (stored.games, stored.review) == ((), None)
    await held.games.update(jam.slug, "admin", end=datetime(2026, 8, 10, tzinfo=UTC))
    recount = await held.recount(jam.slug)
    assert (recount.commits, recount.added) == (0, 0)
    stored = await held.commit(sha("a"))
    assert (stored.review, stored.review_until) == ("held", "2026-08-05T12:00:00Z")
    await assert_boards_match_tally(held, jam.slug)
    again = await held.recount(jam.slug)
    assert (again.added, again.repaired) == (0, ())
    clock.advance(timedelta(days=3).total_seconds())
    assert await held.review.release_due() == 1
    assert (await held.detail("people", "ada", jam.slug)).points == 11
    await assert_boards_match_tally(held, jam.slug)


@pytest_twisted.ensureDeferred
async def test_commits_stored_before_the_index_are_indexed(
    store: Store, clock: Clock
) -> None:
    """
    The start-up migration indexes by their arrival the commits an earlier
    version stored (without that index), once; an extension then takes
    them in.
    """
    await ada(store)
    await before_the_end(store, clock)
    await ingest(store, push(commit("a", when=AHEAD)))
    await store.migrate_commits()
    r = store.redis
    await r.execute("DEL", "j:commits:arrived")
    await r.execute("SREM", "j:migrations", "arrival-index")
    assert await store.migrate_commits() == CommitMigration(arrivals=1)
    assert await store.migrate_commits() == CommitMigration()
    await extend(store)
    assert (await store.recount(SLUG)).added == 1
    await assert_boards_match_tally(store, SLUG)


@pytest_twisted.ensureDeferred
async def test_a_game_giving_no_points_lists_what_it_takes_in(
    store: Store, clock: Clock
) -> None:
    """
    In a game whose commits and first commits earn nothing, a commit the
    recount takes in puts its player, project and language on the boards
    with no points, as the ingest would have.
    """
    await ada(store)
    await store.games.create(
        Game("Zero", SPRINT.start, SPRINT.end, commit_points=0, first_bonus=0),
        "admin",
    )
    clock.advance(timedelta(days=4).total_seconds())
    await ingest(store, push(commit("a", when=AHEAD)))
    await store.games.update("zero", "admin", end=LATER_END)
    assert (await store.recount("zero")).added == 1
    languages = await store.board("languages", "zero")
    assert [(m.name, m.points) for m in languages.models] == [("Python", 0)]
    await assert_boards_match_tally(store, "zero")
    assert (await store.recount("zero")).repaired == ()

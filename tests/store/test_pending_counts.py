"""
The pending counts kept beside each game's pending set (how many of its
commits waiting for their host's word, or held for review, each player and
each project has), against a real Redis: after an ingest, a verification, a
rejection, an adoption, a review's accept or reject and the e-mail
migration they equal a count from the set; the board shows them without
reading the set; the recount and the start-up migration rebuild them from
scratch, idempotently.
"""

from __future__ import annotations

from collections import Counter

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.config import Config
from julytwisted.game.hooks import repository
from julytwisted.redis_service import RedisClient, RedisService
from julytwisted.store import CommitMigration, Store, _keys
from tests.builders import commit, push, sha
from tests.store.test_store_emails import legacy_player
from tests.store.test_verification import pushed, register

GAME = "julython-2026"


async def counted_from_the_set(
    redis: RedisClient, game: str
) -> dict[str, dict[str, int]]:
    """The counts, by board, as the game's pending set says them."""
    found: dict[str, Counter[str]] = {"people": Counter(), "projects": Counter()}
    for hash in await redis.execute("ZRANGE", _keys.game_pending(game), 0, -1):
        username, project = await redis.execute(
            "HMGET", _keys.commit(hash), "username", "project"
        )
        if username:
            found["people"][username] += 1
        if project:
            found["projects"][project] += 1
    return {board: dict(counts) for board, counts in found.items()}


async def kept(redis: RedisClient, game: str) -> dict[str, dict[str, int]]:
    """The counts as the store keeps them."""
    found = {}
    for board in ("people", "projects"):
        flat = await redis.execute("HGETALL", _keys.game_pending_count(game, board))
        found[board] = {m: int(n) for m, n in zip(flat[::2], flat[1::2], strict=True)}
    return found


async def assert_pending_counts_match(redis: RedisClient, game: str) -> None:
    """The kept counts of C{game} equal a count from its pending set."""
    assert await kept(redis, game) == await counted_from_the_set(redis, game)


@pytest.fixture
def held(redis: RedisService, clock: Clock, config: Config) -> Store:
    """A store whose new points are held for three days."""
    return Store(redis.client, clock, config.games, review_days=3)


@pytest_twisted.ensureDeferred
async def test_ingest_counts_each_pending_commit_once(store: Store) -> None:
    """
    Three pending commits (two of ada's, an orphan's) count for ada and
    for the project; delivered again they count once.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "a1", "a2")
    delivered = push(commit("o1", email="dee@example.com"), commit("a1"))
    for _ in range(2):
        await store.ingest(repository(delivered), delivered, store.now(), True)
    assert await kept(store.redis, GAME) == {
        "people": {"ada": 2},
        "projects": {"gh-ada-engine": 3},
    }
    await assert_pending_counts_match(store.redis, GAME)
    assert (await store.player("ada")).pending_points == 2
    assert (await store.project("gh-ada-engine")).pending_points == 3


@pytest_twisted.ensureDeferred
async def test_verify_and_reject_take_them_off(store: Store) -> None:
    """
    Verified or rejected (each twice, as a retried job does), a commit
    leaves the counts; with none left the counts are gone.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "a1", "a2")
    await store.verification.verify(sha("a1"))
    await store.verification.verify(sha("a1"))
    await assert_pending_counts_match(store.redis, GAME)
    assert (await store.player("ada")).pending_points == 1
    await store.verification.reject(sha("a2"), "no such commit")
    await store.verification.reject(sha("a2"), "no such commit")
    assert await kept(store.redis, GAME) == {"people": {}, "projects": {}}
    assert (await store.player("ada")).pending_points == 0


@pytest_twisted.ensureDeferred
async def test_adoption_moves_a_pending_orphan_to_its_player(store: Store) -> None:
    """
    A pending orphan counts for its project only; adopted by the player
    whose e-mail it is, it counts for them too, and then scores for them
    once verified.
    """
    await register(store)
    await pushed(store, "d1")
    assert await kept(store.redis, GAME) == {
        "people": {},
        "projects": {"gh-ada-engine": 1},
    }
    await store.create_player("dee", "Dee", ["ada@example.com"])
    assert await store.adopt_orphans("ada@example.com") == 1
    assert await store.adopt_orphans("ada@example.com") == 0
    await assert_pending_counts_match(store.redis, GAME)
    assert (await store.player("dee")).pending_points == 1
    await store.verification.verify(sha("d1"))
    assert await kept(store.redis, GAME) == {"people": {}, "projects": {}}
    dee = await store.player("dee")
    assert (dee.points, dee.pending_points) == (11, 0)


@pytest_twisted.ensureDeferred
async def test_held_and_pending_counts_once_until_both_let_it(held: Store) -> None:
    """
    A commit both held for review and waiting for its host counts once; it
    stays counted while either waits, and a rejection by an admin takes it
    off at once.
    """
    await held.create_player("ada", "Ada", ["ada@example.com"])
    await register(held)
    await pushed(held, "a1", "a2")
    assert await kept(held.redis, GAME) == {
        "people": {"ada": 2},
        "projects": {"gh-ada-engine": 2},
    }
    await held.verification.verify(sha("a1"))
    assert (await held.player("ada")).pending_points == 2
    await held.review.accept(sha("a1"), "root")
    await held.review.accept(sha("a2"), "root")
    assert (await held.player("ada")).pending_points == 1
    await assert_pending_counts_match(held.redis, GAME)
    await held.review.reject(sha("a2"), "root", "spam")
    assert await kept(held.redis, GAME) == {"people": {}, "projects": {}}


@pytest_twisted.ensureDeferred
async def test_email_migration_returns_them_to_orphans(store: Store) -> None:
    """
    A player's typed e-mails becoming claims return their pending commits
    to orphans: the player's count goes, the project's stays.
    """
    await legacy_player(store, "mallory", ["ada@example.com"], password=True)
    await register(store)
    await pushed(store, "a1")
    assert (await store.player("mallory")).pending_points == 1
    await store.migrate_emails()
    assert await kept(store.redis, GAME) == {
        "people": {},
        "projects": {"gh-ada-engine": 1},
    }
    await assert_pending_counts_match(store.redis, GAME)


@pytest_twisted.ensureDeferred
async def test_board_reads_the_counts_not_the_set(store: Store) -> None:
    """
    The board's pending points are the kept counts: emptied by hand, the
    set no longer shows on it (so a board read costs what its rows cost).
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "a1", "a2")
    await store.redis.execute(
        "HSET", _keys.game_pending_count(GAME, "people"), "ada", "7"
    )
    assert (await store.player("ada")).pending_points == 7


@pytest_twisted.ensureDeferred
async def test_recount_rebuilds_them(store: Store) -> None:
    """
    Counts that drifted (wrong, missing, left over) are rebuilt by the
    recount from the set; a second recount leaves them as they are.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "a1", "a2")
    r = store.redis
    await r.execute("HSET", _keys.game_pending_count(GAME, "people"), "ada", "9")
    await r.execute("HSET", _keys.game_pending_count(GAME, "people"), "bob", "1")
    await r.execute("DEL", _keys.game_pending_count(GAME, "projects"))
    await store.recount(GAME)
    expected = {"people": {"ada": 2}, "projects": {"gh-ada-engine": 2}}
    assert await kept(r, GAME) == expected
    await store.recount(GAME)
    assert await kept(r, GAME) == expected


@pytest_twisted.ensureDeferred
async def test_startup_migration_builds_them_once(store: Store) -> None:
    """
    Pending sets filled before the counts were kept get them from the
    start-up migration, once: a second run does nothing.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "a1", "a2")
    r = store.redis
    for board in ("people", "projects"):
        await r.execute("DEL", _keys.game_pending_count(GAME, board))
    await r.execute("SREM", "j:migrations", "pending-counts")
    assert (await store.migrate_commits()).pending == 1
    assert await kept(r, GAME) == {
        "people": {"ada": 2},
        "projects": {"gh-ada-engine": 2},
    }
    assert await store.migrate_commits() == CommitMigration()

"""
Web sessions kept in a real Redis: found by the digest of their id only,
ended one by one or a player's all at once (one kept), gone without a trace
once their lifetime has passed.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater

from julytwisted.errors import NotFound
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, StoredSession

DAY = 24 * 3600.0


async def everything(redis: RedisService) -> dict[str, object]:
    """Every key Redis holds, with its value whatever its type."""
    held: dict[str, object] = {}
    for key in await redis.client.execute("KEYS", "*"):
        kind = await redis.client.execute("TYPE", key)
        read = {"hash": "HGETALL", "set": "SMEMBERS", "string": "GET"}[kind]
        held[key] = await redis.client.execute(read, key)
    return held


@pytest_twisted.ensureDeferred
async def test_a_session_is_kept_by_its_digest_only(
    store: Store, redis: RedisService
) -> None:
    """
    A session reads back by its id, but Redis holds neither the id in a
    key nor in a value: a copy of Redis cannot be replayed as a cookie.
    """
    session_id = "secret-session-id-0123456789"
    await store.start_session(session_id, "Ada", None, DAY)
    assert await store.session(session_id) == StoredSession("ada", None)
    assert await store.session("another-id") is None
    held = await everything(redis)
    assert held and session_id not in repr(held)
    assert any(key.startswith("j:session:") for key in held)
    assert len(held["j:player:ada:sessions"]) == 1  # type: ignore[arg-type]


@pytest_twisted.ensureDeferred
async def test_an_admin_session_keeps_its_fingerprint(store: Store) -> None:
    """A bare admin session names no player and keeps what it was given."""
    await store.start_session("admin-id", None, "fingerprint", DAY)
    assert await store.session("admin-id") == StoredSession(None, "fingerprint")


@pytest_twisted.ensureDeferred
async def test_an_expired_session_leaves_nothing(
    store: Store, redis: RedisService
) -> None:
    """
    Past its lifetime, counted from its start, a session is gone, and so is
    its player's set: Redis holds nothing for it.
    """
    await store.start_session("one", "ada", None, 0.3)
    await store.start_session("admin", None, "fingerprint", 0.3)
    assert await store.count_sessions("ada") == 1
    await deferLater(reactor, 0.5, lambda: None)
    assert await store.session("one") is None
    assert await store.session("admin") is None
    assert await store.count_sessions("ada") == 0
    assert await everything(redis) == {}


@pytest_twisted.ensureDeferred
async def test_a_players_set_outlives_their_longest_session(
    store: Store, redis: RedisService
) -> None:
    """
    A session started under a shorter lifetime does not shorten the set
    that finds the longer ones; expired digests leave it at the next start.
    """
    await store.start_session("long", "ada", None, DAY)
    await store.start_session("short", "ada", None, 0.2)
    left = await redis.client.execute("PTTL", "j:player:ada:sessions")
    assert left > DAY * 1000 - 60_000
    await deferLater(reactor, 0.4, lambda: None)
    await store.start_session("next", "ada", None, DAY)
    held = await redis.client.execute("SMEMBERS", "j:player:ada:sessions")
    assert len(held) == 2
    assert await store.end_sessions("ada") == 2
    assert await store.session("long") is None


@pytest_twisted.ensureDeferred
async def test_ending_sessions(store: Store, redis: RedisService) -> None:
    """
    One session ends alone; a player's sessions end all but the one kept,
    and another player's are untouched.  Ending what has ended does nothing.
    """
    for session_id in ("a1", "a2", "a3"):
        await store.start_session(session_id, "ada", None, DAY)
    await store.start_session("b1", "bob", None, DAY)
    await store.end_session("a1")
    await store.end_session("a1")
    assert await store.session("a1") is None
    assert await store.count_sessions("ada") == 2
    assert await store.count_sessions("ada", besides="a2") == 1
    assert await store.end_sessions("ADA", keep="a2") == 1
    assert await store.session("a2") == StoredSession("ada", None)
    assert await store.session("a3") is None
    assert await store.session("b1") == StoredSession("bob", None)
    assert await store.end_sessions("ada") == 1
    assert await store.end_sessions("ada") == 0
    assert await redis.client.execute("EXISTS", "j:player:ada:sessions") == 0


@pytest_twisted.ensureDeferred
async def test_a_password_hash_is_replaced_for_players_only(store: Store) -> None:
    """A player's hash is replaced; an unknown player's is refused, not made."""
    await store.create_player("ada", "Ada", ["ada@example.com"], password_hash="old")
    await store.set_password_hash("Ada", "new")
    assert await store.password_hash("ada") == "new"
    with pytest.raises(NotFound):
        await store.set_password_hash("nobody", "new")
    assert await store.password_hash("nobody") is None

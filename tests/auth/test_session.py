"""
Sessions and CSRF tokens without a server: a request object of twisted.web's
own test helpers carries the cookies; the sessions live in a real Redis.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.auth.sessions import (
    ANONYMOUS,
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    Sessions,
    Viewer,
    load_secret,
)
from julytwisted.config import RedisAddress
from julytwisted.errors import Forbidden, RedisUnavailable
from julytwisted.redis_service import RedisService
from julytwisted.store import Store


class CookieRequest(DummyRequest):
    """A DummyRequest that keeps the cookies it is sent and given."""

    def __init__(self, received: dict[bytes, bytes] | None = None) -> None:
        DummyRequest.__init__(self, [b""])
        self.received = dict(received or {})
        self.set: dict[bytes, bytes] = {}
        self.given: list[tuple[bytes, bytes, dict[str, object]]] = []

    def getCookie(self, key: bytes) -> bytes | None:
        return self.received.get(key)

    def addCookie(self, k: bytes, v: bytes, **kwargs: object) -> None:
        self.set[k] = v
        self.given.append((k, v, kwargs))

    def isSecure(self) -> bool:
        return False


def _carry(sent: CookieRequest) -> CookieRequest:
    """A next request carrying the cookies C{sent} had and set."""
    return CookieRequest({**sent.received, **sent.set})


async def _signed_in(sessions: Sessions, viewer: Viewer) -> CookieRequest:
    """A request that signed C{viewer} in; carry it for their next one."""
    sent = CookieRequest()
    await sessions.start(sent, viewer)
    return sent


def test_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    """Without a given secret one is made, owner-only, and read back after."""
    first = load_secret(None, tmp_path / "data")
    assert len(first) >= 32
    path = tmp_path / "data" / "session-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(None, tmp_path / "data") == first
    assert load_secret("given", tmp_path / "data") == b"given"


@pytest_twisted.ensureDeferred
async def test_session_round_trip_and_expiry(store: Store, redis: RedisService) -> None:
    """
    A session reads back until its lifetime has passed, counted from its
    start; then it names nobody and Redis holds nothing for it.  By
    default it lasts SESSION_SECONDS, and its cookie as long.
    """
    sent = await _signed_in(Sessions(store, b"k"), Viewer("ada"))
    ((_, _, options),) = sent.given
    assert options["max_age"] == str(SESSION_SECONDS).encode()
    (key,) = await redis.client.execute("KEYS", "j:session:*")
    assert await redis.client.execute("TTL", key) > SESSION_SECONDS - 60

    sessions = Sessions(store, b"k", lifetime=0.3)
    sent = await _signed_in(sessions, Viewer("bea"))
    assert await sessions.viewer(_carry(sent)) == Viewer("bea")
    await deferLater(reactor, 0.5, lambda: None)
    assert await sessions.viewer(_carry(sent)) == ANONYMOUS
    # Only ada's session is left, and nothing of bea's: not "*bea*", which
    # also matches a session's hex digest holding those letters (about
    # one in 66: 62 places, each 1 in 4096).
    assert await redis.client.execute("KEYS", "j:session:*") == [key]
    assert await redis.client.execute("KEYS", "j:player:bea:*") == []


@pytest_twisted.ensureDeferred
async def test_another_secret_does_not_read_a_session(store: Store) -> None:
    """A cookie signed under one secret names nobody under another."""
    sent = await _signed_in(Sessions(store, b"one"), Viewer("ada"))
    assert await Sessions(store, b"two").viewer(_carry(sent)) == ANONYMOUS


@pytest_twisted.ensureDeferred
async def test_sign_out_ends_the_session_wherever_replayed(
    store: Store, redis: RedisService
) -> None:
    """
    The attack: a cookie copied before sign-out and replayed after it used
    to name the player for 35 days.  Now signing out ends the session: the
    copy names nobody, its browser is told to forget it, and Redis holds
    nothing of it.
    """
    sessions = Sessions(store, b"k")
    sent = await _signed_in(sessions, Viewer("ada"))
    copied = _carry(sent)
    leaving = _carry(sent)
    assert await sessions.viewer(leaving) == Viewer("ada")
    await sessions.end(leaving)
    assert leaving.set[SESSION_COOKIE] == b""
    replayed = CookieRequest(copied.received)
    assert await sessions.viewer(replayed) == ANONYMOUS
    assert replayed.set == {SESSION_COOKIE: b""}
    assert await redis.client.execute("KEYS", "*") == []


@pytest_twisted.ensureDeferred
async def test_admin_session_ends_with_a_token_change(
    store: Store, redis: RedisService
) -> None:
    """
    The attack: an admin web session outlived a change of the admin token.
    Now a session made admin with one token is anonymous (and ended) where
    another token, or none, is configured; with the same token it is admin.
    """
    before = Sessions(store, b"k", admin_token="old-token")
    sent = await _signed_in(before, Viewer(None, admin=True))
    kept = await _signed_in(before, Viewer("ada", admin=True))
    assert await before.viewer(_carry(sent)) == Viewer(None, admin=True)
    assert await before.viewer(_carry(kept)) == Viewer("ada", admin=True)
    after = Sessions(store, b"k", admin_token="new-token")
    assert await after.viewer(_carry(sent)) == ANONYMOUS
    assert await before.viewer(_carry(sent)) == ANONYMOUS
    assert await Sessions(store, b"k").viewer(_carry(kept)) == ANONYMOUS
    assert await redis.client.execute("KEYS", "j:session:*") == []


@pytest_twisted.ensureDeferred
async def test_admin_players_are_admins_by_the_list(store: Store) -> None:
    """
    An admin player's session is admin while they are on the list, whatever
    the admin token, and plain once they are off it.
    """
    listed = Sessions(store, b"k", "token", admin_players=["ada"])
    sent = await _signed_in(listed, Viewer("ada", admin=True))
    assert await listed.viewer(_carry(sent)) == Viewer("ada", admin=True)
    other_token = Sessions(store, b"k", "another", admin_players=["ada"])
    assert await other_token.viewer(_carry(sent)) == Viewer("ada", admin=True)
    assert await Sessions(store, b"k", "token").viewer(_carry(sent)) == Viewer("ada")


@pytest_twisted.ensureDeferred
async def test_forged_and_deleted_sessions_are_anonymous(store: Store) -> None:
    """
    A cookie whose signature does not check, or that is not a session
    cookie at all, names nobody; so does a well signed one whose session
    was deleted from Redis.
    """
    sessions = Sessions(store, b"k")
    sent = await _signed_in(sessions, Viewer("ada"))
    cookie = sent.set[SESSION_COOKIE]
    session_id, _, signature = cookie.rpartition(b".")
    for forged in (
        session_id + b"." + b"0" * len(signature),
        b"other-id." + signature,
        session_id,
        b"x" * 5000,
        b"\xff\xfe." + signature,
    ):
        request = CookieRequest({SESSION_COOKIE: forged})
        assert await sessions.viewer(request) == ANONYMOUS
    assert await store.end_sessions("ada") == 1
    assert await sessions.viewer(_carry(sent)) == ANONYMOUS


@pytest_twisted.ensureDeferred
async def test_no_cookie_or_a_forged_one_costs_no_redis_read(tmp_path: Path) -> None:
    """
    With Redis away, a visitor without a session cookie, or with a forged
    one, is anonymous at once: neither costs a Redis read.  A well signed
    cookie needs its session read, and its visitor gets the outage, never
    someone else's view.
    """
    dead = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    dead.client.timeout = 0.2
    dead.startService()
    try:
        sessions = Sessions(Store(dead.client, Clock()), b"k")
        assert await sessions.viewer(CookieRequest()) == ANONYMOUS
        forged = CookieRequest({SESSION_COOKIE: b"id." + b"0" * 64})
        assert await sessions.viewer(forged) == ANONYMOUS
        signed = b"id." + sessions._sign(b"session-id", b"id").encode()
        with pytest.raises(RedisUnavailable):
            await sessions.viewer(CookieRequest({SESSION_COOKIE: signed}))
    finally:
        await dead.stopService()


@pytest_twisted.ensureDeferred
async def test_a_request_reads_its_session_once(store: Store) -> None:
    """
    However many parts of an answer ask who the visitor is, the session is
    read once: deleted in between, the request still sees who it saw.
    """
    sessions = Sessions(store, b"k")
    sent = await _signed_in(sessions, Viewer("ada"))
    request = _carry(sent)
    assert await sessions.viewer(request) == Viewer("ada")
    await store.end_sessions("ada")
    assert await sessions.viewer(request) == Viewer("ada")
    assert await sessions.viewer(_carry(sent)) == ANONYMOUS


@pytest_twisted.ensureDeferred
async def test_signing_in_again_ends_the_browsers_old_session(store: Store) -> None:
    """
    A new session replaces the one the browser had: an id known before
    sign-in (planted, or copied) is worth nothing after.
    """
    sessions = Sessions(store, b"k")
    before = await _signed_in(sessions, Viewer("ada"))
    again = _carry(before)
    await sessions.start(again, Viewer("ada", admin=True))
    assert await sessions.viewer(_carry(before)) == ANONYMOUS
    assert await sessions.viewer(_carry(again)) == Viewer("ada")
    assert await store.count_sessions("ada") == 1


@pytest_twisted.ensureDeferred
async def test_end_sessions_keeps_the_one_asked(store: Store) -> None:
    """
    end_sessions (for a password change or reset, and signing out
    everywhere else) ends every session of the player but the request's
    own, and no one else's; without a request to keep, it ends them all.
    """
    sessions = Sessions(store, b"k")
    ada = [await _signed_in(sessions, Viewer("ada")) for _ in range(3)]
    bob = await _signed_in(sessions, Viewer("bob"))
    here = _carry(ada[1])
    assert await sessions.other_sessions(here, "ada") == 2
    assert await sessions.end_sessions("ada", keep=here) == 2
    assert await sessions.other_sessions(here, "ada") == 0
    seen = [await sessions.viewer(_carry(sent)) for sent in ada]
    assert seen == [ANONYMOUS, Viewer("ada"), ANONYMOUS]
    assert await sessions.viewer(_carry(bob)) == Viewer("bob")
    assert await sessions.end_sessions("ada", keep=_carry(bob)) == 1
    assert await sessions.viewer(_carry(ada[1])) == ANONYMOUS


def test_csrf_token_is_bound_to_the_browser(store: Store) -> None:
    """A token checks with its own browser's cookie only."""
    sessions = Sessions(store, b"k")
    first = CookieRequest()
    token = sessions.csrf_token(first)
    sessions.check_csrf(_carry(first), token)
    other = CookieRequest()
    sessions.csrf_token(other)
    with pytest.raises(Forbidden):
        sessions.check_csrf(_carry(other), token)
    with pytest.raises(Forbidden):
        sessions.check_csrf(CookieRequest(), token)


def test_csrf_cookie_is_made_once_per_request(store: Store) -> None:
    """
    The bug: every call made a new cookie when the request had none, so a
    page with two forms gave the browser two cookies and one form's token
    could never check.  Now one answer gives one cookie, every form of it
    the same token, and that token checks.
    """
    sessions = Sessions(store, b"k")
    request = CookieRequest()
    tokens = {sessions.csrf_token(request) for _ in range(3)}
    assert len(tokens) == 1
    assert [name for name, _, _ in request.given] == [CSRF_COOKIE]
    sessions.check_csrf(_carry(request), tokens.pop())

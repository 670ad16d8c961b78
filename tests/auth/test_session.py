"""
Signed session cookies and the session secret, without a server: a request
object of twisted.web's own test helpers carries the cookies.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from twisted.internet.task import Clock
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.auth.sessions import (
    ANONYMOUS,
    CSRF_COOKIE,
    SESSION_SECONDS,
    Sessions,
    Viewer,
    load_secret,
)
from julytwisted.errors import Forbidden


class CookieRequest(DummyRequest):
    """A DummyRequest that keeps the cookies it is sent and given."""

    def __init__(self, received: dict[bytes, bytes] | None = None) -> None:
        DummyRequest.__init__(self, [b""])
        self.received = dict(received or {})
        self.set: dict[bytes, bytes] = {}
        self.given: list[bytes] = []

    def getCookie(self, key: bytes) -> bytes | None:
        return self.received.get(key)

    def addCookie(self, k: bytes, v: bytes, **kwargs: object) -> None:
        self.set[k] = v
        self.given.append(k)

    def isSecure(self) -> bool:
        return False


def _carry(sent: CookieRequest) -> CookieRequest:
    """A next request carrying the cookies C{sent} had and set."""
    return CookieRequest({**sent.received, **sent.set})


def test_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    """Without a given secret one is made, owner-only, and read back after."""
    first = load_secret(None, tmp_path / "data")
    assert len(first) >= 32
    path = tmp_path / "data" / "session-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(None, tmp_path / "data") == first
    assert load_secret("given", tmp_path / "data") == b"given"


def test_session_round_trip_and_expiry() -> None:
    """A session reads back until SESSION_SECONDS have passed."""
    clock = Clock()
    sessions = Sessions(b"k", clock)
    sent = CookieRequest()
    sessions.start(sent, Viewer("ada", admin=True))
    assert sessions.viewer(_carry(sent)) == Viewer("ada", admin=True)
    clock.advance(SESSION_SECONDS + 1)
    assert sessions.viewer(_carry(sent)) == ANONYMOUS


def test_another_secret_does_not_read_a_session() -> None:
    """A cookie signed under one secret names nobody under another."""
    clock = Clock()
    sent = CookieRequest()
    Sessions(b"one", clock).start(sent, Viewer("ada"))
    assert Sessions(b"two", clock).viewer(_carry(sent)) == ANONYMOUS


def test_csrf_token_is_bound_to_the_browser() -> None:
    """A token checks with its own browser's cookie only."""
    sessions = Sessions(b"k", Clock())
    first = CookieRequest()
    token = sessions.csrf_token(first)
    sessions.check_csrf(_carry(first), token)
    other = CookieRequest()
    sessions.csrf_token(other)
    with pytest.raises(Forbidden):
        sessions.check_csrf(_carry(other), token)
    with pytest.raises(Forbidden):
        sessions.check_csrf(CookieRequest(), token)


def test_csrf_cookie_is_made_once_per_request() -> None:
    """
    The bug: every call made a new cookie when the request had none, so a
    page with two forms gave the browser two cookies and one form's token
    could never check.  Now one answer gives one cookie, every form of it
    the same token, and that token checks.
    """
    sessions = Sessions(b"k", Clock())
    request = CookieRequest()
    tokens = {sessions.csrf_token(request) for _ in range(3)}
    assert len(tokens) == 1
    assert request.given == [CSRF_COOKIE]
    sessions.check_csrf(_carry(request), tokens.pop())

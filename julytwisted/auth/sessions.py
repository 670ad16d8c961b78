# -*- test-case-name: tests.auth.test_session -*-
"""
Signed session cookies and CSRF tokens for the HTML pages.

A session is a cookie the server signs with HMAC-SHA256 under a secret and
never stores: C{base64(json({u, a, t})).hexdigest}.  It names the player
(C{u}), whether they signed in as an admin (C{a}) and when (C{t}); it is
good for L{SESSION_SECONDS}.

CSRF: every browser gets a random C{jt_csrf} cookie the first time it is
shown a form; a form carries the HMAC of that value, which another site can
neither read nor compute.  A POST is accepted only when the two agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from weakref import WeakKeyDictionary

import attrs
from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

from julytwisted.errors import Forbidden

SESSION_COOKIE = b"jt_session"
CSRF_COOKIE = b"jt_csrf"

#: How long a session lasts: the length of a game and a bit.
SESSION_SECONDS = 35 * 24 * 3600

#: The name of the hidden field every form carries its CSRF token in.
CSRF_FIELD = "csrf"


@attrs.frozen
class Viewer:
    """
    Who is looking at a page.

    @ivar username: the signed-in player, or L{None}.
    @ivar admin: whether they signed in with the admin token.
    """

    username: str | None = None
    admin: bool = False

    @property
    def signed_in(self) -> bool:
        """Whether anyone is signed in."""
        return self.username is not None or self.admin


ANONYMOUS = Viewer()


def load_secret(given: str | None, data_dir: Path) -> bytes:
    """
    The session secret: the one given, else the one kept in
    C{DATA_DIR/session-secret}, made (owner-readable only) on first use so
    that sessions survive a restart.

    @param given: the secret from C{--session-secret} or its variable.
    @param data_dir: where the generated secret is kept.
    """
    if given:
        return given.encode("utf-8")
    path = data_dir / "session-secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process made it first: use theirs.
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(secret + b"\n")
    return secret


class Sessions:
    """
    Reads and writes the session and CSRF cookies of requests.
    """

    def __init__(
        self, secret: bytes, clock: IReactorTime, admin_players: Iterable[str] = ()
    ) -> None:
        """
        @param secret: the HMAC key; anyone holding it can forge sessions.
        @param clock: tells the time sessions are issued and expire at.
        @param admin_players: players who are admins whenever signed in, so
            that taking one off the list takes effect at once.
        """
        self._secret = secret
        self._clock = clock
        self._admin_players = frozenset(admin_players)
        self._made: WeakKeyDictionary[IRequest, bytes] = WeakKeyDictionary()

    def _sign(self, purpose: bytes, value: bytes) -> str:
        return hmac.new(
            self._secret, purpose + b":" + value, hashlib.sha256
        ).hexdigest()

    # Sessions

    def viewer(self, request: IRequest) -> Viewer:
        """@return: who the request's session cookie names, if it is valid."""
        cookie = request.getCookie(SESSION_COOKIE)
        if not cookie or b"." not in cookie:
            return ANONYMOUS
        body, _, signature = cookie.rpartition(b".")
        expected = self._sign(b"session", body)
        if not hmac.compare_digest(expected.encode(), signature):
            return ANONYMOUS
        try:
            data = json.loads(base64.urlsafe_b64decode(body))
            username, admin, issued = data["u"], bool(data["a"]), float(data["t"])
        except (ValueError, KeyError, TypeError):
            return ANONYMOUS
        if not 0 <= self._clock.seconds() - issued <= SESSION_SECONDS:
            return ANONYMOUS
        if not isinstance(username, str):
            return Viewer(None, admin)
        return Viewer(username, admin or username in self._admin_players)

    def start(self, request: IRequest, viewer: Viewer) -> None:
        """Sign C{viewer} in on the request's browser."""
        # An admin player's rights come from the list, not from the cookie.
        admin = viewer.admin and viewer.username not in self._admin_players
        data = {"u": viewer.username, "a": admin, "t": self._clock.seconds()}
        body = base64.urlsafe_b64encode(json.dumps(data).encode())
        value = body + b"." + self._sign(b"session", body).encode()
        self._set(request, SESSION_COOKIE, value, SESSION_SECONDS)

    def end(self, request: IRequest) -> None:
        """Sign the request's browser out."""
        self._set(request, SESSION_COOKIE, b"", 0)

    # CSRF

    def csrf_token(self, request: IRequest) -> str:
        """
        @return: the token a form shown in answer to C{request} must carry,
            giving the browser its CSRF cookie if it has none.
        """
        cookie = request.getCookie(CSRF_COOKIE)
        if not cookie or len(cookie) > 100:
            cookie = self._made.get(request)
            if cookie is None:
                # Made once per request: every form of one answer carries a
                # token of the one cookie the browser will keep.
                cookie = self._made[request] = secrets.token_urlsafe(24).encode()
                self._set(request, CSRF_COOKIE, cookie, None)
        return self._sign(b"csrf", cookie)

    def check_csrf(self, request: IRequest, token: str | None) -> None:
        """
        @raise Forbidden: unless C{token} is the one L{csrf_token} gave this
            browser.
        """
        cookie = request.getCookie(CSRF_COOKIE)
        if not cookie or not token:
            raise Forbidden(
                "this form has expired or came from another site: reload the "
                "page and send it again (cookies must be on)"
            )
        expected = self._sign(b"csrf", cookie)
        if not hmac.compare_digest(expected.encode(), token.encode("utf-8")):
            raise Forbidden(
                "this form has expired or came from another site: reload the "
                "page and send it again"
            )

    def _set(
        self, request: IRequest, name: bytes, value: bytes, max_age: int | None
    ) -> None:
        request.addCookie(
            name,
            value,
            path=b"/",
            max_age=None if max_age is None else str(max_age).encode(),
            httpOnly=True,
            secure=request.isSecure(),
            sameSite="lax",
        )  # type: ignore[call-arg]


__all__ = [
    "ANONYMOUS",
    "CSRF_FIELD",
    "SESSION_SECONDS",
    "Sessions",
    "Viewer",
    "load_secret",
]

# -*- test-case-name: tests.auth.test_session,tests.pages.test_sessions -*-
"""
Web sessions and CSRF tokens for the HTML pages.

A session lives in Redis (L{julytwisted.store.sessions}), so that ending it
ends it wherever its cookie is replayed.  The browser holds only its random
id, signed with HMAC-SHA256 under the session secret: C{ID.SIGNATURE}.  A
cookie whose signature does not check names nobody without a Redis read,
so a visitor with no session, or a forged one, costs Redis nothing.  Redis
holds the session under the SHA-256 of its id: who it signs in, and the
fingerprint of the admin token when it was made admin with it, so that a
change of the token ends it.

A session lasts L{SESSION_SECONDS} from sign-in (an absolute lifetime:
using it does not extend it), or until it is ended: signing out, signing
out everywhere else, a password change.  Who a request's cookie names is
read once per request, however many parts of its answer ask.

CSRF: every browser gets a random C{jt_csrf} cookie the first time it is
shown a form; a form carries the HMAC of that value, which another site can
neither read nor compute.  A POST is accepted only when the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from weakref import WeakKeyDictionary

import attrs
from twisted.web.iweb import IRequest

from julytwisted.errors import Forbidden, SignInRequired
from julytwisted.store import Store

SESSION_COOKIE = b"jt_session"
CSRF_COOKIE = b"jt_csrf"

#: How long a session lasts from sign-in: the length of a game and a bit.
SESSION_SECONDS = 35 * 24 * 3600

#: The name of the hidden field every form carries its CSRF token in.
CSRF_FIELD = "csrf"

#: The longest cookie value read; a session cookie is 108 characters.
_MAX_COOKIE = 200


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


@attrs.define
class _Seen:
    """
    What has been found of one request: who its session names, and the
    CSRF cookie its forms carry (the one it sent, or the one made for it).
    """

    viewer: Viewer | None = None
    csrf: bytes | None = None


class Sessions:
    """
    Reads and writes the session and CSRF cookies of requests, and the
    sessions they name.
    """

    def __init__(
        self,
        store: Store,
        secret: bytes,
        admin_token: str | None = None,
        admin_players: Iterable[str] = (),
        lifetime: float = SESSION_SECONDS,
    ) -> None:
        """
        @param store: where the sessions are kept.
        @param secret: the HMAC key of the cookies; changing it ends every
            session, since no cookie signed before checks after.
        @param admin_token: the admin token a session is made admin with;
            sessions made admin with another token (or while one was set,
            when this is L{None}) have ended.
        @param admin_players: players who are admins whenever signed in, so
            that taking one off the list takes effect at once.
        @param lifetime: seconds a session lasts from its start.
        """
        self._store = store
        self._secret = secret
        self._admin = (
            None
            if not admin_token
            else self._sign(b"admin-token", admin_token.encode("utf-8"))[:32]
        )
        self._admin_players = frozenset(admin_players)
        self._lifetime = lifetime
        self._seen: WeakKeyDictionary[IRequest, _Seen] = WeakKeyDictionary()

    def _sign(self, purpose: bytes, value: bytes) -> str:
        return hmac.new(
            self._secret, purpose + b":" + value, hashlib.sha256
        ).hexdigest()

    def _seen_in(self, request: IRequest) -> _Seen:
        seen = self._seen.get(request)
        if seen is None:
            seen = self._seen[request] = _Seen()
        return seen

    # Sessions

    def _session_id(self, request: IRequest) -> str | None:
        """@return: the id the request's session cookie names, if signed."""
        cookie: bytes | None = request.getCookie(SESSION_COOKIE)
        if not cookie or len(cookie) > _MAX_COOKIE or b"." not in cookie:
            return None
        session_id, _, signature = cookie.rpartition(b".")
        expected = self._sign(b"session-id", session_id)
        if not hmac.compare_digest(expected.encode(), signature):
            return None
        return session_id.decode("ascii")

    async def viewer(self, request: IRequest) -> Viewer:
        """
        @return: who the request's session names, read from Redis once per
            request (and not at all without a signed session cookie);
            L{ANONYMOUS} when its session has ended.
        @raise RedisUnavailable: when Redis does not answer.
        """
        seen = self._seen_in(request)
        if seen.viewer is None:
            seen.viewer = await self._read(request)
        return seen.viewer

    async def player(self, request: IRequest) -> str:
        """
        @return: the username of the player the request's session names.
        @raise SignInRequired: when nobody is signed in.
        """
        viewer = await self.viewer(request)
        if viewer.username is None:
            raise SignInRequired()
        return viewer.username

    async def _read(self, request: IRequest) -> Viewer:
        session_id = self._session_id(request)
        if session_id is None:
            return ANONYMOUS
        stored = await self._store.session(session_id)
        if stored is not None and not self._admin_holds(stored.admin):
            # Made admin with a token that is no longer the one.
            await self._store.end_session(session_id)
            stored = None
        if stored is None:
            # Ended or expired: the browser may forget its cookie.
            self._set(request, SESSION_COOKIE, b"", 0)
            return ANONYMOUS
        username = stored.username
        return Viewer(
            username, stored.admin is not None or username in self._admin_players
        )

    def _admin_holds(self, fingerprint: str | None) -> bool:
        """Whether a session made admin with C{fingerprint} still is."""
        if fingerprint is None:
            return True
        return self._admin is not None and hmac.compare_digest(fingerprint, self._admin)

    async def start(self, request: IRequest, viewer: Viewer) -> None:
        """
        Sign C{viewer} in on the request's browser, in a new session: the
        one the browser had ends, so that an id known before is worth
        nothing after.

        @param viewer: who signs in; with C{admin}, the session is bound to
            the admin token (not for an admin player, whose rights come from
            the list).
        @raise RedisUnavailable: when Redis does not answer.
        """
        old = self._session_id(request)
        if old is not None:
            await self._store.end_session(old)
        bound = viewer.admin and viewer.username not in self._admin_players
        admin = self._admin if bound else None
        session_id = secrets.token_urlsafe(32)
        await self._store.start_session(
            session_id, viewer.username, admin, self._lifetime
        )
        signature = self._sign(b"session-id", session_id.encode())
        value = f"{session_id}.{signature}".encode()
        self._set(request, SESSION_COOKIE, value, math.ceil(self._lifetime))
        self._seen_in(request).viewer = Viewer(
            viewer.username,
            admin is not None or viewer.username in self._admin_players,
        )

    async def end(self, request: IRequest) -> None:
        """
        Sign the request's browser out: its session ends, wherever its
        cookie is sent from next.
        """
        session_id = self._session_id(request)
        if session_id is not None:
            await self._store.end_session(session_id)
        self._set(request, SESSION_COOKIE, b"", 0)
        self._seen_in(request).viewer = ANONYMOUS

    async def end_sessions(self, username: str, keep: IRequest | None = None) -> int:
        """
        End a player's sessions, on every browser: after a password change
        or reset, or when they sign out everywhere.

        @param username: the player.
        @param keep: a request whose session is kept, when it is one of
            theirs (the one that changed the password); none kept when
            L{None}.
        @return: how many sessions ended.
        @raise RedisUnavailable: when Redis does not answer.
        """
        kept = None if keep is None else self._session_id(keep)
        return await self._store.end_sessions(username, kept)

    async def other_sessions(self, request: IRequest, username: str) -> int:
        """@return: how many live sessions the player has besides this one."""
        return await self._store.count_sessions(username, self._session_id(request))

    # CSRF

    def csrf_token(self, request: IRequest) -> str:
        """
        @return: the token a form shown in answer to C{request} must carry,
            giving the browser its CSRF cookie if it has none.
        """
        seen = self._seen_in(request)
        if seen.csrf is None:
            cookie = request.getCookie(CSRF_COOKIE)
            if not cookie or len(cookie) > 100:
                # Made once per request: every form of one answer carries a
                # token of the one cookie the browser will keep.
                cookie = secrets.token_urlsafe(24).encode()
                self._set(request, CSRF_COOKIE, cookie, None)
            seen.csrf = cookie
        return self._sign(b"csrf", seen.csrf)

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

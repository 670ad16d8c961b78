# -*- test-case-name: tests.store.test_sessions -*-
"""
Web sessions, kept in Redis so that ending one ends it wherever its cookie
is replayed.  Deciding who a request's cookie names is
L{julytwisted.auth.sessions}'s concern; this module only keeps the records.

A session is found by the SHA-256 of its id, never by the id itself: what
Redis holds (a dump, a replica, a C{MONITOR}) cannot be replayed as a
cookie.  Each record expires in Redis after its lifetime, counted from its
start (an absolute lifetime: reading a session does not extend it), and a
player's set of session digests expires with their longest-lived session,
so nothing is left of a session once it has expired.
"""

from __future__ import annotations

import hashlib

import attrs

from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys
from julytwisted.store._scripts import script

_START = script("session_start.lua")
_END_ALL = script("sessions_end.lua")
_COUNT = script("sessions_count.lua")
_END_ONE = Script(
    "redis.call('DEL', KEYS[1]) "
    "if KEYS[2] then redis.call('SREM', KEYS[2], ARGV[1]) end return 1",
    "session_end",
)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@attrs.frozen
class StoredSession:
    """
    What a session's record holds.

    @ivar username: the signed-in player, or L{None} for a session of the
        bare admin token.
    @ivar admin: the fingerprint of the admin token the session was made
        admin with, or L{None} when it was not.
    """

    username: str | None
    admin: str | None


class SessionStore:
    """
    Web sessions by their ids, and each player's sessions.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def start(
        self,
        session_id: str,
        username: str | None,
        admin: str | None,
        lifetime: float,
    ) -> None:
        """
        Keep a new session for C{lifetime} seconds.

        @param session_id: its id, random and secret (only its digest is
            kept).
        @param username: the player it signs in, or L{None}.
        @param admin: the fingerprint of the admin token it is admin by, or
            L{None}.
        """
        digest = _digest(session_id)
        keys = [_keys.session(digest)]
        if username is not None:
            keys.append(_keys.player_sessions(username.lower()))
        await self._redis.run(
            _START,
            keys=tuple(keys),
            args=(
                digest,
                "" if username is None else username.lower(),
                admin or "",
                max(1, round(lifetime * 1000)),
                _keys.SESSION_PREFIX,
            ),
        )

    async def read(self, session_id: str) -> StoredSession | None:
        """@return: the session of that id, or L{None} when it has ended."""
        username, admin = await self._redis.execute(
            "HMGET", _keys.session(_digest(session_id)), "u", "a"
        )
        if username is None and admin is None:
            return None
        return StoredSession(username or None, admin or None)

    async def end(self, session_id: str) -> None:
        """End one session, whoever's it is; nothing when it has ended."""
        key = _keys.session(_digest(session_id))
        username = await self._redis.execute("HGET", key, "u")
        keys = [key]
        if username:
            keys.append(_keys.player_sessions(username))
        await self._redis.run(_END_ONE, keys=tuple(keys), args=(_digest(session_id),))

    async def end_all(self, username: str, keep: str | None = None) -> int:
        """
        End a player's sessions.

        @param keep: the id of one of their sessions to keep, if any.
        @return: how many sessions ended.
        """
        ended = await self._redis.run(
            _END_ALL,
            keys=(_keys.player_sessions(username.lower()),),
            args=("" if keep is None else _digest(keep), _keys.SESSION_PREFIX),
        )
        return int(ended)

    async def count(self, username: str, besides: str | None = None) -> int:
        """
        @param besides: the id of a session not to count, if any.
        @return: how many sessions of a player are live.
        """
        live = await self._redis.run(
            _COUNT,
            keys=(_keys.player_sessions(username.lower()),),
            args=("" if besides is None else _digest(besides), _keys.SESSION_PREFIX),
        )
        return int(live)


__all__ = ["SessionStore", "StoredSession"]

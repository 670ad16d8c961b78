# -*- test-case-name: tests.store.test_store_members -*-
"""
What proves who a player is: their password hash, their API tokens (kept
as SHA-256 digests only), and the nonce of a password reset link while it
lasts.  Checking them is L{julytwisted.auth}'s concern.
"""

from __future__ import annotations

import hashlib
import secrets

from julytwisted.errors import InvalidLink, NotFound
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys

_REVOKE_TOKEN = Script(
    "if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end "
    "redis.call('DEL', KEYS[2]) return 1",
    "revoke_token",
)


# Set a new password hash if the reset link's nonce is the live one, which
# it then no longer is: a reset link works once.
_RESET_PASSWORD = Script(
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
    "redis.call('DEL', KEYS[1]) "
    "redis.call('HSET', KEYS[2], 'password', ARGV[2]) return 1",
    "reset_password",
)

#: How long a password reset link works, in seconds.
RESET_SECONDS = 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: What every API token made since it was introduced starts with.
TOKEN_PREFIX = "jt_"


class Credentials:
    """
    Password hashes and API tokens.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def password_hash(self, username: str) -> str | None:
        """@return: the stored password hash of a player, or L{None}."""
        stored: str | None = await self._redis.execute(
            "HGET", _keys.credentials(username.lower()), "password"
        )
        return stored

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """
        Replace a player's password hash.

        @param password_hash: the new password as L{julytwisted.auth.passwords}
            hashes it.
        @raise NotFound: when there is no such player.
        """
        username = username.lower()
        if not await self._redis.execute("EXISTS", _keys.player(username)):
            raise NotFound(f"no player {username!r}")
        await self._redis.execute(
            "HSET", _keys.credentials(username), "password", password_hash
        )

    async def create_token(self, username: str) -> str:
        """
        Make a new API token for a player.  Only its SHA-256 is stored, so
        this is the one time it can be read.

        @return: the token: C{jt_} and 43 URL-safe characters.  The prefix
            makes a leaked token recognisable to secret scanners, and no
            token starts with C{-}, which command lines would read as an
            option (C{--token -x...}).
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        await self._redis.execute("SET", _keys.token(digest), username.lower())
        await self._redis.execute("SADD", _keys.player_tokens(username.lower()), digest)
        return token

    async def tokens(self, username: str) -> list[str]:
        """
        @return: the ids of a player's API tokens (the start of each one's
            digest; the tokens themselves are not kept), sorted.
        """
        digests = await self._redis.execute(
            "SMEMBERS", _keys.player_tokens(username.lower())
        )
        return sorted(d[:16] for d in digests)

    async def revoke_token(self, username: str, token_id: str) -> None:
        """
        Revoke one of a player's API tokens by its id (L{tokens}).

        @raise NotFound: when the player has no token of that id.
        """
        key = _keys.player_tokens(username.lower())
        digests = await self._redis.execute("SMEMBERS", key)
        matching = [d for d in digests if token_id and d[:16] == token_id]
        if len(matching) != 1 or not await self._redis.run(
            _REVOKE_TOKEN, keys=(key, _keys.token(matching[0])), args=(matching[0],)
        ):
            raise NotFound(f"no token {token_id!r}")

    async def reset_nonce(self, username: str) -> str:
        """
        A new nonce for a player's password reset link, good for
        L{RESET_SECONDS}; the player's earlier reset links stop working.
        """
        nonce = secrets.token_urlsafe(16)
        await self._redis.execute(
            "SET", _keys.password_reset(username.lower()), nonce, "EX", RESET_SECONDS
        )
        return nonce

    async def reset_password(
        self, username: str, nonce: str, password_hash: str
    ) -> None:
        """
        Set a player's password through a reset link, once.

        @param nonce: the one the link carries.
        @param password_hash: the new password as L{julytwisted.auth.passwords}
            hashes it.
        @raise InvalidLink: when the link was used, expired, or is not the
            player's latest.
        """
        username = username.lower()
        done = await self._redis.run(
            _RESET_PASSWORD,
            keys=(_keys.password_reset(username), _keys.credentials(username)),
            args=(nonce, password_hash),
        )
        if not done:
            raise InvalidLink()

    async def token_owner(self, token: str) -> str | None:
        """@return: the username an API token belongs to, or L{None}."""
        owner: str | None = await self._redis.execute(
            "GET", _keys.token(_digest(token))
        )
        return owner


__all__ = ["RESET_SECONDS", "Credentials"]

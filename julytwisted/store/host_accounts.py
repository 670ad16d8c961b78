# -*- test-case-name: tests.store.test_host_accounts -*-
"""
Players' accounts at the code hosts: which player a host account (its
stable id there) signs in, the hosts each player has linked, each link's
token (encrypted by the caller; only ciphertext is kept), and the sign-ins
begun and not yet finished.

A sign-in in progress is kept by the SHA-256 of the nonce its browser's
cookie holds, for a few minutes, and taken once: a second read finds
nothing, so a callback cannot be replayed.
"""

from __future__ import annotations

import hashlib
import json

import attrs

from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys

#: KEYS: the host account, the player's hosts.  ARGV: username, host, id,
#: login.  Links the account unless another player has it; returns who has.
_LINK = Script(
    "local owner = redis.call('GET', KEYS[1]) "
    "if owner and owner ~= ARGV[1] then return owner end "
    "local old = redis.call('HGET', KEYS[2], ARGV[2]) "
    "if old then local was = cjson.decode(old).id "
    "  if was ~= ARGV[3] then redis.call('DEL', ARGV[5] .. was) end end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) "
    "return ARGV[1]",
    "host_link",
)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@attrs.frozen
class LinkedHost:
    """
    A code host account linked to a player.

    @ivar host: the provider, C{"github"}, C{"gitlab"} or C{"bitbucket"}.
    @ivar id: the account's stable id there.
    @ivar login: its login when it was last used to sign in.
    """

    host: str
    id: str
    login: str


class HostAccounts:
    """The links between players and code host accounts, in Redis."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def owner(self, host: str, host_id: str) -> str | None:
        """@return: the player the host account is linked to, if any."""
        found = await self._redis.execute("GET", _keys.host_account(host, host_id))
        return found or None

    async def link(self, username: str, host: str, host_id: str, login: str) -> str:
        """
        Link a host account to a player (replacing the player's earlier
        account at that host), unless another player has it.

        @return: the player it is linked to: C{username}, or the other.
        """
        username = username.lower()
        prefix = _keys.host_account(host, "")
        owner = await self._redis.run(
            _LINK,
            keys=(_keys.host_account(host, host_id), _keys.player_hosts(username)),
            args=(
                username,
                host,
                host_id,
                json.dumps({"id": host_id, "login": login}),
                prefix,
            ),
        )
        return str(owner)

    async def linked(self, username: str) -> list[LinkedHost]:
        """@return: a player's linked host accounts, by host."""
        found = await self._redis.execute(
            "HGETALL", _keys.player_hosts(username.lower())
        )
        pairs = dict(zip(found[::2], found[1::2], strict=True))
        return [
            LinkedHost(host, str(link["id"]), str(link["login"]))
            for host, link in sorted(
                (host, json.loads(value)) for host, value in pairs.items()
            )
        ]

    async def keep_token(self, username: str, host: str, sealed: bytes) -> None:
        """Keep a player's (encrypted) token at a host."""
        key = _keys.player_host_token(username.lower(), host)
        await self._redis.execute("SET", key, sealed)

    async def token(self, username: str, host: str) -> bytes | None:
        """@return: a player's encrypted token at a host, if kept."""
        key = _keys.player_host_token(username.lower(), host)
        found = await self._redis.execute("GET", key)
        if found is None:
            return None
        return found if isinstance(found, bytes) else str(found).encode("ascii")

    async def begin_flow(self, nonce: str, flow: dict[str, str], seconds: int) -> None:
        """Keep a sign-in begun, for C{seconds}, under its browser's nonce."""
        key = _keys.oauth_flow(_digest(nonce))
        await self._redis.execute("SET", key, json.dumps(flow), "EX", seconds)

    async def take_flow(self, nonce: str) -> dict[str, str] | None:
        """
        @return: the sign-in begun under C{nonce}, once: it is gone after;
            L{None} when it expired, was taken, or never was.
        """
        found = await self._redis.execute("GETDEL", _keys.oauth_flow(_digest(nonce)))
        if found is None:
            return None
        flow: dict[str, str] = json.loads(found)
        return flow


__all__ = ["HostAccounts", "LinkedHost"]

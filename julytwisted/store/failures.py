# -*- test-case-name: tests.store.test_failures -*-
"""
The one budget for failed credentials, shared by every node and every door:
web sign-in, JSON-RPC (Basic, leading username and password params, Bearer),
uploads, and the admin token.

A budget per client address and one per username, each a GCRA over
failures only (C{lua/failures.lua}, keys spelled in L{_keys}): an honest player
who types the right password spends nothing, a guesser spends one per wrong
guess and, past the burst, is told to wait before the next guess is even
checked, so it costs no scrypt.  Unlike the request rate limits, this one
does not let requests through while Redis is away: the caller gets
L{RedisUnavailable} (503), never an unchecked guess.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib.resources import files

from julytwisted.config import DEFAULT_LIMITS, Limit
from julytwisted.errors import RateLimited
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys

_FAILURES = Script(
    files("julytwisted.store").joinpath("lua", "failures.lua").read_text("utf-8"),
    "failures",
)


def _default(name: str) -> Limit:
    limit = DEFAULT_LIMITS[name]
    assert limit is not None
    return limit


#: The default budgets (C{--rate-limit credentials=...} and
#: C{credentials-user=...}): 10 failures at once per address, then one a
#: minute (600 an hour from a single address at most); 20 at once per
#: username, then one every 3 minutes, so that guessing one player's password
#: from many addresses gains little.
PER_ADDRESS = _default("credentials")
PER_USERNAME = _default("credentials-user")


def _key(kind: str, value: str) -> str:
    return _keys.credential_failures(
        kind, hashlib.sha256(value.encode()).hexdigest()[:32]
    )


class FailureBudget:
    """
    Checks and spends the failure budgets of an attempt's address and
    username.
    """

    def __init__(
        self,
        redis: RedisClient,
        per_address: Limit | None = PER_ADDRESS,
        per_username: Limit | None = PER_USERNAME,
        on_limited: Callable[[str], None] | None = None,
    ) -> None:
        """
        @param per_address: the budget of each client address; L{None} for
            none.
        @param per_username: the budget of each username; L{None} for none.
        @param on_limited: told C{"credentials"} each time an attempt is
            refused, for metrics.
        """
        self._redis = redis
        self._limits = {"a": per_address, "u": per_username}
        self._on_limited = on_limited

    async def check(self, address: str, username: str | None = None) -> None:
        """
        Before checking credentials: may this attempt be checked at all?

        @param address: the client's address.
        @param username: the username the attempt names, if any
            (case-insensitive).
        @raise RateLimited: when either budget is spent; the guess is not
            to be checked.
        @raise RedisUnavailable: when Redis does not answer.
        """
        await self._run("check", address, username)

    async def spend(self, address: str, username: str | None = None) -> None:
        """
        After credentials were wrong: spend one failure of each budget.

        @raise RateLimited: when this failure spent the last of a budget,
            so that the caller answers 429 at once rather than 401.
        @raise RedisUnavailable: when Redis does not answer.
        """
        await self._run("spend", address, username)

    async def _run(self, mode: str, address: str, username: str | None) -> None:
        budgets = [("a", address)]
        if username:
            budgets.append(("u", username.lower()))
        keys: list[str] = []
        args: list[object] = [mode]
        for kind, value in budgets:
            limit = self._limits[kind]
            if limit is not None:
                keys.append(_key(kind, value))
                args += [max(1, round(limit.period * 1e6 / limit.count)), limit.count]
        if not keys:
            return
        wait_us = int(
            await self._redis.run(_FAILURES, keys=tuple(keys), args=tuple(args))
        )
        if wait_us > 0:
            if self._on_limited is not None:
                self._on_limited("credentials")
            raise RateLimited(wait_us / 1e6, "credentials")


__all__ = ["PER_ADDRESS", "PER_USERNAME", "FailureBudget"]

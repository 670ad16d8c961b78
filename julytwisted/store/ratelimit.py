# -*- test-case-name: tests.store.test_ratelimit -*-
"""
Rate limits shared by every node: GCRA in one Lua script per request, keyed
by client, on Redis's clock (no Redis module needed).

A L{julytwisted.config.Limit} allows C{count} requests at once and then
C{count} per C{period} at a steady pace; a client over it is told how long to
wait.  When Redis does not answer, requests are let through: the limiter
must not be what takes the service down.  This module spells its keys
(C{j:rl:...}).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files
from ipaddress import ip_address, ip_network
from typing import Any

import attrs
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from julytwisted.config import Limit
from julytwisted.errors import RateLimited, RedisUnavailable
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys

log = Logger()

_GCRA = Script(
    files("julytwisted.store").joinpath("lua", "gcra.lua").read_text("utf-8"), "gcra"
)


@attrs.frozen
class Decision:
    """
    @ivar allowed: whether the request may go on.
    @ivar retry_after: seconds until it would be allowed (0 when it is).
    @ivar remaining: requests the client may still make at once.
    """

    allowed: bool
    retry_after: float
    remaining: int


class RateLimiter:
    """
    Checks requests against named limits in Redis.

    @ivar on_limited: told the limit's name each time a request is refused,
        for metrics.
    """

    def __init__(
        self,
        redis: RedisClient,
        limits: Mapping[str, Limit | None],
        address: Callable[[IRequest], str] | None = None,
        on_limited: Callable[[str], None] | None = None,
    ) -> None:
        """
        @param limits: each limit by name; a name missing or mapped to
            L{None} is not limited.
        @param address: finds a request's client address; the peer's by
            default.
        """
        self._redis = redis
        self.limits = dict(limits)
        self.address = address or ClientAddress()
        self.on_limited = on_limited

    async def check(self, name: str, client: str) -> Decision:
        """
        Count one request of C{client} against the limit C{name}.

        @param client: who is asking: an address, or a digest of a token.
        """
        limit = self.limits.get(name)
        if limit is None:
            return Decision(True, 0.0, -1)
        interval = max(1, round(limit.period * 1_000_000 / limit.count))
        try:
            allowed, retry_us, remaining = await self._redis.run(
                _GCRA,
                keys=(_keys.rate_limit(name, client),),
                args=(interval, limit.count),
            )
        except RedisUnavailable:
            log.warn("rate limit {name} not checked: Redis is away", name=name)
            return Decision(True, 0.0, -1)
        decision = Decision(bool(int(allowed)), int(retry_us) / 1e6, int(remaining))
        if not decision.allowed and self.on_limited is not None:
            self.on_limited(name)
        return decision

    async def wait(
        self, name: str, request: IRequest, principal: str | None = None
    ) -> float | None:
        """
        Count a request against the limit C{name}, by its client address, or
        by the principal its credentials proved.

        @param principal: who the request's credentials proved it comes
            from, spelled so that it never reads as an address (such as
            C{user:ada}), or L{None} to count it by its address:
            credentials that prove nothing must buy no allowance of their
            own, or a fresh made-up header would be a fresh allowance.
        @return: L{None} when it may go on, else the seconds to wait.
        """
        client = self.address(request) if principal is None else principal
        decision = await self.check(name, client)
        return None if decision.allowed else decision.retry_after

    async def admit(
        self, name: str, request: IRequest, principal: str | None = None
    ) -> None:
        """
        Like L{wait}, for code that answers with an exception.

        @raise RateLimited: when the request is over the limit.
        """
        wait = await self.wait(name, request, principal)
        if wait is not None:
            raise RateLimited(wait, name)


class ClientAddress:
    """
    Finds a request's client address, believing C{X-Forwarded-For} only
    when the connection comes from a trusted proxy (nginx in front).
    """

    def __init__(self, trusted: Sequence[str] = ()) -> None:
        """
        @param trusted: addresses or networks of the proxies in front.
        """
        self._trusted = [ip_network(t, strict=False) for t in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def __call__(self, request: IRequest) -> str:
        peer: Any = request.getClientAddress()
        address = str(getattr(peer, "host", "") or "unix")
        if not self._trusted or not self._is_trusted(address):
            return address
        forwarded = b",".join(
            request.requestHeaders.getRawHeaders(b"x-forwarded-for", [])
        )
        hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
        # The nearest hop a trusted proxy did not add is the client.
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                try:
                    return str(ip_address(hop))
                except ValueError:
                    return address
        return address


__all__ = [
    "ClientAddress",
    "Decision",
    "RateLimiter",
]

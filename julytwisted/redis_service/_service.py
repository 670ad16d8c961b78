# -*- test-case-name: tests.redis_service.test_redis_service -*-
"""
L{RedisService}: Redis for one process.  The embedded server when no
address is given, else an external one over TCP, a Unix socket or through
Redis Sentinel; a pool of connections that reconnects after every outage,
a connection of its own for blocking commands, and pub/sub connections.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import txredisapi
from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from zope.interface import implementer

from julytwisted import _compat
from julytwisted.config import RedisAddress
from julytwisted.redis_service._client import RedisClient, RedisObserver, all_of
from julytwisted.redis_service._embedded import EmbeddedRedis


def _endpoint(
    reactor: IReactorTime, address: RedisAddress | None, socket_path: Path | None
) -> IStreamClientEndpoint:
    if address is None:
        assert socket_path is not None
        return UNIXClientEndpoint(reactor, str(socket_path), timeout=5)
    if address.is_unix:
        assert address.path is not None
        return UNIXClientEndpoint(reactor, address.path, timeout=5)
    assert address.host is not None and address.port is not None
    return HostnameEndpoint(reactor, address.host, address.port, timeout=5)


@implementer(IStreamClientEndpoint)
class _SentinelMaster:
    """Connects to wherever the Sentinels say the master is now."""

    def __init__(self, reactor: IReactorTime, sentinel: Any, service: str) -> None:
        self._reactor = reactor
        self._sentinel = sentinel
        self._service = service

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        def found(address: tuple[str, int]) -> Deferred[IProtocol]:
            host, port = address
            endpoint = HostnameEndpoint(self._reactor, host, port, timeout=5)
            return endpoint.connect(factory)

        d: Deferred[Any] = self._sentinel.discover_master(self._service)
        connected: Deferred[IProtocol] = d.addCallback(found)
        return connected


class RedisService(MultiService):
    """
    Redis for one process: the embedded server when no address is given, and a
    pool of connections that reconnects after every outage.

    L{client} is usable from construction on; commands sent before the pool is
    connected wait, within their deadline, for it.
    """

    name = "redis"

    def __init__(
        self,
        reactor: IReactorTime,
        address: RedisAddress | None,
        data_dir: Path,
        timeout: float = 5.0,
        poolsize: int = 4,
        observe: RedisObserver | None = None,
    ) -> None:
        """
        @param observe: told of every call of every client, for metrics.
        """
        MultiService.__init__(self)
        self._observe = observe
        self._reactor = reactor
        self.address = address
        self.embedded: EmbeddedRedis | None = None
        socket_path = None
        if address is None:
            self.embedded = EmbeddedRedis(reactor, data_dir)
            self.embedded.setServiceParent(self)
            socket_path = self.embedded.socket_path
        self._sentinel: Any = None
        if address is not None and address.sentinels:
            # Every connection asks the Sentinels where the master is, and
            # checks that it talks to a master: after a failover, new
            # connections go to the promoted replica.
            self._sentinel = txredisapi.Sentinel(list(address.sentinels))
            self._endpoint: IStreamClientEndpoint | None = None
        else:
            self._endpoint = _endpoint(reactor, address, socket_path)
        #: What runs before each read of a command connection is parsed.
        self._before_replies: list[Callable[[], object]] = []
        self._factory = self._make_factory(poolsize)
        self._timeout = timeout
        self._factories = [self._factory]
        #: Whether factories connect as they are made: from when Redis
        #: listens until the service stops.
        self._connecting = False
        self.client = RedisClient(self._factory, reactor, timeout, observe)

    def _make_factory(self, poolsize: int) -> Any:
        address = self.address
        options: dict[str, Any] = {
            "isLazy": True,
            "password": address.password if address else None,
            "convertNumbers": False,
        }
        if self._sentinel is not None:
            assert address is not None
            factory = txredisapi.SentinelConnectionFactory(
                self._sentinel, address.service, True, None, address.db, poolsize,
                **options,
            )  # fmt: skip
        else:
            factory = txredisapi.RedisFactory(
                str(self._endpoint), address.db if address else None, poolsize,
                **options,
            )  # fmt: skip
        _compat.eager_protocol(factory)
        factory.before_replies = self._run_before_replies
        # Come back within a second or two of Redis returning, not ten.
        factory.initialDelay = 0.1
        factory.maxDelay = 2
        return factory

    def before_replies(self, read: Callable[[], object]) -> None:
        """
        Run C{read} whenever a command connection has read replies, before
        they are handed to whoever waits for them.

        For a subscription that must not wait behind them: Redis writes a
        command's reply before the messages the command published (its
        clients with something to write are written to newest first), so
        a poll that finds both hands the process the reply first, and the
        code that awaited it (a webhook's, hundreds of microseconds) runs
        before the message is read.
        """
        self._before_replies.append(read)

    def _run_before_replies(self) -> None:
        for read in self._before_replies:
            read()

    def dedicated_client(self) -> RedisClient:
        """
        A client on a connection of its own, for blocking commands (a worker's
        XREADGROUP BLOCK) that would stall every command queued behind them.
        """
        factory = self._make_factory(1)
        self._factories.append(factory)
        if self._connecting:
            self._connect(factory)
        return RedisClient(factory, self._reactor, self._timeout, self._observe)

    def _connect(self, factory: Any) -> None:
        if self._sentinel is None:
            factory.startConnecting(self._endpoint)
        elif isinstance(factory, txredisapi.SentinelConnectionFactory):
            # txredisapi's own endpoint for Sentinel: it asks for the master
            # before each connection and drops the pool when the master moves.
            factory.startConnecting(_compat.sentinel_endpoint(factory))
        else:
            # A subscriber: asks for the master before each connection too.
            assert self.address is not None and self.address.service is not None
            master = _SentinelMaster(
                self._reactor, self._sentinel, self.address.service
            )
            factory.startConnecting(master)

    def subscriber(self, protocol: type[Any]) -> Any:
        """
        A pub/sub connection of its own, reconnecting after every outage.
        Redis forgets a connection's subscriptions when it drops, so
        C{protocol} (a C{txredisapi.SubscriberProtocol}) subscribes again in
        its C{connectionMade}.

        @param protocol: the connection's protocol class.
        @return: the txredisapi C{SubscriberFactory}, connecting once this
            service runs.
        """
        factory = txredisapi.SubscriberFactory(isLazy=True)
        factory.protocol = protocol
        factory.convertNumbers = False
        if self.address is not None:
            factory.password = self.address.password
        factory.initialDelay = 0.1
        factory.maxDelay = 2
        self._factories.append(factory)
        if self._connecting:
            self._connect(factory)
        return factory

    def startService(self) -> None:
        MultiService.startService(self)
        if self.embedded is None:
            self._connect_all()
        else:
            self.embedded.listening().addCallback(lambda _: self._connect_all())

    def _connect_all(self) -> None:
        if self.running:
            self._connecting = True
            for factory in self._factories:
                self._connect(factory)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        self._connecting = False
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        """Close every connection, then stop the embedded server, if any."""
        stopping = [factory.disconnect() for factory in self._factories]
        if self._sentinel is not None:
            stopping.append(self._sentinel.disconnect())
        try:
            await all_of(stopping)
        finally:
            if self.embedded is not None:
                await self.embedded.stopService()


__all__ = ["RedisService"]

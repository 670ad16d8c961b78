# -*- test-case-name: tests.redis_service.test_redis_service -*-
"""
The client every part talks to Redis through: L{RedisClient} puts a
deadline on each command and reports an outage as L{RedisUnavailable};
L{Script} runs Lua by its SHA-1; L{all_of} runs several calls at once, the
one helper every part gathers with.

txredisapi queues commands silently while Redis is away, and a request must
fail fast (503) instead of hanging: hence the deadlines.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

import txredisapi
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    FirstError,
    fail,
    gatherResults,
)
from twisted.internet.defer import (
    TimeoutError as DeferredTimeoutError,
)
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from julytwisted.errors import RedisUnavailable

_T = TypeVar("_T")

#: Redis error replies that mean "not now" rather than "never".
_TRANSIENT_PREFIXES = ("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN")


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


async def all_of(calls: Iterable[Awaitable[_T]]) -> list[_T]:
    """
    Run several calls at once and wait for them all: the product's one way
    to gather.

    @param calls: coroutines, each started here before any is waited on, or
        Deferreds, already running.
    @return: every result, in order.
    @raise Exception: the first failure as itself, not wrapped in a
        L{FirstError}, so that a L{RedisUnavailable} is still answered 503;
        the other failures are consumed, never logged as unhandled.
        Cancelling the wait cancels every call still running.
    """
    running = [_started(call) for call in calls]
    try:
        return await gatherResults(running, consumeErrors=True)
    except FirstError as e:
        e.subFailure.raiseException()
        raise


def _started(call: Awaitable[_T]) -> Deferred[_T]:
    if isinstance(call, Deferred):
        return call
    if isinstance(call, Coroutine):
        return Deferred.fromCoroutine(call)
    raise TypeError(f"{call!r} is neither a coroutine nor a Deferred")


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


__all__ = ["RedisClient", "RedisObserver", "Script", "all_of"]

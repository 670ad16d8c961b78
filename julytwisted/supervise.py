# -*- test-case-name: tests.test_supervise -*-
"""
Long-running loops that never die quietly.

A L{Supervised} loop runs one step again and again: the worker's rounds and
heartbeats, the scheduler's ticks, the live bridge's subscribing and catching
up.  A step that fails is logged (an expected failure, such as Redis being
away, in one line; anything else with its traceback) and run again after an
exponential L{Backoff}, so that a bug or an outage costs a log entry and a
pause, never the loop.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import attrs
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger()


@attrs.frozen
class Backoff:
    """
    Seconds before retry N: C{base * 2 ** (N - 1)}, at most C{cap}, times a
    random factor in [1 - jitter, 1].
    """

    base: float = 1.0
    cap: float = 300.0
    jitter: float = 0.5

    def delay(self, attempt: int) -> float:
        """@return: the wait before retry C{attempt} (from 1)."""
        raw: float = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return raw * (1 - self.jitter * random.random())


class Supervised:
    """
    Runs C{step} until stopped: after a success, again C{interval} seconds
    later (at once for 0; never again for L{None}, which retries a step
    until it succeeds once); after a failure, again after the backoff's
    delay for the number of failures in a row.

    A step of interval 0 must wait on something (Redis, a Deferred) each
    time, or the loop would hold the reactor.

    @ivar running: whether the loop goes on.
    @ivar failures: how many runs in a row have failed.
    """

    def __init__(
        self,
        what: str,
        step: Callable[[], Awaitable[object]],
        clock: IReactorTime,
        *,
        interval: float | None = 0.0,
        backoff: Backoff = Backoff(base=1.0, cap=30.0),
        expected: tuple[type[Exception], ...] = (),
        logger: Logger = _log,
    ) -> None:
        """
        @param what: names the loop in its log lines.
        @param step: one run; its failure is caught, logged and retried.
        @param clock: schedules the waits.
        @param expected: failures logged in one line, the first of a row
            only (Redis away); any other is logged with its traceback.
        @param logger: logs under the namespace of the loop's owner.
        """
        self._what = what
        self._step = step
        self._clock = clock
        self._interval = interval
        self._backoff = backoff
        self._expected = expected
        self._log = logger
        self.running = False
        self.failures = 0
        self._waiting: Deferred[None] | None = None
        self._done: Deferred[None] | None = None
        self._stopped: list[Deferred[None]] = []

    def start(self, now: bool = True) -> None:
        """
        Start the loop.

        @param now: run the first step at once, else after C{interval}.
        @raise RuntimeError: if it runs, or its last run is still ending.
        """
        if self.running or (self._done is not None and not self._done.called):
            raise RuntimeError(f"{self._what} is already running")
        self.running = True
        self.failures = 0
        self._done = Deferred.fromCoroutine(self._run(now))
        self._done.addErrback(
            lambda f: self._log.failure("{what} died", f, what=self._what)
        )

    def stop(self) -> Deferred[None]:
        """
        Stop the loop: no step starts after this, a wait is cut short.

        @return: fires once the step running now, if any, has ended.
        """
        self.running = False
        if self._waiting is not None:
            self._waiting.cancel()
        if self._done is None or self._done.called:
            return succeed(None)
        stopped: Deferred[None] = Deferred()
        self._stopped.append(stopped)
        return stopped

    async def _run(self, now: bool) -> None:
        try:
            if not now:
                await self._wait(self._interval or 0.0)
            while self.running:
                if await self._once() and self._interval is None:
                    self.running = False
                    break
                if self.running:
                    await self._wait(self._pause())
        finally:
            stopped, self._stopped = self._stopped, []
            for d in stopped:
                d.callback(None)

    async def _once(self) -> bool:
        """@return: whether the step succeeded."""
        try:
            await self._step()
        except Exception:
            self.failures += 1
            self._report(Failure())
            return False
        if self.failures:
            self._log.info(
                "{what}: going again after {n} failures",
                what=self._what,
                n=self.failures,
            )
            self.failures = 0
        return True

    def _pause(self) -> float:
        if self.failures:
            return self._backoff.delay(self.failures)
        return self._interval or 0.0

    def _report(self, failure: Failure) -> None:
        if failure.check(*self._expected):
            if self.failures == 1:
                self._log.info(
                    "{what}: {error}; trying again",
                    what=self._what,
                    error=failure.getErrorMessage(),
                )
            return
        self._log.failure(
            "{what} failed ({n} in a row); trying again",
            failure,
            what=self._what,
            n=self.failures,
        )

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._waiting = deferLater(self._clock, seconds, lambda: None)
        try:
            await self._waiting
        except CancelledError:
            pass
        finally:
            self._waiting = None


__all__ = ["Backoff", "Supervised"]

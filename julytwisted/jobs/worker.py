# -*- test-case-name: tests.jobs.test_queue -*-
"""
The worker service: runs the queue's jobs on this node, a few at once, with
heartbeats, retries with backoff, and a graceful stop.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredList,
    ensureDeferred,
)
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall, deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from julytwisted.errors import RedisUnavailable
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.redis_service import RedisClient

log = Logger()


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
        raw: float = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return raw * (1 - self.jitter * random.random())


class WorkerService(Service):
    """
    Runs jobs from the queue, up to C{concurrency} at once.

    Stopping stops taking jobs, lets running ones finish up to
    C{stop_timeout}, and cancels the rest; a cancelled job is left
    unacknowledged, so another worker reclaims it and runs it again from the
    start (job functions are idempotent).
    """

    name = "worker"

    def __init__(
        self,
        queue: Queue,
        blocking: RedisClient,
        registry: JobRegistry,
        clock: IReactorTime,
        concurrency: int = 4,
        visibility: float = 30.0,
        stop_timeout: float = 10.0,
        backoff: Backoff = Backoff(),
        poll: float = 1.0,
        observe: Callable[[str, str], None] | None = None,
    ) -> None:
        """
        @param observe: told of every run's end, for metrics: the job's name
            and C{done}, C{retry} or C{failed}.
        """
        self._queue = queue
        self._observe = observe
        self._blocking = blocking
        self._registry = registry
        self._clock = clock
        self.concurrency = concurrency
        self._visibility = visibility
        self._stop_timeout = stop_timeout
        self._backoff = backoff
        self._poll = poll
        self.consumer = f"{uuid.uuid4().hex[:12]}"
        self.running_jobs: dict[str, Deferred[None]] = {}
        self._loop: Deferred[None] | None = None
        self._slot_freed: Deferred[None] | None = None
        self._next_sweep = 0.0
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = clock

    def startService(self) -> None:
        Service.startService(self)
        self._loop = ensureDeferred(self._run())
        self._loop.addErrback(lambda f: log.failure("worker loop died", f))
        # Four beats per timeout: a job is taken from a live worker only if
        # its reactor stalls for three quarters of the timeout.
        self._heartbeat.start(max(self._visibility / 4, 0.1), now=False)

    async def _run(self) -> None:
        await self._until_ready()
        while self.running:
            try:
                await self._round()
            except RedisUnavailable:
                await deferLater(self._clock, self._poll, lambda: None)

    async def _until_ready(self) -> None:
        while self.running:
            try:
                await self._queue.ensure_group()
                return
            except RedisUnavailable:
                await deferLater(self._clock, self._poll, lambda: None)

    async def _round(self) -> None:
        free = self.concurrency - len(self.running_jobs)
        if free <= 0:
            self._slot_freed = Deferred()
            await self._slot_freed
            return
        taken: list[tuple[str, str]] = []
        if self._clock.seconds() >= self._next_sweep:
            # Due delayed jobs and dead workers' jobs: once per poll interval,
            # not per round, so that busy rounds cost one Redis call.
            self._next_sweep = self._clock.seconds() + self._poll
            await self._queue.promote_due()
            idle = int(self._visibility * 1000)
            taken = await self._queue.reclaim(self.consumer, idle, free)
        if not taken:
            block = int(self._poll * 1000)
            taken = await self._queue.take(self._blocking, self.consumer, free, block)
        for entry, job_id in taken:
            if self.running:
                d = ensureDeferred(self._work(entry, job_id))
                self.running_jobs[entry] = d
                d.addBoth(self._forget, entry)

    def _forget(self, result: object, entry: str) -> None:
        self.running_jobs.pop(entry, None)
        freed, self._slot_freed = self._slot_freed, None
        if freed is not None:
            freed.callback(None)
        if not isinstance(result, Failure) or result.check(CancelledError):
            return
        if result.check(RedisUnavailable):
            log.warn("job {entry} left for another worker: Redis is away", entry=entry)
        else:
            log.failure("job {entry} ended badly", result, entry=entry)

    async def _work(self, entry: str, job_id: str) -> None:
        started = await self._queue.start(entry, job_id, self.consumer)
        if started is None:
            return
        attempt, name, args, most = started
        function = self._registry.functions.get(name)
        try:
            if function is None:
                raise LookupError(f"no job function {name!r}")
            result = await function(*args)
        except CancelledError:
            # Stopping: left unacknowledged, for another worker to reclaim.
            raise
        except Exception as e:
            await self._failed(entry, job_id, name, attempt, most, e)
            return
        await self._queue.finish(entry, job_id, "done", result)
        self._observed(name, "done")

    def _observed(self, name: str, outcome: str) -> None:
        if self._observe is not None:
            known = name in self._registry.functions
            self._observe(name if known else "(unknown)", outcome)

    async def _failed(
        self,
        entry: str,
        job_id: str,
        name: str,
        attempt: int,
        most: int,
        error: Exception,
    ) -> None:
        message = f"{type(error).__name__}: {error}"
        if attempt >= most:
            log.warn(
                "job {name} {id} failed for good: {e}", name=name, id=job_id, e=message
            )
            await self._queue.finish(entry, job_id, "failed", message)
            self._observed(name, "failed")
            return
        retry_at = self._clock.seconds() + self._backoff.delay(attempt)
        log.info(
            "job {name} {id} failed ({e}); retrying", name=name, id=job_id, e=message
        )
        await self._queue.finish(entry, job_id, "retry", message, retry_at)
        self._observed(name, "retry")

    def _beat(self) -> Deferred[None]:
        d = ensureDeferred(
            self._queue.heartbeat(self.consumer, list(self.running_jobs))
        )
        return d.addErrback(lambda f: f.trap(RedisUnavailable))

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        running = list(self.running_jobs.values())
        done = DeferredList(running, consumeErrors=True)
        # On timeout, cancelling the DeferredList cancels every running job.
        done.addTimeout(self._stop_timeout, self._clock)
        d: Deferred[Any] = done.addBoth(lambda _: self._stop_loop())
        return d

    def _stop_loop(self) -> Deferred[None] | None:
        if self._heartbeat.running:
            self._heartbeat.stop()
        loop = self._loop
        if loop is None or loop.called:
            return None
        # The loop is waiting on a blocking read of at most `poll` seconds.
        return loop.addErrback(lambda f: f.trap(Exception))


__all__ = ["Backoff", "WorkerService"]

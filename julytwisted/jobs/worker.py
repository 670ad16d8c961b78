# -*- test-case-name: tests.jobs.test_queue -*-
"""
The worker service: runs the queue's jobs on this node, a few at once, with
heartbeats, retries with backoff, and a graceful stop.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from julytwisted.errors import JulythonError, RedisUnavailable
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.redis_service import RedisClient, all_of
from julytwisted.supervise import Backoff, Supervised

log = Logger()


class WorkerService(Service):
    """
    Runs jobs from the queue, up to C{concurrency} at once.

    Stopping stops taking jobs, lets running ones finish up to
    C{stop_timeout}, and cancels the rest; a cancelled job is left
    unacknowledged, so another worker reclaims it and runs it again from the
    start (job functions are idempotent).

    Its loop of rounds and its heartbeats are L{Supervised}: Redis away, or
    any error of the queue's, pauses them (logged, backing off from C{poll}
    seconds to five times that) and never ends them.
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
        @param backoff: the retries of a job that failed.
        @param poll: the longest wait, in seconds, for a job or a due one.
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
        self._ready = False
        self._slot_freed: Deferred[None] | None = None
        self._next_sweep = 0.0
        self._loop = self._supervised(
            "the worker loop", self._step, 0.0, Backoff(base=poll, cap=5 * poll)
        )
        # Four beats per timeout: a job is taken from a live worker only if
        # its reactor stalls for three quarters of the timeout.
        beat = max(visibility / 4, 0.1)
        self._heartbeat = self._supervised(
            "the worker's heartbeat", self._beat, beat, Backoff(min(poll, beat), beat)
        )

    def _supervised(
        self,
        what: str,
        step: Callable[[], Awaitable[None]],
        interval: float,
        backoff: Backoff,
    ) -> Supervised:
        """@return: a loop of this worker's, which Redis away only pauses."""
        return Supervised(
            what,
            step,
            self._clock,
            interval=interval,
            backoff=backoff,
            expected=(RedisUnavailable,),
            logger=log,
        )

    def startService(self) -> None:
        Service.startService(self)
        self._loop.start()
        self._heartbeat.start(now=False)

    async def _step(self) -> None:
        """One run of the loop: the consumer group made once, then a round."""
        if not self._ready:
            await self._queue.ensure_group()
            self._ready = True
        await self._round()

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
                d = Deferred.fromCoroutine(self._work(entry, job_id))
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
        # A host that asks us to wait (HostRateLimited) is not asked sooner.
        wait = self._backoff.delay(attempt)
        if isinstance(error, JulythonError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        retry_at = self._clock.seconds() + wait
        log.info(
            "job {name} {id} failed ({e}); retrying", name=name, id=job_id, e=message
        )
        await self._queue.finish(entry, job_id, "retry", message, retry_at)
        self._observed(name, "retry")

    async def _beat(self) -> None:
        await self._queue.heartbeat(self.consumer, list(self.running_jobs))

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        # No round starts now; the one running ends with its blocking read
        # (at most `poll` seconds) or when a running job ends.
        loop_stopped = self._loop.stop()
        running = list(self.running_jobs.values())
        # Each job's Deferred ends in _forget, so it never fails.
        done = Deferred.fromCoroutine(all_of(running))
        # On timeout, cancelling the wait cancels every running job.
        done.addTimeout(self._stop_timeout, self._clock)
        try:
            await done
        except DeferredTimeoutError:
            log.warn(
                "jobs still running after {s}s were cancelled for another worker",
                s=self._stop_timeout,
            )
        # Beats go on until then: they keep the running jobs this worker's.
        await self._heartbeat.stop()
        await loop_stopped


__all__ = ["Backoff", "WorkerService"]

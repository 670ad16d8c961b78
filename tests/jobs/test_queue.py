"""
The job queue and its workers against a real redis-server: runs, retries,
dead letters, delays, jobs taken over from a worker that died, and a
worker's loops outliving errors nobody expected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import formatEvent

from julytwisted.errors import NotFound
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.jobs.worker import Backoff, WorkerService
from julytwisted.models import JobStatus
from julytwisted.redis_service import RedisService
from tests.faults import Injected, injected, raise_once

FAST = Backoff(base=0.05, cap=0.2, jitter=0.5)


async def settle(queue: Queue, job_id: str, timeout: float = 10) -> JobStatus:
    """Poll a job until it is done or failed."""
    for _ in range(int(timeout / 0.05)):
        status = await queue.status(job_id)
        if status.state in ("done", "failed"):
            return status
        await deferLater(reactor, 0.05, lambda: None)
    raise AssertionError(f"job still {status.state}")


@pytest.fixture
def queue(redis: RedisService) -> Queue:
    return Queue(redis.client, reactor)


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry()


def worker(
    redis: RedisService, queue: Queue, registry: JobRegistry, **kw: Any
) -> WorkerService:
    options: dict[str, Any] = {"backoff": FAST, "poll": 0.2, "visibility": 1.0, **kw}
    return WorkerService(queue, redis.dedicated_client(), registry, reactor, **options)


@pytest_twisted.async_yield_fixture
async def running(
    redis: RedisService, queue: Queue, registry: JobRegistry
) -> AsyncIterator[WorkerService]:
    w = worker(redis, queue, registry)
    w.startService()
    yield w
    await w.stopService()


@pytest_twisted.ensureDeferred
async def test_job_runs_and_reads_done(
    running: WorkerService, queue: Queue, registry: JobRegistry
) -> None:
    """An enqueued job runs with its arguments and reads done, with its result."""

    @registry.job("add")
    async def add(a: int, b: int) -> int:
        return a + b

    job_id = await queue.enqueue("add", 2, 3)
    status = await settle(queue, job_id)
    assert status.state == "done" and status.result == 5
    assert status.attempts == 1 and status.finished >= status.created


@pytest_twisted.ensureDeferred
async def test_raises_twice_then_succeeds(
    running: WorkerService, queue: Queue, registry: JobRegistry
) -> None:
    """A job that fails twice is retried and its third attempt succeeds."""
    calls: list[int] = []

    @registry.job("flaky")
    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("not yet")
        return "ok"

    status = await settle(queue, await queue.enqueue("flaky"))
    assert (status.state, status.attempts, len(calls)) == ("done", 3, 3)


@pytest_twisted.ensureDeferred
async def test_always_failing_job_is_dead_and_can_be_requeued(
    running: WorkerService, queue: Queue, registry: JobRegistry
) -> None:
    """After its last attempt a job is dead with its error; requeued, it runs again."""
    fixed = []

    @registry.job("broken")
    async def broken() -> str:
        if not fixed:
            raise RuntimeError("always")
        return "fixed"

    job_id = await queue.enqueue("broken", max_attempts=3)
    status = await settle(queue, job_id)
    assert status.state == "failed" and status.attempts == 3
    assert "RuntimeError: always" in status.error
    assert [d.id for d in await queue.dead()] == [job_id]
    assert (await queue.stats())["dead"] == 1
    fixed.append(True)
    await queue.requeue(job_id)
    assert (await settle(queue, job_id)).result == "fixed"
    assert await queue.dead() == []
    with pytest.raises(NotFound):
        await queue.requeue(job_id)


@pytest_twisted.ensureDeferred
async def test_delayed_job_runs_no_earlier_than_asked(
    running: WorkerService, queue: Queue, registry: JobRegistry
) -> None:
    """A job delayed by a second does not start before that second is over."""

    @registry.job("noop")
    async def noop() -> None:
        return None

    asked = reactor.seconds()
    job_id = await queue.enqueue("noop", delay=1.0)
    assert (await queue.status(job_id)).state == "delayed"
    status = await settle(queue, job_id)
    assert status.started >= asked + 1.0


@pytest_twisted.ensureDeferred
async def test_job_of_a_dead_worker_is_taken_over(
    redis: RedisService, queue: Queue, registry: JobRegistry
) -> None:
    """
    A worker that took a job and died (never acknowledged it) loses it to
    another worker once the visibility timeout passes; it runs to done.
    """
    runs: list[str] = []

    @registry.job("once")
    async def once() -> str:
        runs.append("run")
        return "done"

    await queue.ensure_group()
    job_id = await queue.enqueue("once")
    taken = await queue.take(redis.dedicated_client(), "dead-worker", 1, 100)
    assert [j for _, j in taken] == [job_id]
    survivor = worker(redis, queue, registry, visibility=0.5)
    survivor.startService()
    try:
        status = await settle(queue, job_id)
    finally:
        await survivor.stopService()
    assert status.state == "done" and runs == ["run"]


@pytest_twisted.ensureDeferred
async def test_running_job_is_not_taken_from_a_live_worker(
    redis: RedisService, queue: Queue, registry: JobRegistry
) -> None:
    """A job running past the visibility timeout keeps its worker: it runs once."""
    runs: list[str] = []

    @registry.job("slow")
    async def slow() -> str:
        runs.append("start")
        await deferLater(reactor, 1.5, lambda: None)
        return "slow done"

    workers = [worker(redis, queue, registry, visibility=0.5) for _ in range(2)]
    for w in workers:
        w.startService()
    try:
        status = await settle(queue, await queue.enqueue("slow"))
    finally:
        for w in workers:
            await w.stopService()
    assert status.state == "done" and runs == ["start"]


@pytest_twisted.ensureDeferred
async def test_stop_lets_running_jobs_finish(
    redis: RedisService, queue: Queue, registry: JobRegistry
) -> None:
    """A stopping worker finishes its running job before it stops."""
    started: Deferred[None] = Deferred()

    @registry.job("short")
    async def short() -> str:
        started.callback(None)
        await deferLater(reactor, 0.3, lambda: None)
        return "finished"

    w = worker(redis, queue, registry)
    w.startService()
    job_id = await queue.enqueue("short")
    await started
    await w.stopService()
    assert (await queue.status(job_id)).state == "done"


@pytest_twisted.ensureDeferred
async def test_stop_cancels_jobs_running_past_the_timeout(
    redis: RedisService, queue: Queue, registry: JobRegistry
) -> None:
    """
    A job still running when the stop timeout passes is cancelled and left
    unacknowledged, for another worker to take over; the worker stops.
    """
    started: Deferred[None] = Deferred()
    cancelled: list[str] = []

    @registry.job("endless")
    async def endless() -> None:
        started.callback(None)
        await Deferred(lambda _: cancelled.append("endless"))

    w = worker(redis, queue, registry, stop_timeout=0.2)
    w.startService()
    job_id = await queue.enqueue("endless")
    await started
    began = reactor.seconds()
    await w.stopService()
    assert reactor.seconds() - began < 2
    assert cancelled == ["endless"]
    assert w.running_jobs == {}
    assert (await queue.status(job_id)).state == "running"


@pytest_twisted.ensureDeferred
async def test_unknown_job_name_fails_clearly(
    running: WorkerService, queue: Queue
) -> None:
    """A job whose name no function has ends failed, saying so."""
    status = await settle(
        queue, await queue.enqueue("nothing-by-this-name", max_attempts=1)
    )
    assert status.state == "failed" and "nothing-by-this-name" in status.error


@pytest_twisted.ensureDeferred
async def test_status_of_unknown_job(queue: Queue) -> None:
    """An unknown job id is NotFound."""
    with pytest.raises(NotFound):
        await queue.status("0" * 32)


@pytest_twisted.ensureDeferred
async def test_stats_fail_with_the_first_failure_itself(queue: Queue) -> None:
    """
    The queue's figures are read together; a read that fails makes them
    fail with its own error (a RedisUnavailable stays one, answered 503),
    not with a wrapper of it.
    """
    await queue.ensure_group()
    raise_once(queue.redis, "execute", when=lambda *command, **_: command[0] == "ZCARD")
    with pytest.raises(Injected):
        await queue.stats()
    assert await queue.stats() == {"queued": 0, "running": 0, "delayed": 0, "dead": 0}


@pytest_twisted.ensureDeferred
async def test_worker_loop_outlives_an_unexpected_error(
    redis: RedisService,
    queue: Queue,
    registry: JobRegistry,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    A round whose read of the queue fails with an error nobody expects is
    logged with its traceback; the loop backs off and goes on, and the next
    job runs.
    """

    @registry.job("add")
    async def add(a: int, b: int) -> int:
        return a + b

    reads = raise_once(queue, "take")
    w = worker(redis, queue, registry)
    w.startService()
    try:
        status = await settle(queue, await queue.enqueue("add", 2, 3))
    finally:
        await w.stopService()
    assert status.state == "done" and status.result == 5
    assert len(reads) >= 2
    [event] = injected(no_logged_errors)
    assert "the worker loop failed" in formatEvent(event)
    assert "injected into take" in event["log_failure"].getTraceback()


@pytest_twisted.ensureDeferred
async def test_heartbeat_outlives_an_unexpected_error(
    redis: RedisService,
    queue: Queue,
    registry: JobRegistry,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    A heartbeat of a running job that fails with an error nobody expects is
    logged, and the beats go on: the job, running past the visibility
    timeout beside another worker, keeps its worker and runs once.
    """
    runs: list[str] = []

    @registry.job("slow")
    async def slow() -> str:
        runs.append("start")
        await deferLater(reactor, 1.5, lambda: None)
        return "slow done"

    beats = raise_once(queue, "heartbeat", when=lambda consumer, entries: entries)
    workers = [worker(redis, queue, registry, visibility=0.5) for _ in range(2)]
    for w in workers:
        w.startService()
    try:
        status = await settle(queue, await queue.enqueue("slow"))
    finally:
        for w in workers:
            await w.stopService()
    assert status.state == "done" and runs == ["start"]
    [event] = injected(no_logged_errors)
    assert "the worker's heartbeat failed" in formatEvent(event)
    assert len([entries for _, entries in beats if entries]) >= 5


@pytest_twisted.ensureDeferred
async def test_a_host_asking_to_wait_is_not_asked_sooner(
    running: WorkerService, queue: Queue, registry: JobRegistry
) -> None:
    """
    A job failing with the host's HostRateLimited(retry_after) is delayed
    that long, not the backoff's fraction of a second.
    """
    from julytwisted.errors import HostRateLimited

    @registry.job("limited")
    async def limited() -> str:
        raise HostRateLimited("slow down", retry_after=600)

    job_id = await queue.enqueue("limited")
    for _ in range(100):
        status = await queue.status(job_id)
        if status.state == "delayed" and status.attempts == 1:
            break
        await deferLater(reactor, 0.05, lambda: None)
    assert status.state == "delayed", status
    assert status.run_at is not None and status.created is not None
    assert status.run_at - status.created >= 600
    assert "slow down" in status.error

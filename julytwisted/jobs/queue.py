# -*- test-case-name: tests.jobs.test_queue -*-
"""
The job queue: work moved out of the request, run by any node, never lost.

Jobs are registered by name with JSON arguments (never pickled code).  The
queue is a Redis stream read through one consumer group: a job is handed to
one worker, acknowledged when its run ends, and handed to another worker by
C{XAUTOCLAIM} once it has sat unacknowledged past the visibility timeout
(its worker died).  Running workers reset that clock for their jobs
(heartbeats), so a long job is not taken from a live worker.  Failures are
retried with exponential backoff and jitter; after the last attempt a job
goes to the dead letters, where an admin can list and requeue it.  Delayed
jobs wait in a sorted set.

This module and the C{queue_*.lua} scripts spell the queue's keys
(C{j:q:...}); the product's data is L{julytwisted.store}'s.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from importlib.resources import files
from typing import Any, cast

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from julytwisted.errors import InvalidInput, NotFound, RedisUnavailable
from julytwisted.models import UNSET, JobState, JobStatus, to_json
from julytwisted.redis_service import RedisClient, Script, all_of

log = Logger()

_STREAM = "j:q:stream"
_GROUP = "workers"
_DELAYED = "j:q:delayed"
_DEAD = "j:q:dead"


def _job_key(job_id: str) -> str:
    return "j:q:job:" + job_id


def _script(name: str) -> Script:
    source = files("julytwisted.jobs").joinpath("lua", name).read_text("utf-8")
    return Script(source, name.removesuffix(".lua"))


_ENQUEUE = _script("queue_enqueue.lua")
_PROMOTE = _script("queue_promote.lua")
_START = _script("queue_start.lua")
_FINISH = _script("queue_finish.lua")
_REQUEUE = _script("queue_requeue.lua")

#: A job function: takes the JSON arguments it was enqueued with.
JobFunction = Callable[..., Awaitable[Any]]


class JobRegistry:
    """Job functions by name."""

    def __init__(self) -> None:
        self.functions: dict[str, JobFunction] = {}

    def job(self, name: str) -> Callable[[JobFunction], JobFunction]:
        """Register the decorated coroutine function as the job C{name}."""

        def register(function: JobFunction) -> JobFunction:
            self.functions[name] = function
            return function

        return register


class Queue:
    """
    Enqueueing and inspecting jobs, and the queue operations workers use.
    """

    def __init__(self, redis: RedisClient, clock: IReactorTime) -> None:
        self.redis = redis
        self._clock = clock

    async def enqueue(
        self,
        name: str,
        *args: object,
        delay: float = 0,
        max_attempts: int = 5,
        unique: str = "",
        unique_for: int = 86400,
    ) -> str:
        """
        Add a job; returns once it is in Redis.

        @param name: a registered job's name.
        @param args: its JSON-serialisable arguments.
        @param delay: seconds to wait before it may run.
        @param max_attempts: runs before it is given up as dead.
        @param unique: a key naming this job (such as one occurrence of a
            periodic job): while it lives, enqueueing under it again, from
            any node, adds nothing.
        @param unique_for: seconds the C{unique} key lives.
        @return: the job's id: the first one's, for a C{unique} key in use.
        """
        if max_attempts < 1 or delay < 0 or unique_for < 1:
            raise InvalidInput(
                "max_attempts and unique_for must be 1 or more and delay 0 or more"
            )
        job_id = uuid.uuid4().hex
        now = self._clock.seconds()
        arguments = json.dumps(list(args))
        enqueued: str = await self.redis.run(
            _ENQUEUE,
            args=(
                job_id, name, arguments, max_attempts, now, now + delay,
                unique, unique_for,
            ),
        )  # fmt: skip
        return enqueued

    async def status(self, job_id: str) -> JobStatus:
        """
        @return: the job's state (C{delayed}, C{queued}, C{running}, C{done},
            C{failed}), attempts, result or error, and when.
        @raise NotFound: for an unknown id.
        """
        flat = await self.redis.execute("HGETALL", _job_key(job_id))
        if not flat:
            raise NotFound(f"no job {job_id!r}")
        return _status(dict(zip(flat[0::2], flat[1::2], strict=True)))

    async def stats(self) -> dict[str, int]:
        """@return: how many jobs are queued, delayed, running and dead."""
        await self.ensure_group()
        length, delayed, dead, pending = await all_of(
            [
                self.redis.execute("XLEN", _STREAM),
                self.redis.execute("ZCARD", _DELAYED),
                self.redis.execute("ZCARD", _DEAD),
                self.redis.execute("XPENDING", _STREAM, _GROUP),
            ]
        )
        running = int(pending[0]) if pending else 0
        return {
            "queued": int(length) - running,
            "running": running,
            "delayed": int(delayed),
            "dead": int(dead),
        }

    async def dead(self, limit: int = 100) -> list[JobStatus]:
        """@return: the dead jobs, the latest first."""
        ids = await self.redis.execute("ZREVRANGE", _DEAD, 0, limit - 1)
        return await all_of([self.status(job_id) for job_id in ids])

    async def requeue(self, job_id: str) -> None:
        """
        Give a dead job a new round of attempts.

        @raise NotFound: when no dead job has that id.
        """
        if not await self.redis.run(_REQUEUE, args=(job_id,)):
            raise NotFound(f"no dead job {job_id!r}")

    async def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless it exists."""
        try:
            await self.redis.execute(
                "XGROUP", "CREATE", _STREAM, _GROUP, "0", "MKSTREAM"
            )
        except RedisUnavailable:
            raise
        except Exception as e:
            if "BUSYGROUP" not in str(e):
                raise

    # What workers use.

    async def promote_due(self, batch: int = 100) -> int:
        """Move the delayed jobs that are due into the stream."""
        moved: int = await self.redis.run(_PROMOTE, args=(self._clock.seconds(), batch))
        return moved

    async def take(
        self, blocking: RedisClient, consumer: str, count: int, block_ms: int
    ) -> list[tuple[str, str]]:
        """
        Wait up to C{block_ms} for new jobs.

        @param blocking: a client whose connection may block.
        @return: C{(entry id, job id)} pairs handed to C{consumer}.
        """
        reply = await blocking.execute(
            "XREADGROUP", "GROUP", _GROUP, consumer, "COUNT", count,
            "BLOCK", block_ms, "STREAMS", _STREAM, ">",
            timeout=block_ms / 1000 + blocking.timeout,
        )  # fmt: skip
        return _entries(reply[0][1]) if reply else []

    async def reclaim(
        self, consumer: str, idle_ms: int, count: int
    ) -> list[tuple[str, str]]:
        """
        Take over jobs whose worker has not touched them for C{idle_ms}.

        @return: C{(entry id, job id)} pairs now C{consumer}'s.
        """
        reply = await self.redis.execute(
            "XAUTOCLAIM", _STREAM, _GROUP, consumer, idle_ms, "0-0", "COUNT", count
        )
        return _entries(reply[1])

    async def heartbeat(self, consumer: str, entries: Sequence[str]) -> None:
        """Reset the idle clock of jobs C{consumer} is running."""
        if entries:
            await self.redis.execute(
                "XCLAIM", _STREAM, _GROUP, consumer, 0, *entries, "JUSTID"
            )

    async def start(
        self, entry: str, job_id: str, consumer: str
    ) -> tuple[int, str, list[Any], int] | None:
        """
        Count a run's attempt and mark the job running.

        @return: the attempt number, the job's name, arguments and maximum
            attempts; or L{None} when the job must not run (done, gone, or
            out of attempts).
        """
        reply = await self.redis.run(
            _START, args=(entry, job_id, self._clock.seconds(), consumer)
        )
        if not reply:
            return None
        attempt, name, args, most = reply
        return int(attempt), name, json.loads(args), int(most)

    async def finish(
        self, entry: str, job_id: str, outcome: str, detail: object, retry_at: float = 0
    ) -> None:
        """
        Record the end of a run: C{done}, C{retry} at a time, or C{failed}.

        @param detail: the job's result (JSON-ready data or records), or
            why it failed.
        """
        await self.redis.run(
            _FINISH,
            args=(
                entry, job_id, self._clock.seconds(), outcome,
                json.dumps(to_json(detail)), retry_at,
            ),
        )  # fmt: skip


def _entries(raw: list[Any]) -> list[tuple[str, str]]:
    pairs = []
    for entry_id, fields in raw:
        if fields:
            values = dict(zip(fields[0::2], fields[1::2], strict=True))
            pairs.append((entry_id, values["id"]))
    return pairs


def _seconds(f: dict[str, str], key: str) -> float | None:
    return float(f[key]) if key in f else None


def _status(f: dict[str, str]) -> JobStatus:
    error = f.get("error")
    return JobStatus(
        id=f["id"],
        name=f.get("name", ""),
        state=cast(JobState, f.get("state")),
        attempts=int(f.get("attempts", 0)),
        max_attempts=int(f.get("max_attempts", 0)),
        created=_seconds(f, "created"),
        run_at=_seconds(f, "run_at"),
        started=_seconds(f, "started"),
        finished=_seconds(f, "finished"),
        result=json.loads(f["result"]) if "result" in f else UNSET,
        error=UNSET if error is None else _error(error),
    )


def _error(stored: str) -> str:
    # A run's failure is stored as JSON text; queue_start.lua's is bare.
    if stored[:1] == '"':
        text: str = json.loads(stored)
        return text
    return stored


__all__ = ["JobFunction", "JobRegistry", "Queue"]

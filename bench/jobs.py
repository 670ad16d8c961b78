"""
The job queue's throughput: no-op jobs through enqueue -> run -> done, run by
1 and then 2 worker processes (L{julytwisted.tasks.WorkerService}, as every
C{twistd julython} runs it), beside a plain LPUSH/BRPOP loop on the same
Redis as the ceiling, in the same run.

One producer process enqueues C{--jobs} jobs, C{--in-flight} at a time, and
the clock stops when the last one is done (the queue's stream is empty; for
the ceiling, the list is).  Workers and consumers are separate processes, as
they are in production; the producer, the workers and Redis share the cores.

    python bench/jobs.py [--jobs 20000] [--concurrency 4] [--quick]

Exits 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
from _common import (
    BenchError,
    machine,
    on_reactor,
    raise_on_sigterm,
    redis_call,
    start_redis,
    stop_process,
)

#: The list the ceiling's producer pushes to and its consumers pop from.
_LIST = "bench:list"


@attrs.frozen
class Figures:
    """
    One way of moving jobs.

    @ivar jobs_per_s: jobs done per second, from the first enqueue to the
        last done.
    @ivar enqueue_per_s: jobs enqueued per second by the producer alone.
    """

    jobs_per_s: float
    enqueue_per_s: float


# The children: a worker, a consumer and the producers.


def _client(reactor: Any, socket: str, directory: Path) -> Any:
    from julytwisted.config import parse_redis_url
    from julytwisted.redis_service import RedisService

    service = RedisService(reactor, parse_redis_url(f"unix://{socket}"), directory)
    service.startService()
    return service


def _serve_until_stopped(socket: str, concurrency: int, ready: Path) -> None:
    """A worker process: the product's WorkerService with one no-op job."""
    from twisted.internet import reactor

    from julytwisted.jobs.queue import JobRegistry, Queue
    from julytwisted.jobs.worker import WorkerService

    registry = JobRegistry()

    @registry.job("noop")
    async def noop(n: int) -> int:
        return n

    service = _client(reactor, socket, ready.parent)
    worker = WorkerService(
        Queue(service.client, reactor),
        service.dedicated_client(),
        registry,
        reactor,
        concurrency=concurrency,
    )
    worker.startService()
    reactor.callWhenRunning(ready.touch)
    reactor.addSystemEventTrigger("before", "shutdown", worker.stopService)
    reactor.run()  # type: ignore[attr-defined]


def _consume_until_stopped(socket: str, ready: Path) -> None:
    """A ceiling consumer: BRPOP one item at a time, forever."""
    from twisted.internet import reactor
    from twisted.internet.defer import ensureDeferred

    from julytwisted.errors import RedisUnavailable

    service = _client(reactor, socket, ready.parent)
    blocking = service.dedicated_client()

    async def loop() -> None:
        while reactor.running:  # type: ignore[attr-defined]
            with contextlib.suppress(RedisUnavailable):  # shutting down
                await blocking.execute("BRPOP", _LIST, 1, timeout=5)

    reactor.callWhenRunning(lambda: ensureDeferred(loop()))
    reactor.callWhenRunning(ready.touch)
    reactor.run()  # type: ignore[attr-defined]


async def _produce(reactor: Any, socket: str, jobs: int, in_flight: int) -> Figures:
    """
    Enqueue C{jobs} no-op jobs, then wait until the queue is empty.
    """
    from twisted.internet.defer import Deferred, gatherResults
    from twisted.internet.task import deferLater

    from julytwisted.jobs.queue import Queue

    service = _client(reactor, socket, Path(tempfile.gettempdir()))
    queue = Queue(service.client, reactor)
    numbers = iter(range(jobs))

    async def enqueuer() -> None:
        for n in numbers:
            await queue.enqueue("noop", n)

    started = time.perf_counter()
    await gatherResults([Deferred.fromCoroutine(enqueuer()) for _ in range(in_flight)])
    enqueued = time.perf_counter()
    while True:
        stats = await queue.stats()
        if not stats["queued"] + stats["running"]:
            break
        await deferLater(reactor, 0.005, lambda: None)
    finished = time.perf_counter()
    await service.stopService()
    return Figures(jobs / (finished - started), jobs / (enqueued - started))


async def _push(reactor: Any, socket: str, jobs: int, in_flight: int) -> Figures:
    """The ceiling's producer: LPUSH C{jobs} items, then wait for LLEN 0."""
    from twisted.internet.defer import Deferred, gatherResults
    from twisted.internet.task import deferLater

    service = _client(reactor, socket, Path(tempfile.gettempdir()))
    numbers = iter(range(jobs))

    async def pusher() -> None:
        for n in numbers:
            await service.client.execute("LPUSH", _LIST, json.dumps(["noop", n]))

    started = time.perf_counter()
    await gatherResults([Deferred.fromCoroutine(pusher()) for _ in range(in_flight)])
    pushed = time.perf_counter()
    while int(await service.client.execute("LLEN", _LIST)):
        await deferLater(reactor, 0.005, lambda: None)
    finished = time.perf_counter()
    await service.stopService()
    return Figures(jobs / (finished - started), jobs / (pushed - started))


# The parent: start children, run a producer, print.


@attrs.frozen
class Options:
    """What to run: see L{parse_options}."""

    jobs: int
    concurrency: int
    in_flight: int


def parse_options(argv: list[str]) -> Options:
    """@return: the command line's options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20000, help="jobs per run")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="jobs each worker runs at once"
    )
    parser.add_argument(
        "--in-flight", type=int, default=32, help="enqueues the producer overlaps"
    )
    parser.add_argument("--quick", action="store_true", help="2000 jobs per run")
    ns = parser.parse_args(argv)
    if min(ns.jobs, ns.concurrency, ns.in_flight) < 1:
        parser.error("every count must be at least 1")
    return Options(
        jobs=2000 if ns.quick else ns.jobs,
        concurrency=ns.concurrency,
        in_flight=ns.in_flight,
    )


def _child(*argv: str) -> list[str]:
    return [sys.executable, __file__, *argv]


def _start(
    stack: contextlib.ExitStack, argv: list[str], ready: Path
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv)
    stack.callback(stop_process, process)
    deadline = time.monotonic() + 30
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"{argv[2]} did not start")
        time.sleep(0.02)
    return process


def _measure(
    redis: Path, options: Options, workdir: Path, kind: str, processes: int
) -> Figures:
    """
    Start C{processes} workers (or ceiling consumers), run one producer and
    stop them.
    """
    redis_call(redis, "FLUSHALL")
    with contextlib.ExitStack() as stack:
        for i in range(processes):
            ready = workdir / f"{kind}-{processes}-{i}" / "ready"
            ready.parent.mkdir()
            role = ["--worker", str(options.concurrency)] if kind == "jobs" else []
            argv = _child(*(role or ["--consumer"]), str(redis), str(ready))
            _start(stack, argv, ready)
        producer = "--produce" if kind == "jobs" else "--push"
        out = subprocess.run(
            _child(producer, str(redis), str(options.jobs), str(options.in_flight)),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if out.returncode != 0:
            raise BenchError(f"the producer failed:\n{out.stderr}")
        return Figures(**json.loads(out.stdout))


def run(options: Options, workdir: Path, stack: contextlib.ExitStack) -> int:
    redis = start_redis(stack, workdir / "redis")
    print(machine())
    print(
        f"{options.jobs} no-op jobs, enqueued by one process {options.in_flight} at "
        f"a time; each worker process runs {options.concurrency} at once"
    )
    rows: list[tuple[str, Figures]] = []
    for processes in (1, 2):
        for kind, name in (("jobs", "julytwisted queue"), ("ceiling", "LPUSH/BRPOP")):
            figures = _measure(redis, options, workdir, kind, processes)
            label = f"{name}, {processes} process{'es' if processes > 1 else ''}"
            rows.append((label, figures))
    print(f"{'':34} {'jobs/s':>9} {'enqueue/s':>10}")
    for label, f in rows:
        print(f"{label:34} {f.jobs_per_s:9,.0f} {f.enqueue_per_s:10,.0f}")
    for processes in (1, 2):
        ours = rows[(processes - 1) * 2][1].jobs_per_s
        ceiling = rows[(processes - 1) * 2 + 1][1].jobs_per_s
        print(
            f"{processes} process(es): the queue at {ours / ceiling:.0%} of the ceiling"
        )
    return 0


def main(argv: list[str]) -> int:
    """@return: the process's exit status."""
    if argv[:1] == ["--worker"]:
        _serve_until_stopped(argv[2], int(argv[1]), Path(argv[3]))
        return 0
    if argv[:1] == ["--consumer"]:
        _consume_until_stopped(argv[1], Path(argv[2]))
        return 0
    if argv[:1] in (["--produce"], ["--push"]):
        produce = _produce if argv[0] == "--produce" else _push
        socket, jobs, in_flight = argv[1], int(argv[2]), int(argv[3])
        figures = on_reactor(lambda r: produce(r, socket, jobs, in_flight))
        print(json.dumps(attrs.asdict(figures)))
        return 0
    options = parse_options(argv)
    raise_on_sigterm()
    try:
        with contextlib.ExitStack() as stack:
            workdir = stack.enter_context(
                tempfile.TemporaryDirectory(
                    prefix="julytwisted-bench-", ignore_cleanup_errors=True
                )
            )
            return run(options, Path(workdir), stack)
    except BenchError as e:
        print(f"bench/jobs.py: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench/jobs.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

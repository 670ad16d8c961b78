"""
The hot path under load: GitHub push webhooks posted over loopback HTTP to a
real C{twistd -n julython} by wrk, beside the same writes sent straight to
the same Redis through L{julytwisted.store.Store.ingest}, in the same run.

Prints commits ingested per second and the p50/p99 latency of a push for
both, and the latency of one push of 2048 commits (GitHub's most), which
GitHub gives 10 seconds.

    python bench/ingest.py [--duration 10] [--connections 8] [--quick]

Needs wrk (Debian: C{apt-get install wrk}).  Exits 1 when any push failed,
2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from _common import (
    BenchError,
    add_wrk_options,
    create_player,
    find_wrk,
    github_payload,
    machine,
    on_reactor,
    percentile,
    post_or_get,
    print_tail,
    raise_on_sigterm,
    redis_call,
    run_wrk,
    start_redis,
    start_service,
)
from twisted.internet.defer import Deferred, gatherResults

from julytwisted.config import parse_redis_url
from julytwisted.errors import JulythonError
from julytwisted.game import hooks
from julytwisted.game.events import Push
from julytwisted.game.hooks import parse_github
from julytwisted.redis_service import RedisService
from julytwisted.store import Store

#: The wrk script that builds each request's push.
WRK_SCRIPT = Path(__file__).with_name("ingest_wrk.lua")

#: How many seconds GitHub waits for a webhook's answer.
GITHUB_DEADLINE = 10.0

#: Commit id prefixes, one per writer, so no two pushes share a commit.
#: wrk's threads use 1, 2, ...
_HTTP_BIG, _CEILING, _CEILING_BIG = 0xB0000000, 0xC0000000, 0xCB000000

_HEADERS = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
_TOKEN = "bench-token"


@attrs.frozen
class Figures:
    """
    One path's throughput and latency.

    @ivar commits_per_s: new commits stored per second.
    @ivar p50_ms: the median latency of a push, in milliseconds.
    @ivar p99_ms: the 99th percentile latency of a push, in milliseconds.
    @ivar errors: pushes that failed or stored fewer commits than they held.
    @ivar redis_us: Redis's own time per push (INFO commandstats), in
        microseconds.
    """

    commits_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    redis_us: float = 0.0


@attrs.frozen
class Options:
    """What to run: see L{parse_options}."""

    duration: int
    connections: int
    threads: int
    commits: int
    big: int


def parse_options(argv: list[str]) -> Options:
    """@return: the command line's options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_wrk_options(parser, "path")
    parser.add_argument("--commits", type=int, default=20, help="commits per push")
    parser.add_argument("--big", type=int, default=2048, help="commits of the big push")
    ns = parser.parse_args(argv)
    if min(ns.duration, ns.connections, ns.threads, ns.commits, ns.big) < 1:
        parser.error("every count and the duration must be at least 1")
    if ns.commits > 0xFFFF or ns.big > 0xFFFF or ns.duration > 600:
        parser.error("at most 65535 commits per push and 600 s per path")
    return Options(
        duration=2 if ns.quick else ns.duration,
        connections=ns.connections,
        threads=min(ns.threads, ns.connections),
        commits=ns.commits,
        big=ns.big,
    )


def commit_id(writer: int, push: int, index: int) -> str:
    """
    @return: a 40-hex commit id, the same scheme as C{ingest_wrk.lua}'s.
    """
    return f"{writer:08x}{push:012x}{index:04x}{0:016x}"


def evalsha_us(redis: Path) -> float:
    """
    @return: Redis's mean time per EVALSHA since the last reset, in
        microseconds, and reset the statistics.
    """
    info = redis_call(redis, "INFO", "commandstats")
    redis_call(redis, "CONFIG", "RESETSTAT")
    for line in info.splitlines():
        if line.startswith("cmdstat_evalsha:"):
            fields = dict(f.split("=") for f in line.split(":", 1)[1].split(","))
            return float(fields["usec_per_call"])
    return 0.0


# HTTP, with wrk


def run_http(url: str, options: Options) -> Figures:
    """
    Post pushes of fresh commits for C{options.duration} seconds.

    @raise BenchError: when wrk is missing or fails.
    """
    r = run_wrk(
        find_wrk(), WRK_SCRIPT, url + "/api/v1/github", [str(options.commits)],
        options.threads, options.connections, options.duration,
    )  # fmt: skip
    if r["other"]:
        print(f"  wrk: {r['other']} answers not 201, the last {r['last_other']}")
    errors = r["other"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Figures(
        commits_per_s=r["created"] * options.commits / (r["duration_us"] / 1e6),
        p50_ms=r["p50_us"] / 1e3,
        p99_ms=r["p99_us"] / 1e3,
        errors=errors,
    )


def big_http_push(url: str, commits: int) -> float:
    """
    @return: the seconds one push of C{commits} fresh commits took over HTTP.
    @raise BenchError: when it was not answered 201 with every commit new.
    """
    hashes = [commit_id(_HTTP_BIG, 1, i) for i in range(1, commits + 1)]
    body = json.dumps(github_payload(hashes)).encode()
    started = time.perf_counter()
    code, reply = post_or_get(url + "/api/v1/github", body, _HEADERS, timeout=60)
    elapsed = time.perf_counter() - started
    if code != 201 or len(reply["commits"]) != commits:
        raise BenchError(f"the {commits}-commit push answered {code}")
    return elapsed


# The ceiling: Store.ingest, no HTTP


def _pushes(commits: int) -> Callable[[int, int], Push]:
    """
    @return: a maker of pushes identical to wrk's but for their commit ids,
        parsed once so that parsing is not measured.
    """
    placeholders = [commit_id(0xFFFFFFFF, 0, i) for i in range(1, commits + 1)]
    template = parse_github(github_payload(placeholders), "push")
    if len(template.commits) != commits:
        raise BenchError(f"the template push parsed to {len(template.commits)}")

    def make(writer: int, number: int) -> Push:
        fresh = []
        for i, c in enumerate(template.commits, 1):
            sha = commit_id(writer, number, i)
            url = c.url.rsplit("/", 1)[0] + "/" + sha
            fresh.append(attrs.evolve(c, hash=sha, url=url))
        return attrs.evolve(template, commits=tuple(fresh))

    return make


async def _caller(
    store: Store, make: Callable[[int, int], Push], writer: int, until: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    number = 0
    while time.perf_counter() < until:
        number += 1
        push = make(writer, number)
        started = time.perf_counter()
        try:
            result = await store.ingest(hooks.repository(push), push, store.now())
        except JulythonError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
        errors += len(result.new) != len(push.commits)
    return latencies, errors


async def ceiling_load(store: Store, options: Options) -> Figures:
    """
    Keep C{options.connections} pushes in flight through C{store} for
    C{options.duration} seconds.
    """
    make = _pushes(options.commits)
    started = time.perf_counter()
    until = started + options.duration
    results = await gatherResults(
        [
            Deferred.fromCoroutine(_caller(store, make, _CEILING + n, until))
            for n in range(options.connections)
        ]
    )
    elapsed = time.perf_counter() - started
    latencies = [s for lat, _ in results for s in lat]
    return Figures(
        commits_per_s=len(latencies) * options.commits / elapsed,
        p50_ms=percentile(latencies, 50) * 1e3,
        p99_ms=percentile(latencies, 99) * 1e3,
        errors=sum(e for _, e in results),
    )


async def big_store_push(store: Store, commits: int) -> float:
    """@return: the seconds one push of C{commits} took through C{store}."""
    push = _pushes(commits)(_CEILING_BIG, 1)
    started = time.perf_counter()
    result = await store.ingest(hooks.repository(push), push, store.now())
    elapsed = time.perf_counter() - started
    if len(result.new) != commits:
        raise BenchError(f"the {commits}-commit push stored {len(result.new)}")
    return elapsed


async def ceiling(reactor: Any, redis: Path, options: Options) -> tuple[Figures, float]:
    """
    The same writes without HTTP: a L{Store} over a L{RedisService} pool like
    the service's, on the same Redis.

    @return: the load's figures and the big push's seconds.
    """
    service = RedisService(reactor, parse_redis_url(f"unix://{redis}"), redis.parent)
    service.startService()
    try:
        store = Store(service.client, reactor)
        await service.client.execute("PING")
        figures = await ceiling_load(store, options)
        figures = attrs.evolve(figures, redis_us=evalsha_us(redis))
        return figures, await big_store_push(store, options.big)
    finally:
        await service.stopService()


# The run


def _row(label: str, f: Figures) -> str:
    return (
        f"  {label:<32} {f.commits_per_s:>8,.0f} commits/s   "
        f"p50 {f.p50_ms:6.1f} ms   p99 {f.p99_ms:6.1f} ms   "
        f"redis {f.redis_us / 1e3:5.2f} ms/push   errors {f.errors}"
    )


def report(
    options: Options,
    about: str,
    http: Figures,
    store: Figures,
    big: tuple[float, float],
) -> None:
    """
    Print the table.

    @param about: the machine, as L{machine} describes it.
    @param big: the big push's seconds over HTTP and through the store.
    """
    print(
        f"ingest: {options.commits}-commit pushes, {options.connections} in flight, "
        f"{options.duration} s per path"
    )
    print(f"  machine: {about}")
    print("  (wrk, twistd and redis-server share these cores in the HTTP run)")
    print(_row("HTTP (twistd julython, wrk)", http))
    print(_row("Redis ceiling (Store.ingest)", store))
    ratio = http.commits_per_s / store.commits_per_s if store.commits_per_s else 0
    print(f"  {'ratio HTTP / ceiling':<32} {ratio:>8.0%}")
    alone = options.commits / (store.redis_us / 1e6) if store.redis_us else 0
    print(
        f"  {'Redis script time alone':<32} {alone:>8,.0f} commits/s   "
        f"(one core busy {store.redis_us / 1e3:.2f} ms per push)"
    )
    print(
        f"  {f'one {options.big}-commit push':<32} HTTP {big[0] * 1e3:,.0f} ms, "
        f"Store.ingest {big[1] * 1e3:,.0f} ms "
        f"(GitHub waits {GITHUB_DEADLINE:.0f} s)"
    )


def run(options: Options, workdir: Path, stack: contextlib.ExitStack) -> int:
    """
    Start Redis and the service, measure both paths, print the table.

    @return: the exit status: 0, or 1 when any push failed or was too slow.
    """
    about = machine()
    redis = start_redis(stack, workdir / "redis")
    log = workdir / "twistd" / "twistd.log"
    try:
        url = start_service(stack, redis, log.parent, _TOKEN)
        create_player(url, _TOKEN)
        evalsha_us(redis)
        http = attrs.evolve(run_http(url, options), redis_us=evalsha_us(redis))
        big_http = big_http_push(url, options.big)
        store, big_store = on_reactor(lambda r: ceiling(r, redis, options))
    except BenchError:
        print_tail(log)
        raise
    report(options, about, http, store, (big_http, big_store))
    if http.errors or store.errors or big_http > GITHUB_DEADLINE:
        print_tail(log)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """@return: the process's exit status."""
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
        print(f"bench/ingest.py: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench/ingest.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

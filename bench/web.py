"""
Page loads of the web site over a game of 10,000 players, beside a plain
twisted.web page of the same size served by C{twistd web}.

A private redis-server is seeded through the store (players concurrently,
commits in pushes of 2,000), then C{twistd -n julython} serves it.  Each page
is loaded one request at a time (median and 99th percentile, the figure a
visitor feels), then one at a time with a query of its own each time
("rendered": no rendering kept for anonymous visitors can serve it, as for a
signed-in player), and under wrk (requests per second).

    .venv/bin/python bench/web.py [--quick] [--requests N]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from _common import (
    LOOPBACK,
    TWISTD,
    BenchError,
    _wait_for,
    add_wrk_options,
    find_wrk,
    free_port,
    machine,
    on_reactor,
    percentile,
    raise_on_sigterm,
    run_wrk,
    start_redis,
    start_service,
    stop_process,
)

PLAYERS = 10_000
PER_PUSH = 2_000

#: The pages measured, by label.
PAGES = {
    "home": "/",
    "people board": "/people/",
    "people, page 100": "/people/?page=100",
    "player": "/people/p04242",
    "location": "/locations/city-42",
}

_WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("wrk-result requests=%d errors=%d\\n",
    summary.requests, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


async def seed(reactor: Any, redis_socket: Path) -> None:
    """10,000 players in 100 locations, one commit each, in Julython 2026."""
    from twisted.internet.defer import gatherResults

    from julytwisted.config import RedisAddress
    from julytwisted.game import hooks
    from julytwisted.game.events import CommitEvent, FileChange, ProjectInfo, Push
    from julytwisted.redis_service import RedisService
    from julytwisted.store import Store

    service = RedisService(
        reactor, RedisAddress(None, None, str(redis_socket)), redis_socket.parent
    )
    service.startService()
    store = Store(service.client, reactor)
    for start in range(0, PLAYERS, 500):
        await gatherResults(
            [
                store.create_player(
                    f"p{i:05}", f"Player {i}", [f"p{i}@example.com"], f"City {i % 100}"
                )
                for i in range(start, start + 500)
            ]
        )
    when = datetime(2026, 7, 10, 9, 30, tzinfo=UTC)
    for start in range(0, PLAYERS, PER_PUSH):
        commits = tuple(
            CommitEvent(
                hash=f"{i:040x}",
                author_name=f"Player {i}",
                author_email=f"p{i}@example.com",
                message=f"work {i}",
                timestamp=when,
                url=f"https://example.com/c/{i}",
                files=(FileChange("main.py", "added", "Python"),),
            )
            for i in range(start, start + PER_PUSH)
        )
        project = ProjectInfo(
            "github",
            f"gh-org-r{start}",
            f"r{start}",
            f"https://github.com/org/r{start}",
        )
        pushed = Push(project=project, commits=commits, ref="refs/heads/main")
        # Arrived when made, so that they score in Julython 2026 whenever
        # the benchmark runs.
        arrived = commits[0].timestamp
        await store.ingest(hooks.repository(pushed), pushed, arrived)
    await service.stopService()


def start_plain(stack: contextlib.ExitStack, directory: Path, size: int) -> str:
    """C{twistd web} serving one static HTML file of C{size} bytes."""
    directory.mkdir(parents=True)
    (directory / "index.html").write_bytes(b"<!DOCTYPE html>" + b"x" * size)
    port = free_port()
    argv = [TWISTD, "--pidfile=", "-n", "web", "--listen",
            f"tcp:{port}:interface={LOOPBACK}", "--path", str(directory)]  # fmt: skip
    log = stack.enter_context(open(directory.parent / "plain.log", "wb"))  # noqa: SIM115
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    stack.callback(stop_process, process)
    url = f"http://{LOOPBACK}:{port}/index.html"
    _wait_for(lambda: _status(url) == 200, "twistd web", process)
    return url


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
            return int(response.status)
    except OSError:
        return 0


class Row(NamedTuple):
    """A page's figures: bytes, milliseconds one at a time, wrk's rate."""

    size: int
    median: float
    p99: float
    rendered: float
    rate: float


def one_at_a_time(
    url: str, count: int, fresh: bool = False
) -> tuple[float, float, int]:
    """
    @param fresh: give each load a query of its own, so that no rendering
        kept for anonymous visitors serves it (the board reads still are).
    @return: median and p99 milliseconds of C{count} loads, and the size.
    """
    samples = []
    size = 0
    for i in range(count):
        target = f"{url}{'&' if '?' in url else '?'}fresh={i}" if fresh else url
        started = time.perf_counter()
        with urllib.request.urlopen(target, timeout=10) as response:
            size = len(response.read())
            if response.status != 200:
                raise BenchError(f"{url} answered {response.status}")
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 99), size


def measure(wrk: str, script: Path, url: str, options: Any, fresh: bool) -> Row:
    """One page: loads one at a time, rendered afresh if asked, then wrk."""
    median, p99, size = one_at_a_time(url, options.requests)
    rendered = one_at_a_time(url, options.requests, fresh=True)[0] if fresh else median
    counts = run_wrk(wrk, script, url, (), options.threads,
                     options.connections, options.duration)  # fmt: skip
    return Row(size, median, p99, rendered, counts["requests"] / options.duration)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_wrk_options(parser, "page")
    parser.add_argument("--requests", type=int, default=200, help="loads per page")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.requests = 2, 50
    raise_on_sigterm()
    wrk = find_wrk()
    print(machine())
    rows: dict[str, Row] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-web-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        redis_socket = start_redis(stack, work / "redis")
        started = time.perf_counter()
        on_reactor(lambda reactor: seed(reactor, redis_socket))
        print(f"seeded {PLAYERS:,} players in {time.perf_counter() - started:.1f} s")
        base = start_service(stack, redis_socket, work / "julython", "bench-token")
        script = work / "done.lua"
        script.write_text(_WRK_SCRIPT)
        for label, path in PAGES.items():
            rows[label] = measure(wrk, script, base + path, options, fresh=True)
        plain = start_plain(stack, work / "plain", rows["home"].size)
        rows["plain twisted.web file"] = measure(wrk, script, plain, options, False)
    print(f"{'page':<24} {'bytes':>7} {'median ms':>10} {'p99 ms':>8} "
          f"{'rendered ms':>12} {'req/s':>8}")  # fmt: skip
    for label, r in rows.items():
        print(f"{label:<24} {r.size:>7,} {r.median:>10.1f} {r.p99:>8.1f} "
              f"{r.rendered:>12.1f} {r.rate:>8,.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print(f"bench/web.py: {e}", file=sys.stderr)
        sys.exit(2)

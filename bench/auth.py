"""
Two password-guessing storms against C{twistd -n julython} while an honest
player signs in: the honest sign-ins' latency, what the storms were
answered, and the server's memory before and after.

Each storm is a process of its own sending HTTP Basic guesses at
C{julython.whoami} (wrong passwords for usernames nobody has, so that the
per-username budget never stops them) on keep-alive connections, as fast as
it is answered, for a bounded time and count.  The server trusts 127.0.0.1 as
a proxy, so each request's C{X-Forwarded-For} is its client address: each
storm comes from an address of its own, or, in the last phase, from a new
address on every request (a botnet, which no per-address budget stops).
Meanwhile the honest player, from addresses of their own, twice a second
either signs in on the web form or calls C{julython.whoami} with HTTP Basic.

The phases, each on a fresh Redis and server (the request rate limits off,
as in the other benchmarks, so that only the credential doors are measured):

  - no storm: the honest sign-ins alone, the floor;
  - two storms, each from one address, with the default failure budget;
  - the same storms with the budget off (C{--rate-limit credentials=off}):
    every guess reaches scrypt, and only the password pool's bounds and its
    fairness across clients stand between the storms and the honest player
    (the peer: the code before this had neither, and is not run here);
  - two storms from a new address per request, with the budget on.

    .venv/bin/python bench/auth.py [--quick] [--seconds S] [--connections N]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import multiprocessing
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from _common import (
    BenchError,
    machine,
    memory,
    percentile,
    print_tail,
    raise_on_sigterm,
    start_redis,
    start_service,
)

#: The most guesses one storm sends, whatever the time allows.
MAX_GUESSES = 200_000

#: Seconds between the honest player's sign-ins.
HONEST_EVERY = 0.5

_CSRF = re.compile(rb'name="csrf" value="([^"]+)"')


class Phase(NamedTuple):
    """A server's options, and where each storm's requests come from."""

    label: str
    options: tuple[str, ...]
    storms: int
    rotate: bool


PHASES = (
    Phase("no storm", (), 0, False),
    Phase("2 storms, budget on", (), 2, False),
    Phase(
        "2 storms, budget off",
        ("--rate-limit", "credentials=off", "--rate-limit", "credentials-user=off"),
        2,
        False,
    ),
    Phase("2 storms, new address each", (), 2, True),
)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _whoami() -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "julython.whoami"}).encode()


def _connect(base: str) -> http.client.HTTPConnection:
    host = urlsplit(base)
    return http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)


def _guesses(
    base: str,
    where: tuple[int, int, bool],
    deadline: float,
    budget: int,
    out: Any,
) -> None:
    """
    One connection of a storm: guess until the deadline or the budget.

    @param where: the storm, the connection, and whether each request comes
        from an address of its own rather than the storm's one address.
    """
    storm, line, rotate = where
    connection = _connect(base)
    counts: Counter[int] = Counter()
    body = _whoami()
    for n in range(budget):
        if time.monotonic() > deadline:
            break
        address = f"10.{storm}.0.1"
        if rotate:
            address = f"10.{storm * 16 + line}.{(n >> 8) & 255}.{n & 255}"
        name = f"p{random.randrange(1_000_000)}"
        connection.request(
            "POST",
            "/json/",
            body,
            {
                "Content-Type": "application/json",
                "Authorization": _basic(name, f"guess {n}"),
                "X-Forwarded-For": address,
            },
        )
        response = connection.getresponse()
        response.read()
        counts[response.status] += 1
    connection.close()
    out.put(dict(counts))


def storm(
    base: str, storm: int, rotate: bool, seconds: float, connections: int, out: Any
) -> None:
    """A storm process: C{connections} threads of guesses, their counts put."""
    deadline = time.monotonic() + seconds
    budget = MAX_GUESSES // connections
    threads = [
        threading.Thread(
            target=_guesses, args=(base, (storm, i, rotate), deadline, budget, out)
        )
        for i in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    return response.status, response.read(), response


def web_sign_in(base: str, address: str) -> tuple[float, int]:
    """
    Sign ada in on the web form from C{address}: the form's page first (no
    password checked), then the timed POST.

    @return: the POST's milliseconds and status (303 when signed in).
    """
    connection = _connect(base)
    forwarded = {"X-Forwarded-For": address}
    code, page, response = _request(connection, "GET", "/login", None, forwarded)
    found = _CSRF.search(page)
    if code != 200 or found is None:
        raise BenchError(f"the sign-in page answered {code}")
    cookie = "; ".join(
        c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or ()
    )
    form = urlencode(
        {"csrf": found.group(1), "username": "ada", "password": "correct horse"}
    )
    headers = {
        **forwarded,
        "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    started = time.perf_counter()
    code, _, _ = _request(connection, "POST", "/login", form.encode(), headers)
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed, code


def basic_call(base: str, address: str) -> tuple[float, int]:
    """
    C{julython.whoami} as ada with HTTP Basic from C{address}.

    @return: its milliseconds and HTTP status (200 when signed in).
    """
    connection = _connect(base)
    headers = {
        "Content-Type": "application/json",
        "Authorization": _basic("ada", "correct horse"),
        "X-Forwarded-For": address,
    }
    started = time.perf_counter()
    code, _, _ = _request(connection, "POST", "/json/", _whoami(), headers)
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed, code


class Result(NamedTuple):
    """One phase's figures."""

    web: list[tuple[float, int]]
    basic: list[tuple[float, int]]
    storms: Counter[int]
    seconds: float
    rss_before: int
    rss_after: int
    peak: int


def honest(base: str, seconds: float) -> tuple[list[Any], list[Any]]:
    """The honest player's sign-ins, alternating, from fresh addresses."""
    web: list[tuple[float, int]] = []
    basic: list[tuple[float, int]] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        address = f"10.200.{n >> 8}.{n & 255}"
        if n % 2:
            basic.append(basic_call(base, address))
        else:
            web.append(web_sign_in(base, address))
        n += 1
        time.sleep(HONEST_EVERY)
    return web, basic


def run_phase(phase: Phase, work: Path, options: Any) -> Result:
    """Start a Redis and a server for C{phase}, storm it, measure, stop."""
    with contextlib.ExitStack() as stack:
        redis_socket = start_redis(stack, work / "redis")
        started: list[Any] = []
        base = start_service(
            stack,
            redis_socket,
            work / "julython",
            "bench-token",
            ("--trusted-proxy", "127.0.0.1", *phase.options),
            started,
        )
        try:
            return _storm_and_measure(phase, base, started[0].pid, options)
        except BaseException:
            print_tail(work / "julython" / "twistd.log")
            raise


def _storm_and_measure(phase: Phase, base: str, pid: int, options: Any) -> Result:
    signup = {"jsonrpc": "2.0", "id": 1, "method": "julython.signup"}
    signup["params"] = ["ada", "correct horse", "ada@example.com"]
    connection = _connect(base)
    code, _, _ = _request(
        connection,
        "POST",
        "/json/",
        json.dumps(signup).encode(),
        {"Content-Type": "application/json"},
    )
    if code != 200:
        raise BenchError(f"signing ada up answered {code}")
    # Both of the pool's threads check a password (each thread's scrypt
    # leaves its 16 MiB arena behind) before memory is read.
    warming = [
        threading.Thread(target=basic_call, args=(base, f"10.201.0.{n}"))
        for n in range(4)
    ]
    for t in warming:
        t.start()
    for t in warming:
        t.join()
    rss_before = memory(pid)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    storms = [
        context.Process(
            target=storm,
            args=(base, i + 1, phase.rotate, options.seconds, options.connections, out),
        )
        for i in range(phase.storms)
    ]
    started = time.perf_counter()
    for process in storms:
        process.start()
    try:
        web, basic = honest(base, options.seconds)
        counts: Counter[int] = Counter()
        for _ in range(phase.storms * options.connections):
            counts.update(out.get(timeout=120))
    finally:
        for process in storms:
            process.join(30)
            if process.is_alive():
                process.kill()
    seconds = time.perf_counter() - started
    return Result(
        web, basic, counts, seconds, rss_before, memory(pid), memory(pid, "VmHWM")
    )


def _latency(samples: list[tuple[float, int]], ok: int) -> str:
    times = [ms for ms, _ in samples]
    failed = sum(1 for _, code in samples if code != ok)
    return (
        f"{percentile(times, 50):7.0f} {max(times, default=float('nan')):7.0f}"
        f" {failed:3d}/{len(samples):<3d}"
    )


def report(label: str, r: Result) -> None:
    """One phase's line: latencies, the storms' answers, memory."""
    rates = [sum(r.storms.values())] + [r.storms[c] for c in (401, 429, 503)]
    other = rates[0] - sum(rates[1:])
    print(
        f"{label:<27} {_latency(r.web, 303)}  {_latency(r.basic, 200)}"
        + "".join(f" {n / r.seconds:7,.0f}" for n in rates)
        + f" {other:5d}"
        f"  {r.rss_before / 2**20:6.1f} -> {r.rss_after / 2**20:6.1f}"
        f" ({r.peak / 2**20:6.1f})"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument(
        "--connections", type=int, default=8, help="per storm, each one at a time"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.seconds = 5.0
    raise_on_sigterm()
    print(machine())
    print(
        f"{options.seconds:g} s per phase; each storm {options.connections}"
        f" connections; the honest player signs in every {HONEST_EVERY:g} s,"
        " alternately on the web form and with HTTP Basic"
    )
    print(
        f"{'':<27} {'web sign-in ms':>20}  {'Basic whoami ms':>20}"
        f"  {'storms: answers a second':>31}  {'server RSS MiB':>24}"
    )
    print(
        f"{'phase':<27} {'p50':>7} {'max':>7} {'bad':>5}  {'p50':>7} {'max':>7}"
        f" {'bad':>5} {'all':>7} {'401':>7} {'429':>7} {'503':>7} {'other':>5}"
        f"  {'before':>6} -> {'after':>6} {'(peak)':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        for n, phase in enumerate(PHASES):
            report(phase.label, run_phase(phase, Path(tmp) / str(n), options))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print(f"bench/auth.py: {e}", file=sys.stderr)
        sys.exit(2)

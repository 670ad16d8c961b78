"""
JSON-RPC under load: a trivial method (C{echo(value)}) called through
L{julytwisted.rpc.JSONRPCResource}, beside a bare twisted.web resource that
returns the same JSON and beside a peer JSON-RPC server from PyPI
(jsonrpcserver on aiohttp), all driven by wrk in the same run.

Each server runs alone, in its own process on a free loopback port, for its
measurements: single calls, then batches of 10.  Prints requests per second
and the p50/p99 latency of each, and ours as a share of the others' rates
(targets: at least 60 % of the bare resource's single-call rate, and ahead
of the peer).

    python bench/rpc.py [--duration 10] [--connections 8] [--quick]
        [--no-access-log] [--profile]

Needs wrk (Debian: C{apt-get install wrk}) and the peer
(C{pip install jsonrpcserver aiohttp}, the C{bench} extra).  Exits 1 when
any answer was wrong or not 200, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
from _common import (
    LOOPBACK,
    BenchError,
    add_wrk_options,
    find_wrk,
    free_port,
    machine,
    post_or_get,
    print_tail,
    raise_on_sigterm,
    run_wrk,
    stop_process,
)

#: The wrk script that posts one fixed body and checks every answer.
WRK_SCRIPT = Path(__file__).with_name("rpc_wrk.lua")

#: The script that runs one server.
SERVERS_SCRIPT = Path(__file__).with_name("rpc_servers.py")

#: The servers in the order they are measured, with their labels.
SERVERS = {
    "ours": "ours (JSONRPCResource)",
    "bare": "bare twisted.web",
    "peer": "peer jsonrpcserver+aiohttp",
}

#: How many calls a batch holds.
BATCH = 10

#: The distributions the peer needs, as pip names them.
PEER_PACKAGES = ("jsonrpcserver", "aiohttp")

_HEADERS = {"Content-Type": "application/json"}


@attrs.frozen
class Figures:
    """
    One server's figures for one body.

    @ivar requests_per_s: HTTP requests answered per second.
    @ivar calls: JSON-RPC calls per request.
    @ivar p50_ms: the median latency, in milliseconds.
    @ivar p99_ms: the 99th percentile latency, in milliseconds.
    @ivar errors: answers that were not 200 with every result, plus
        connection errors and timeouts.
    @ivar requests: requests answered in all.
    """

    requests_per_s: float
    calls: int
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


@attrs.frozen
class Options:
    """What to run: see L{parse_options}."""

    duration: int
    connections: int
    threads: int
    access_log: bool
    profile: bool


def parse_options(argv: list[str]) -> Options:
    """@return: the command line's options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_wrk_options(parser, "run")
    parser.add_argument(
        "--no-access-log", action="store_true", help="servers log no requests"
    )
    parser.add_argument(
        "--profile", action="store_true", help="then profile ours under cProfile"
    )
    ns = parser.parse_args(argv)
    if min(ns.duration, ns.connections, ns.threads) < 1 or ns.duration > 600:
        parser.error("counts must be at least 1, the duration 1 to 600 s")
    return Options(
        duration=2 if ns.quick else ns.duration,
        connections=ns.connections,
        threads=min(ns.threads, ns.connections),
        access_log=not ns.no_access_log,
        profile=ns.profile,
    )


def calls(count: int) -> list[dict[str, Any]]:
    """@return: C{count} JSON-RPC 2.0 calls of C{echo}, with ids 1, 2, ..."""
    return [
        {"jsonrpc": "2.0", "method": "echo", "params": [f"hello {n}"], "id": n}
        for n in range(1, count + 1)
    ]


def body(count: int) -> bytes:
    """@return: one call when C{count} is 1, else a batch of C{count}."""
    requests = calls(count)
    return json.dumps(requests[0] if count == 1 else requests).encode()


def expected(count: int) -> Any:
    """@return: the decoded answer to L{body}C{(count)}."""
    answers = [
        {"jsonrpc": "2.0", "result": c["params"][0], "id": c["id"]}
        for c in calls(count)
    ]
    return answers[0] if count == 1 else answers


# The servers


def check_tools() -> str:
    """
    @return: the path of wrk.
    @raise BenchError: when wrk or the peer's packages are missing.
    """
    wrk = find_wrk()
    missing = [p for p in PEER_PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        raise BenchError(f"the peer server needs: pip install {' '.join(missing)}")
    return wrk


def answers_right(url: str, count: int) -> bool:
    """
    @return: whether the server at C{url} answers L{body}C{(count)} with
        L{expected}C{(count)} (a batch's answers in any order).
    @raise OSError: when it cannot be reached.
    """
    code, reply = post_or_get(url, body(count), _HEADERS, timeout=10)
    if count > 1 and isinstance(reply, list):
        reply = sorted(reply, key=lambda answer: str(answer.get("id")))
        return code == 200 and reply == sorted(
            expected(count), key=lambda answer: str(answer["id"])
        )
    return code == 200 and reply == expected(count)


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    """
    Wait until the server answers a single call at all, then check that it
    answers a single call and a batch correctly.

    @raise BenchError: when it exits, does not answer within 30 s, or
        answers wrongly.
    """
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise BenchError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(OSError, ValueError):
            post_or_get(url, body(1), _HEADERS, timeout=5)
            break
        if time.monotonic() > deadline:
            raise BenchError("the server did not come up within 30 s")
        time.sleep(0.05)
    for count in (1, BATCH):
        try:
            right = answers_right(url, count)
        except (OSError, ValueError) as e:
            raise BenchError(f"{url} failed a call of {count}: {e}") from e
        if not right:
            raise BenchError(f"{url} answered a call of {count} wrongly")


def start_server(
    stack: contextlib.ExitStack,
    kind: str,
    log: Path,
    options: Options,
    profile: Path | None = None,
) -> str:
    """
    Start one server of L{SERVERS_SCRIPT}, stopped when C{stack} unwinds,
    and wait until it answers correctly.

    @param log: its standard output and error.
    @param profile: where it writes cProfile statistics, if anywhere.
    @return: the URL to post calls to.
    """
    port = free_port()
    argv = [sys.executable, str(SERVERS_SCRIPT), kind, str(port)]
    if not options.access_log:
        argv.append("--no-access-log")
    if profile is not None:
        argv += ["--profile", str(profile)]
    out = stack.enter_context(open(log, "wb"))  # noqa: SIM115
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    stack.callback(stop_process, process)
    url = f"http://{LOOPBACK}:{port}/json/"
    wait_until_serving(url, process)
    return url


# Load, with wrk


def run_load(wrk: str, url: str, count: int, options: Options) -> Figures:
    """
    Post L{body}C{(count)} over C{options.connections} connections for
    C{options.duration} seconds.

    @raise BenchError: when wrk fails.
    """
    r = run_wrk(
        wrk, WRK_SCRIPT, url, [body(count).decode(), str(count)],
        options.threads, options.connections, options.duration,
    )  # fmt: skip
    if r["bad"]:
        print(f"  wrk: {r['bad']} wrong answers, the last with status {r['last_bad']}")
    errors = r["bad"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Figures(
        requests_per_s=r["requests"] / (r["duration_us"] / 1e6),
        calls=count,
        p50_ms=r["p50_us"] / 1e3,
        p99_ms=r["p99_us"] / 1e3,
        errors=errors,
        requests=r["requests"],
    )


def measure(
    wrk: str, kind: str, workdir: Path, options: Options
) -> tuple[Figures, Figures]:
    """
    Start one server, load it with single calls then batches, stop it.

    @return: the single calls' figures and the batches'.
    """
    log = workdir / f"{kind}.log"
    try:
        with contextlib.ExitStack() as stack:
            url = start_server(stack, kind, log, options)
            single = run_load(wrk, url, 1, options)
            batch = run_load(wrk, url, BATCH, options)
    except BenchError:
        print_tail(log)
        raise
    if single.errors or batch.errors:
        print_tail(log)
    return single, batch


# The profile


def profile_ours(wrk: str, workdir: Path, options: Options) -> None:
    """
    Load ours with single calls again, under cProfile, and print where its
    time goes.
    """
    stats_file = workdir / "ours.prof"
    log = workdir / "ours-profiled.log"
    try:
        with contextlib.ExitStack() as stack:
            url = start_server(stack, "ours", log, options, stats_file)
            figures = run_load(wrk, url, 1, options)
    except BenchError:
        print_tail(log)
        raise
    if not stats_file.exists():
        print_tail(log)
        raise BenchError("the profiled server wrote no statistics")
    print_profile(stats_file, figures.requests)


def _where(key: tuple[str, int, str]) -> str:
    path, line, name = key
    if path == "~":
        return name
    parts = Path(path).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    short = "/".join(parts[-3:])
    return f"{name} ({short}:{line})"


def print_profile(
    stats_file: Path, requests: int, label: str = "ours", top: int = 25
) -> None:
    """
    Print the functions of most own time, and ours by cumulative time, each
    as a share of the server's whole time and in microseconds per request.

    @param requests: the requests answered while the statistics were taken.
    @param label: the server's name in the heading.
    """
    import pstats

    table: dict[Any, Any] = pstats.Stats(str(stats_file)).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values()) or 1.0
    per = 1e6 / max(requests, 1)

    def show(title: str, keys: list[Any], column: int) -> None:
        print(f"  {title}")
        for key in keys[:top]:
            seconds = table[key][column]
            print(
                f"    {seconds / total:6.1%} {seconds * per:7.1f} us/req  "
                f"{table[key][1]:>8} calls  {_where(key)}"
            )

    print(
        f"\nprofile of {label} under cProfile (slower than measured): {requests} "
        f"requests, {total * per:.0f} us of profiled CPU per request"
    )
    show("own time (tottime):", sorted(table, key=lambda k: -table[k][2]), 2)
    ours = [k for k in table if "julytwisted" in k[0] or "rpc_servers" in k[0]]
    show("julytwisted, cumulative:", sorted(ours, key=lambda k: -table[k][3]), 3)


# The run


def _cell(f: Figures) -> str:
    rate = f"{f.requests_per_s:>6,.0f} req/s"
    if f.calls > 1:
        rate += f" ({f.requests_per_s * f.calls:>6,.0f} calls/s)"
    return f"{rate} p50 {f.p50_ms:4.1f} p99 {f.p99_ms:4.1f} ms"


def versions() -> str:
    """@return: the versions of the servers' frameworks, on one line."""
    v = importlib.metadata.version
    return (
        f"Twisted {v('twisted')} (epoll reactor), "
        f"jsonrpcserver {v('jsonrpcserver')} on aiohttp {v('aiohttp')} "
        "(asyncio loop, its default jsonschema validation)"
    )


def _ratio(ours: Figures, other: Figures) -> float:
    return ours.requests_per_s / other.requests_per_s if other.requests_per_s else 0.0


#: Ours' single-call rate as a share of each other server's: the target, as
#: printed, and whether a share meets it.
TARGETS = {
    "bare": (">= 60 %", lambda share: share >= 0.6),
    "peer": ("> 100 %", lambda share: share > 1.0),
}


def report(
    options: Options, about: str, results: dict[str, tuple[Figures, Figures]]
) -> None:
    """
    Print the table.

    @param about: the machine, as L{machine} describes it.
    @param results: each server's single-call and batch figures, by kind.
    """
    print(
        f"rpc: trivial method echo(value), wrk {options.threads} threads "
        f"{options.connections} connections, {options.duration} s each, "
        f"{len(os.sched_getaffinity(0))} cores shared by wrk and the server"
    )
    print(f"  machine: {about}")
    print(f"  servers: {versions()}")
    log = "an access log line per request" if options.access_log else "no access log"
    print(f"  each server alone in its own process, {log}, POST /json/")
    print(f"  {'':<28} {'single call':<34} {f'batch of {BATCH}':<50} errors")
    for kind, label in SERVERS.items():
        single, batch = results[kind]
        errors = single.errors + batch.errors
        print(f"  {label:<28} {_cell(single):<34} {_cell(batch):<50} {errors}")
    for other, (target, meets) in TARGETS.items():
        share = _ratio(results["ours"][0], results[other][0])
        batch_share = _ratio(results["ours"][1], results[other][1])
        verdict = "met" if meets(share) else "MISSED"
        print(
            f"  {'ours / ' + other:<28} {share:>7.0%} single (target {target}: "
            f"{verdict}), {batch_share:.0%} batch"
        )


def run(options: Options, workdir: Path) -> int:
    """
    Measure every server in turn, print the table.

    @return: the exit status: 0, or 1 when any answer was wrong.
    """
    wrk = check_tools()
    about = machine()
    results = {kind: measure(wrk, kind, workdir, options) for kind in SERVERS}
    report(options, about, results)
    if options.profile:
        profile_ours(wrk, workdir, options)
    failed = any(f.errors for pair in results.values() for f in pair)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    """@return: the process's exit status."""
    options = parse_options(argv)
    raise_on_sigterm()
    try:
        with tempfile.TemporaryDirectory(
            prefix="julytwisted-bench-rpc-", ignore_cleanup_errors=True
        ) as workdir:
            return run(options, Path(workdir))
    except BenchError as e:
        print(f"bench/rpc.py: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench/rpc.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""
Helpers shared by the benchmarks: a private redis-server and a real
C{twistd -n julython} as child processes, loopback HTTP, GitHub payloads and
latency percentiles.

Every child is registered on a L{contextlib.ExitStack} as it starts, so a
failure or Ctrl-C anywhere stops it and removes its files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from julytwisted.redis_service import embedded_arguments, find_redis_server

_T = TypeVar("_T")

#: The twistd next to this interpreter: the venv's.
TWISTD = str(Path(sys.executable).parent / "twistd")

#: The only interface anything listens on or connects to.
LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """The benchmark could not run; the message says why and what to do."""


def raise_on_sigterm() -> None:
    """
    Turn SIGTERM into L{KeyboardInterrupt}, so that C{finally} blocks and
    exit stacks clean up as they do on Ctrl-C.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def free_port() -> int:
    """@return: a TCP port on the loopback interface that was free just now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """
    SIGTERM a child, then SIGKILL it if it has not ended after C{grace}
    seconds.

    @param process: the child.
    @param grace: seconds it may take to shut down cleanly.
    """
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for(check: Any, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{what} exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.05)
    raise BenchError(f"{what} did not come up within 30 s")


def _redis_pong(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        s.connect(str(path))
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def start_redis(stack: contextlib.ExitStack, directory: Path) -> Path:
    """
    Start the redis-server julython embeds, configured as it embeds it: a
    private Unix socket, an append-only file fsynced every second.

    @param stack: stops the server when it unwinds.
    @param directory: the server's data directory, created.
    @return: the server's socket.
    """
    directory.mkdir(parents=True)
    argv = embedded_arguments(find_redis_server(), directory)
    log = stack.enter_context(open(directory / "redis.log", "wb"))  # noqa: SIM115
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    stack.callback(stop_process, process)
    sock = directory / "redis.sock"
    _wait_for(lambda: _redis_pong(sock), "redis-server", process)
    return sock


def redis_call(path: Path, *command: str) -> str:
    """
    One command on a fresh connection, for the few the benchmark sends
    outside the measured paths.

    @param path: the server's socket.
    @param command: the command and its arguments.
    @return: a status or bulk reply, decoded.
    @raise BenchError: on an error reply.
    """
    parts = [f"*{len(command)}\r\n"]
    parts += [f"${len(arg.encode())}\r\n{arg}\r\n" for arg in command]
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(path))
            s.sendall("".join(parts).encode())
            reply = s.makefile("rb")
            head = reply.readline().decode().rstrip("\r\n")
            if head.startswith("$") and head != "$-1":
                return reply.read(int(head[1:]) + 2)[:-2].decode()
    except OSError as e:
        raise BenchError(f"redis {command[0]}: {e}") from e
    if head.startswith("-"):
        raise BenchError(f"redis {command[0]}: {head[1:]}")
    return head[1:]


def redis_version() -> str:
    """@return: the version of the redis-server julython embeds."""
    out = subprocess.run(
        [find_redis_server(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    return fields.get("v", out.strip())


def start_service(
    stack: contextlib.ExitStack,
    redis_socket: Path,
    directory: Path,
    token: str,
    options: Sequence[str] = (),
    started: list[subprocess.Popen[bytes]] | None = None,
) -> str:
    """
    Start C{twistd -n julython} on a free loopback port, on an external Redis,
    and wait until its C{/healthz} answers 200.

    @param stack: stops the service when it unwinds.
    @param redis_socket: the Redis it uses.
    @param directory: its data directory (and log), created.
    @param token: its admin token.
    @param options: more options of C{twistd julython}.
    @param started: the twistd process is appended to it, when given.
    @return: its base URL.
    """
    directory.mkdir(parents=True)
    port = free_port()
    argv = [
        TWISTD, "--pidfile=", "-n", "julython",
        "--listen", f"tcp:{port}:interface={LOOPBACK}",
        "--redis", f"unix://{redis_socket}",
        "--data-dir", str(directory),
        "--admin-token", token,
        # The load comes from one address, far past the per-address limits.
        "--rate-limit", "webhooks=off", "--rate-limit", "rpc=off",
        "--rate-limit", "live=off",
        *options,
    ]  # fmt: skip
    log = stack.enter_context(open(directory / "twistd.log", "wb"))  # noqa: SIM115
    env = {**os.environ, "JULYTHON_WEBHOOK_SECRET": ""}
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    stack.callback(stop_process, process)
    if started is not None:
        started.append(process)
    url = f"http://{LOOPBACK}:{port}"
    _wait_for(lambda: post_or_get(url + "/healthz")[0] == 200, "twistd", process)
    return url


def print_tail(log: Path, lines: int = 30) -> None:
    """
    Show the end of a child's log on stderr, to explain a failure before the
    log is removed.
    """
    if log.exists():
        tail = log.read_text("utf-8", "replace").splitlines()[-lines:]
        print(f"--- the last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)


def post_or_get(
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    """
    One HTTP request: a POST when there is a body, else a GET.

    @return: the status and the decoded JSON reply (L{None} when empty).
    """
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def create_player(url: str, token: str) -> None:
    """
    Create ada, whose commits score on the player and location boards too.

    @raise BenchError: when the service refuses.
    """
    player = {"username": "ada", "emails": ["ada@example.com"], "location": "Austin"}
    code, reply = post_or_get(
        url + "/api/v1/people",
        json.dumps(player).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    if code != 201:
        raise BenchError(f"creating the player answered {code}: {reply}")


def _commit(sha: str, i: int) -> dict[str, Any]:
    person = {"name": "Ada", "email": "ada@example.com", "username": "ada"}
    return {
        "id": sha,
        "distinct": True,
        "message": f"bench commit {i}",
        "timestamp": f"2026-07-10T09:{30 + i % 30:02d}:{i % 60:02d}+00:00",
        "url": f"https://github.com/ada/engine/commit/{sha}",
        "author": person,
        "committer": person,
        "added": ["main.py"],
        "removed": [],
        "modified": ["README.md"],
    }


def github_payload(hashes: Sequence[str]) -> dict[str, Any]:
    """
    A GitHub push of ada/engine by ada, shaped like C{tests.builders}' and
    like C{bench/ingest_wrk.lua}'s, dated in July 2026.

    @param hashes: the commits' ids, one commit each.
    @return: the decoded payload.
    """
    commits = [_commit(sha, i) for i, sha in enumerate(hashes, 1)]
    repository = {
        "id": 1,
        "name": "engine",
        "full_name": "ada/engine",
        "html_url": "https://github.com/ada/engine",
        "url": "https://github.com/ada/engine",
        "description": "an engine",
        "fork": False,
        "watchers_count": 3,
        "stargazers_count": 3,
        "forks_count": 1,
        "owner": {"login": "ada", "name": "ada", "email": "ada@example.com"},
    }
    return {
        "ref": "refs/heads/main",
        "before": "0" * 39 + "1",
        "after": commits[-1]["id"],
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": commits,
        "head_commit": commits[-1],
        "repository": repository,
        "pusher": {"name": "ada", "email": "ada@example.com"},
    }


def percentile(samples: Iterable[float], p: float) -> float:
    """
    @param samples: measurements, in any order.
    @param p: the percentile, 0 to 100.
    @return: the nearest-rank percentile, or NaN when there are none.
    """
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def machine() -> str:
    """@return: one line naming the cores, the Python and the Redis measured."""
    return (
        f"{len(os.sched_getaffinity(0))} cores ({platform.machine()}), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"redis-server {redis_version()}, "
        f"load average {os.getloadavg()[0]:.2f} before the run"
    )


# wrk, the load generator both benchmarks drive


def find_wrk() -> str:
    """
    @return: the path of wrk.
    @raise BenchError: when it is not installed.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    return wrk


def add_wrk_options(parser: argparse.ArgumentParser, unit: str) -> None:
    """Add C{--duration}, C{--connections}, C{--threads} and C{--quick}."""
    parser.add_argument("--duration", type=int, default=10, help=f"seconds per {unit}")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--quick", action="store_true", help=f"2 s per {unit}")


def run_wrk(
    wrk: str,
    script: Path,
    url: str,
    script_args: Sequence[str],
    threads: int,
    connections: int,
    duration: int,
) -> dict[str, int]:
    """
    Run wrk with a Lua script whose C{done()} prints one C{wrk-result k=v ...}
    line.

    @return: that line's counts.
    @raise BenchError: when wrk fails or prints no result.
    """
    argv = [
        wrk, "--threads", str(threads), "--connections", str(connections),
        "--duration", f"{duration}s", "--timeout", "10s",
        "--script", str(script), url, "--", *script_args,
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0:
        raise BenchError(f"wrk failed ({out.returncode}):\n{out.stderr}")
    for line in out.stdout.splitlines():
        if line.startswith("wrk-result "):
            return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}
    raise BenchError(f"wrk printed no result:\n{out.stdout}")


def on_reactor(main: Callable[[Any], Coroutine[Any, Any, _T]]) -> _T:
    """
    Run C{main(reactor)} to its end on the global reactor, which runs once.

    @raise KeyboardInterrupt: when a signal stopped the reactor first.
    """
    from twisted.internet import reactor

    outcome: list[_T | Failure] = []
    interrupted: list[bool] = []

    def finish(result: _T | Failure) -> None:
        if not interrupted:
            outcome.append(result)
            reactor.stop()

    def start() -> None:
        Deferred.fromCoroutine(main(reactor)).addBoth(finish)

    def shutting_down() -> None:
        # A signal stopped the reactor: the connections it now drops fail main.
        if not outcome:
            interrupted.append(True)

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", shutting_down)
    reactor.run()
    if not outcome:
        raise KeyboardInterrupt("the reactor was stopped")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]

"""
Helpers shared by the benchmarks: a private redis-server, a real
C{twistd -n julython} and nginx from the deploy kit's config as child
processes, loopback HTTP, a player's API token, GitHub payloads, processes'
memory and latency percentiles.

Every child is registered on a L{contextlib.ExitStack} as it starts, so a
failure or Ctrl-C anywhere stops it and removes its files.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import ssl
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

#: The deploy kit: nginx, systemd and supervisord configurations.
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"

#: Debian's nginx.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


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


def stop_process(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
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
        # The pushes name a repository nobody added: an open event, whose
        # every push still looks its repository up before it is checked.
        "--open-repositories",
        # Their commits are dated July 2026: scored whenever the bench runs,
        # as they were before the late grace, so the figures stay comparable.
        "--late-grace", "366d",
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


def player_token(url: str) -> str:
    """
    Sign ada up through JSON-RPC (ada@example.com, so that her commits
    score) and make her an API token.

    @param url: a node's base URL.
    @return: the token.
    """
    signup = {"jsonrpc": "2.0", "id": 1, "method": "julython.signup"}
    signup["params"] = ["ada", "correct horse", "ada@example.com"]
    json_type = {"Content-Type": "application/json"}
    post_or_get(url + "/json/", json.dumps(signup).encode(), json_type)
    basic = base64.b64encode(b"ada:correct horse").decode()
    call = {"jsonrpc": "2.0", "id": 2, "method": "julython.createToken"}
    _, answer = post_or_get(
        url + "/json/",
        json.dumps(call).encode(),
        {**json_type, "Authorization": f"Basic {basic}"},
    )
    return str(answer["result"])


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


def difference_intervals(
    ours: Sequence[float],
    theirs: Sequence[float],
    ps: Sequence[float],
    rounds: int = 1000,
    seed: int = 1,
) -> list[tuple[float, float]]:
    """
    How far apart two sets' percentiles could be by the luck of the samples
    alone: a bootstrap, each set resampled with replacement C{rounds}
    times, every percentile read off the same resamples.

    @param ps: the percentiles, each 0 to 100.
    @return: for each of C{ps}, the 95 % interval of C{percentile(ours, p)
        - percentile(theirs, p)}; NaNs when either set is empty.
    """
    if not ours or not theirs:
        return [(math.nan, math.nan) for _ in ps]
    draw = random.Random(seed).choices
    differences: list[list[float]] = [[] for _ in ps]
    for _ in range(rounds):
        # Sorted once: percentile() sorts again, in one pass over sorted data.
        a = sorted(draw(ours, k=len(ours)))
        b = sorted(draw(theirs, k=len(theirs)))
        for found, p in zip(differences, ps, strict=True):
            found.append(percentile(a, p) - percentile(b, p))
    return [(percentile(d, 2.5), percentile(d, 97.5)) for d in differences]


def memory(pid: int, field: str = "VmRSS") -> int:
    """@return: C{VmRSS} or C{VmHWM} of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no {field} for process {pid}")


def machine() -> str:
    """@return: one line naming the cores, the Python and the Redis measured."""
    return (
        f"{len(os.sched_getaffinity(0))} cores ({platform.machine()}), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"redis-server {redis_version()}, "
        f"load average {os.getloadavg()[0]:.2f} before the run"
    )


# nginx in front of the nodes, from the deploy kit's config


def render(site: str, replacements: dict[str, str]) -> str:
    """
    @return: the site config with each placeholder replaced.
    @raise BenchError: when a placeholder is not in it any more.
    """
    for old, new in replacements.items():
        if old not in site:
            raise BenchError(f"deploy/nginx/julython.conf no longer has {old!r}")
        site = site.replace(old, new)
    return site


def _decoded(raw: bytes, headers: Any) -> Any:
    if "json" in (headers.get("Content-Type") or ""):
        return json.loads(raw)
    return raw


class Front:
    """
    nginx, configured from C{deploy/nginx/julython.conf}, on a private
    prefix: free ports for its plain and TLS servers, a self-signed
    certificate, the given nodes as its upstream, one worker.
    """

    def __init__(
        self, prefix: Path, upstreams: Sequence[int], connections: int = 256
    ) -> None:
        """
        Start nginx and wait until its TLS port listens.

        @param prefix: an empty directory for its config, logs and cache.
        @param upstreams: the nodes' ports on the loopback interface.
        @param connections: its C{worker_connections}; each proxied request
            or websocket holds two.
        @raise BenchError: when nginx exits or does not listen.
        """
        self.prefix = prefix
        self.http, self.https = free_port(), free_port()
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-days", "1", "-subj", "/CN=julython.example.org",
                "-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        servers = "".join(
            f"    server {LOOPBACK}:{port} max_fails=1 fail_timeout=5s;\n"
            for port in upstreams
        )
        site = render(
            (DEPLOY / "nginx" / "julython.conf").read_text(),
            {
                "    server 127.0.0.1:8081 max_fails=1 fail_timeout=5s;\n"
                "    server 127.0.0.1:8082 max_fails=1 fail_timeout=5s;\n": servers,
                "    listen 80;\n    listen [::]:80;\n": f"    listen {self.http};\n",
                "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n": (
                    f"    listen {self.https} ssl http2;\n"
                ),
                "/etc/ssl/julython/fullchain.pem": str(prefix / "cert.pem"),
                "/etc/ssl/julython/privkey.pem": str(prefix / "key.pem"),
                "/var/cache/nginx/julython": str(prefix / "cache"),
            },
        )
        (prefix / "julython.conf").write_text(site)
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {kind}_temp_path {prefix / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"{user}daemon off;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'} info;\n"
            f"events {{ worker_connections {connections}; }}\n"
            f"http {{\n    access_log {prefix / 'access.log'};\n{temp}"
            f"    include {prefix / 'julython.conf'};\n}}\n"
        )
        self.process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise BenchError((prefix / "error.log").read_text())
            with socket.socket() as s:
                if s.connect_ex((LOOPBACK, self.https)) == 0:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError("nginx never listened")
            time.sleep(0.05)
        self.url = f"https://{LOOPBACK}:{self.https}"
        self.tls = ssl.create_default_context(cafile=str(prefix / "cert.pem"))
        self.tls.check_hostname = False

    def request(
        self,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        """@return: the status, the body (decoded when JSON) and the headers."""
        sent = {"Host": "julython.example.org", **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=15, context=self.tls) as r:
                return r.status, _decoded(r.read(), r.headers), r.headers
        except urllib.error.HTTPError as e:
            return e.code, _decoded(e.read(), e.headers), e.headers

    def stop(self) -> None:
        """Stop nginx gracefully (SIGQUIT), killing it after 10 s."""
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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

"""
The soak: a mixed load held for ten minutes through nginx (the deploy kit's
config, TLS) in front of two C{twistd -n julython} nodes on one Redis, to
see that latency, errors and memory stay put over time.

Each kind of request is sent at a steady average rate, with random gaps as
independent clients would send it (not as fast as possible): webhook
pushes of one new commit each by ada, JSON-RPC reads (C{julython.leaders}
and C{julython.player}, by GET and by POST), uploads of small distinct PNG
avatars with ada's API token; meanwhile websocket watchers hold
C{/live?channels=global} through nginx for the whole run.  The floor beside
them, at the same rate in the same run: C{/healthz} through nginx, and
C{/healthz} straight to node a (the same work without nginx).

Printed: for each kind, the requests answered well after the warm-up,
their rate, p50/p99/max latency (from the moment each was due, so a late
client counts against it), and errors over the whole run (an answer not
2xx or not as expected, a broken connection, a timeout); for the live feed,
commits delivered per second, the latency from each push to each watcher's
receipt, and commits missing or received twice at the end (a watcher that
is dropped reconnects with C{since} and is counted); the resident memory of
the nodes, nginx and Redis every 30 s, and each node's growth from the end
of the warm-up to the end of the run, PASS at 10 % or less; the CPU each
part used.

    .venv/bin/python bench/soak.py [--minutes 10] [--quick] [--watchers 500]
        [--push-rate 10] [--rpc-rate 20] [--upload-rate 2] [--probe-rate 5]

The clients run in processes of their own (aiohttp; one per kind of request
and two for the watchers).  Every child (nodes, nginx, Redis, clients)
stops when the benchmark ends, Ctrl-C included.  Exits 1 on any error,
missing or repeated message, or growth past 10 %; 2 when it could not run.
Needs Debian's nginx and the C{bench} extra (aiohttp).
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import select
import signal
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    NGINX,
    BenchError,
    Front,
    github_payload,
    machine,
    memory,
    percentile,
    player_token,
    print_tail,
    raise_on_sigterm,
    redis_call,
    start_redis,
    start_service,
    stop_process,
)

#: The kinds of request, in the order they are printed.
KINDS = {
    "push": "webhook push",
    "rpc": "JSON-RPC read",
    "upload": "upload (PNG avatar)",
    "healthz": "/healthz via nginx",
    "direct": "/healthz to node a",
}
HOOK = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
BOUNDARY = "soak-boundary"
RSS_EVERY = 30.0
RSS_LIMIT = 10.0
_TOKEN = "soak-token"

Send = Callable[[int], Awaitable[str | None]]
"""Sends request number C{i}; returns what was wrong with it, or None."""


# The client processes


def _watch_parent(on_line: Callable[[str], object]) -> None:
    """
    Hand each line the parent writes to C{on_line}, from a thread; exit at
    once when the parent is gone (its end of the pipe closed).
    """

    def read() -> None:
        for line in sys.stdin:
            on_line(line)
        os._exit(3)

    threading.Thread(target=read, daemon=True).start()


def _tls(cafile: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    return context


def png(size: int = 32) -> bytes:
    """@return: a distinct PNG of C{size} x C{size} random RGB pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\0" + os.urandom(size * 3) for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _pusher(session: aiohttp.ClientSession, plan: dict[str, Any]) -> Send:
    url = plan["url"] + "/api/v1/github"

    async def send(i: int) -> str | None:
        sha = hashlib.sha1(f"{plan['run']} {i}".encode()).hexdigest()
        payload = github_payload([sha])
        # The send time rides in the message, for the watchers to time.
        payload["commits"][0]["message"] = f"soak {plan['run']} {i} {time.time():.6f}"
        async with session.post(url, data=json.dumps(payload), headers=HOOK) as r:
            answer = await r.read()
        if r.status != 201:
            return f"HTTP {r.status}"
        return None if json.loads(answer)["commits"] == [sha] else "not new"

    return send


_READS = [
    ("julython.leaders", {"board": "people"}),
    ("julython.player", {"username": "ada"}),
    ("julython.leaders", {"board": "projects"}),
]


def _reader(session: aiohttp.ClientSession, plan: dict[str, Any]) -> Send:
    url = plan["url"] + "/json/"

    async def send(i: int) -> str | None:
        method, params = _READS[i // 2 % len(_READS)]
        if i % 2:
            call = {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            request = session.post(url, json=call)
        else:
            request = session.get(url + method, params=params)
        async with request as r:
            answer = await r.read()
        if r.status != 200:
            return f"HTTP {r.status}"
        return None if "result" in json.loads(answer) else "JSON-RPC error"

    return send


def _uploader(session: aiohttp.ClientSession, plan: dict[str, Any]) -> Send:
    url = plan["url"] + "/upload/"
    headers = {
        "Authorization": f"Bearer {plan['token']}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }

    async def send(i: int) -> str | None:
        image = png()
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'
            f"avatar\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="me{i}.png"\r\nContent-Type: image/png\r\n\r\n'
        )
        body = head.encode() + image + f"\r\n--{BOUNDARY}--\r\n".encode()
        async with session.post(url, data=body, headers=headers) as r:
            answer = await r.read()
        if r.status != 201:
            return f"HTTP {r.status}"
        digest = hashlib.sha256(image).hexdigest()
        return None if json.loads(answer)[0]["sha256"] == digest else "wrong digest"

    return send


def _prober(session: aiohttp.ClientSession, plan: dict[str, Any]) -> Send:
    async def send(i: int) -> str | None:
        async with session.get(plan["url"] + "/healthz") as r:
            await r.read()
        return None if r.status == 200 else f"HTTP {r.status}"

    return send


_SENDERS = {
    "push": _pusher,
    "rpc": _reader,
    "upload": _uploader,
    "healthz": _prober,
    "direct": _prober,
}


class Tally:
    """
    What one client process saw: latencies and successes of the measured
    part of the run, errors of all of it.
    """

    def __init__(self, measure_from: float) -> None:
        self.measure_from = measure_from
        self.latencies: list[float] = []
        self.ok: list[int] = []
        self.errors: Counter[str] = Counter()

    def record(self, i: int, due: float, error: str | None) -> None:
        """Count request C{i}, due at C{due}, answered now."""
        if error is not None:
            self.errors[error] += 1
            return
        self.ok.append(i)
        if due >= self.measure_from:
            self.latencies.append((time.time() - due) * 1000)

    def report(self) -> dict[str, Any]:
        """@return: the tally as JSON for the parent."""
        latencies = [round(x, 3) for x in self.latencies]
        return {"latencies": latencies, "ok": self.ok, "errors": self.errors}


async def _paced(plan: dict[str, Any], send: Send, tally: Tally) -> None:
    """
    Send at C{plan['rate']} a second on average from C{start} to C{end},
    then wait for the answers.  The gaps are random (a Poisson process, as
    independent clients make): evenly spaced, every kind would fall due at
    the same instants, each upload landing on a push and its fan-out.
    """

    async def one(i: int, due: float) -> None:
        try:
            error = await send(i)
        except Exception as e:  # whatever went wrong, an error of this kind
            error = type(e).__name__
        tally.record(i, due, error)

    running: set[asyncio.Task[None]] = set()
    gaps = random.Random(plan["kind"])
    i, due = 0, plan["start"]
    while (due := due + gaps.expovariate(plan["rate"])) < plan["end"]:
        if (delay := due - time.time()) > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, due))
        running.add(task)
        task.add_done_callback(running.discard)
        i += 1
    if running:
        await asyncio.wait(running, timeout=60)


async def load_main(plan: dict[str, Any]) -> dict[str, Any]:
    """One kind of request at a steady rate; @return: its L{Tally} report."""
    tally = Tally(plan["measure_from"])
    connector = aiohttp.TCPConnector(limit=16, ssl=_tls(plan["cafile"]))
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:
        await _paced(plan, _SENDERS[plan["kind"]](s, plan), tally)
    return tally.report()


class Watcher:
    """One websocket watcher's view of the feed."""

    def __init__(self, run: str) -> None:
        self.prefix = f"soak {run} "
        #: Commits pushed before this are the warm-up's: not timed.
        self.measure_from = float("inf")
        self.seen = bytearray()
        self.last_id: str | None = None
        self.latencies = array.array("f")
        self.twice = self.drops = self.messages = 0
        self.closes: Counter[str] = Counter()

    def take(self, frame: str, now: float) -> None:
        """Note the messages of one frame: an object, or an array of them."""
        decoded = json.loads(frame)
        for message in decoded if isinstance(decoded, list) else [decoded]:
            self.messages += 1
            self.last_id = message.get("id", self.last_id)
            if message.get("type") != "commit":
                continue
            text = message["commit"]["message"]
            if not text.startswith(self.prefix):
                continue
            i, sent = text[len(self.prefix) :].split()
            self.note(int(i), float(sent), now)

    def note(self, i: int, sent: float, now: float) -> None:
        if i >= len(self.seen):
            self.seen.extend(bytes(i + 1000 - len(self.seen)))
        if self.seen[i]:
            self.twice += 1
            return
        self.seen[i] = 1
        if sent >= self.measure_from:
            self.latencies.append((now - sent) * 1000)

    def missing(self, expected: list[int]) -> int:
        seen, size = self.seen, len(self.seen)
        return sum(1 for i in expected if i >= size or not seen[i])


async def _watch(
    session: aiohttp.ClientSession,
    url: str,
    watcher: Watcher,
    errors: Counter[str],
    connected: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """Hold one websocket until C{stop}; reconnect with C{since} when dropped."""
    while not stop.is_set():
        since = f"&since={watcher.last_id}" if watcher.last_id else ""
        try:
            ws = await session.ws_connect(url + since, max_msg_size=0)
        except Exception as e:
            errors[f"connect: {type(e).__name__}"] += 1
            await asyncio.sleep(1 + random.random())
            continue
        connected.set()
        try:
            async with ws:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        watcher.take(message.data, time.time())
            why = str(ws.close_code)
        except Exception as e:
            why = type(e).__name__
        if stop.is_set():
            return
        watcher.drops += 1
        watcher.closes[why] += 1
        await asyncio.sleep(0.5 + random.random())


async def watch_main(plan: dict[str, Any]) -> dict[str, Any]:
    """
    Hold C{plan['count']} watchers and print C{ready} once each has
    connected.  The parent then writes two lines: when the measured part of
    the run starts, and, after the load, the numbers of the commits pushed;
    wait up to 30 s for every watcher to have them all, then stop.

    @return: deliveries, latencies, commits missing and twice, drops.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    _watch_parent(lambda line: loop.call_soon_threadsafe(lines.put_nowait, line))
    watchers = [Watcher(plan["run"]) for _ in range(plan["count"])]
    errors: Counter[str] = Counter()
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, ssl=_tls(plan["cafile"]))
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks, connected = [], []
        for watcher in watchers:
            connected.append(asyncio.Event())
            coroutine = _watch(
                session, plan["url"], watcher, errors, connected[-1], stop
            )
            tasks.append(asyncio.create_task(coroutine))
            await asyncio.sleep(0.005)  # a steady stream of TLS handshakes
        for event in connected:
            await event.wait()
        print("ready", flush=True)
        measure_from = float(await lines.get())
        for watcher in watchers:
            watcher.measure_from = measure_from
        expected = json.loads(await lines.get())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not any(w.missing(expected) for w in watchers):
                break
            await asyncio.sleep(1)
        stop.set()
        await session.close()
        await asyncio.wait(tasks, timeout=10)
    latencies = array.array("f")
    closes: Counter[str] = Counter()
    for w in watchers:
        latencies.extend(w.latencies)
        closes.update(w.closes)
    return {
        "latencies": base64.b64encode(latencies.tobytes()).decode(),
        "missing": sum(w.missing(expected) for w in watchers),
        "twice": sum(w.twice for w in watchers),
        "drops": sum(w.drops for w in watchers),
        "messages": sum(w.messages for w in watchers),
        "closes": closes,
        "errors": errors,
    }


def client_main(plan: dict[str, Any]) -> None:
    """A client process: run its part and print its report as one JSON line."""
    # Ctrl-C reaches the whole process group: the parent stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if plan["kind"] == "watch":
        report = asyncio.run(watch_main(plan))
    else:
        _watch_parent(lambda line: None)
        report = asyncio.run(load_main(plan))
    print(json.dumps(report), flush=True)


# The parent: the cluster, the clients, the figures

MiB = 1024 * 1024


class Cluster:
    """Redis, two nodes on it, nginx in front of both."""

    def __init__(self, stack: contextlib.ExitStack, work: Path) -> None:
        self.redis = start_redis(stack, work / "redis")
        self.nodes: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
        options = (
            "--rate-limit", "login=off", "--live-ip-limit", "100000",
            "--trusted-proxy", "127.0.0.1", "--files-dir", str(work / "files"),
        )  # fmt: skip
        for name in ("a", "b"):
            started: list[subprocess.Popen[bytes]] = []
            try:
                url = start_service(
                    stack, self.redis, work / name, _TOKEN, options, started
                )
            except BenchError:
                print_tail(work / name / "twistd.log")
                raise
            self.nodes[name] = (url, started[0])
        (work / "nginx").mkdir()
        ports = [int(url.rsplit(":", 1)[1]) for url, _ in self.nodes.values()]
        # Each websocket holds two connections: the client's, the node's.
        self.front = Front(work / "nginx", ports, connections=8192)
        stack.callback(self.front.stop)
        self.logs = {f"node {n}": work / n / "twistd.log" for n in self.nodes}
        self.logs["nginx"] = work / "nginx" / "error.log"

    def check(self) -> None:
        """@raise BenchError: when a node or nginx has exited."""
        processes = {f"node {n}": p for n, (_, p) in self.nodes.items()}
        processes["nginx"] = self.front.process
        for name, process in processes.items():
            if process.poll() is not None:
                print_tail(self.logs[name])
                raise BenchError(f"{name} exited ({process.returncode}) in the run")

    def sample(self) -> dict[str, float]:
        """@return: the resident memory of the nodes, Redis and nginx, MiB."""
        rss = {f"node {n}": memory(p.pid) / MiB for n, (_, p) in self.nodes.items()}
        info = redis_call(self.redis, "INFO", "memory")
        used = next(x for x in info.split() if x.startswith("used_memory_rss:"))
        rss["redis"] = int(used.split(":")[1]) / MiB
        pid = self.front.process.pid
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        rss["nginx"] = sum(memory(int(w)) for w in workers) / MiB
        return rss

    def cpu(self, clients: list[subprocess.Popen[str]]) -> dict[str, float]:
        """
        @param clients: the client processes.
        @return: the CPU time (user and system) so far of each node, nginx's
            workers, Redis and the clients together, seconds.
        """
        seconds = {f"node {n}": cpu_seconds(p.pid) for n, (_, p) in self.nodes.items()}
        pid = self.front.process.pid
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        seconds["nginx"] = sum(cpu_seconds(int(w)) for w in workers)
        info = dict(
            line.split(":", 1)
            for line in redis_call(self.redis, "INFO", "cpu").split()
            if ":" in line
        )
        seconds["redis"] = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        seconds["clients"] = sum(cpu_seconds(c.pid) for c in clients)
        return seconds

    def watchers(self) -> dict[str, int]:
        """@return: live watchers on each node, from its C{/metrics}."""
        counts = {}
        for name, (url, _) in self.nodes.items():
            with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
                text = r.read().decode()
            line = next(x for x in text.splitlines() if x.startswith("julython_live_c"))
            counts[name] = int(float(line.split()[-1]))
        return counts


def cpu_seconds(pid: int) -> float:
    """@return: the CPU time a process has used so far, user and system, s."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # gone already (reaped): counted as nothing
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn(stack: contextlib.ExitStack, plan: dict[str, Any]) -> subprocess.Popen[str]:
    """Start a client process, stopped when C{stack} unwinds."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--client", json.dumps(plan)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stack.callback(stop_process, process)
    return process


def read_line(process: subprocess.Popen[str], timeout: float, what: str) -> str:
    """@return: the next line a client prints, within C{timeout} seconds."""
    assert process.stdout is not None
    if not select.select([process.stdout], [], [], timeout)[0]:
        raise BenchError(f"{what} printed nothing for {timeout:g} s")
    line = process.stdout.readline()
    if not line:
        raise BenchError(f"{what} exited with status {process.wait()}")
    return line


def tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def nginx_version() -> str:
    """@return: the version of the nginx measured."""
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True)
    return out.stderr.strip().rsplit("/", 1)[-1]


def print_watchers(cluster: Cluster, when: str) -> None:
    counts = ", ".join(f"node {n} {c}" for n, c in cluster.watchers().items())
    print(f"watchers {when}: {counts}", flush=True)


def print_sample(at: float, rss: dict[str, float]) -> None:
    values = "".join(f"{v:>9.1f}" for v in rss.values())
    print(f"{at:>8.0f}{values}", flush=True)


Samples = list[tuple[float, dict[str, float]]]
"""Resident memory (MiB) by process, at times from the end of the warm-up."""


def hold(
    cluster: Cluster,
    clients: list[subprocess.Popen[str]],
    start: float,
    measure_from: float,
    end: float,
) -> tuple[Samples, dict[str, float]]:
    """
    Watch the cluster while the load runs: its memory at the start of the
    load, at the end of the warm-up, every 30 s after and at the end.

    @return: the samples, and the share of a core that each node, nginx,
        Redis and the clients used from the end of the warm-up to the end.
    @raise BenchError: when a node or nginx exits.
    """
    due = [start, measure_from]
    at = measure_from + RSS_EVERY
    while at < end - 1:
        due.append(at)
        at += RSS_EVERY
    due.append(end)
    samples: Samples = []
    print(f"{'t s':>8}" + "".join(f"{k:>9}" for k in cluster.sample()) + "  RSS MiB")
    cpu: list[dict[str, float]] = []
    for when in due:
        while (left := when - time.time()) > 0:
            cluster.check()
            time.sleep(min(1.0, left))
        samples.append((when - measure_from, cluster.sample()))
        print_sample(*samples[-1])
        if when in (measure_from, end):
            cpu.append(cluster.cpu(clients))
    share = {k: (cpu[1][k] - cpu[0][k]) / (end - measure_from) for k in cpu[0]}
    return samples, share


def run_load(
    stack: contextlib.ExitStack, cluster: Cluster, options: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any], Samples]:
    """
    Connect the watchers, run every kind of request at its rate for the
    warm-up and the soak, and collect what the clients saw.

    @return: each kind's report, the watchers' reports merged (with the
        commits pushed and the nodes' CPU), the samples.
    """
    run = os.urandom(4).hex()
    front, (url_a, _) = cluster.front, cluster.nodes["a"]
    base = {"cafile": str(front.prefix / "cert.pem"), "run": run}
    base["token"] = player_token(url_a)
    wss = front.url.replace("https", "wss") + "/live?channels=global"
    n, parts = options.watchers, options.watcher_processes
    shares = [n // parts + (i < n % parts) for i in range(parts)]
    watchers = [
        spawn(stack, {**base, "kind": "watch", "url": wss, "count": count})
        for count in shares
    ]
    for process in watchers:
        if read_line(process, 300, "a watcher process").strip() != "ready":
            raise BenchError("a watcher process could not connect")
    print_watchers(cluster, "before the load")
    start = time.time() + 2
    measure_from = start + options.warmup
    end = measure_from + options.minutes * 60
    for process in watchers:
        tell(process, repr(measure_from))
    rates = {
        "push": options.push_rate,
        "rpc": options.rpc_rate,
        "upload": options.upload_rate,
        "healthz": options.probe_rate,
        "direct": options.probe_rate,
    }
    times = {"start": start, "measure_from": measure_from, "end": end}
    clients = {
        kind: spawn(stack, {**base, **times, "kind": kind, "rate": rate,
                            "url": url_a if kind == "direct" else front.url})
        for kind, rate in rates.items()
    }  # fmt: skip
    samples, cpu = hold(
        cluster, [*watchers, *clients.values()], start, measure_from, end
    )
    print_watchers(cluster, "at the end")
    reports = {
        kind: json.loads(read_line(process, 120, f"the {kind} client"))
        for kind, process in clients.items()
    }
    for process in watchers:
        tell(process, json.dumps(sorted(reports["push"]["ok"])))
    live = merge([json.loads(read_line(p, 120, "a watcher process")) for p in watchers])
    live["commits"] = len(reports["push"]["ok"])
    live["cpu"] = cpu
    return reports, live, samples


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """@return: the watcher processes' reports as one, latencies decoded."""
    merged: dict[str, Any] = {"latencies": array.array("f")}
    for report in reports:
        merged["latencies"].frombytes(base64.b64decode(report.pop("latencies")))
        for key, value in report.items():
            if isinstance(value, dict):
                merged.setdefault(key, Counter()).update(value)
            else:
                merged[key] = merged.get(key, 0) + value
    return merged


def _row(label: str, count: int, rate: float, latencies: Any, errors: int) -> str:
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    top = max(latencies, default=float("nan"))
    return (
        f"{label:<22}{count:>10,}{rate:>9.1f}{p50:>9.1f}{p99:>9.1f}{top:>9.1f}"
        f"{errors:>8}"
    )


def summarise(
    options: argparse.Namespace,
    reports: dict[str, Any],
    live: dict[str, Any],
    samples: Samples,
) -> list[str]:
    """Print the figures; @return: what failed, if anything."""
    failures = []
    seconds = options.minutes * 60
    print(f"\n{'kind':<22}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}")  # fmt: skip
    for kind, label in KINDS.items():
        r = reports[kind]
        errors = sum(r["errors"].values())
        count = len(r["latencies"])
        print(_row(label, count, count / seconds, r["latencies"], errors))
        if errors:
            failures.append(f"{label}: {dict(r['errors'])}")
    delivered = live["latencies"]
    print(_row("live feed deliveries", len(delivered), len(delivered) / seconds,
               delivered, sum(live["errors"].values())))  # fmt: skip
    print(
        f"live feed: {options.watchers} watchers, {live['commits']:,} commits "
        f"pushed; missing {live['missing']}, twice {live['twice']}; "
        f"{live['messages']:,} messages in all; {live['drops']} drops"
        + (f" (close codes {dict(live['closes'])})" if live["closes"] else "")
        + (", each reconnected with since" if live["drops"] else "")
    )
    if live["errors"]:
        failures.append(f"live feed: {dict(live['errors'])}")
    if live["missing"] or live["twice"]:
        failures.append(f"live feed: {live['missing']} missing, {live['twice']} twice")
    (_, first), (_, last) = samples[1], samples[-1]
    print()
    for name in first:
        growth = (last[name] - first[name]) / first[name] * 100
        line = (
            f"{name:<8} RSS {first[name]:7.1f} -> {last[name]:7.1f} MiB "
            f"{growth:+6.1f} %"
        )
        if name.startswith("node"):
            line += f"   {'PASS' if growth <= RSS_LIMIT else 'FAIL'} (at most"
            line += f" +{RSS_LIMIT:g} %)"
            if growth > RSS_LIMIT:
                failures.append(f"{name} grew {growth:.1f} %")
        print(line)
    shares = ", ".join(f"{k} {v * 100:.0f}" for k, v in live["cpu"].items())
    print(f"CPU over the soak, % of one core: {shares}")
    return failures


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="of the soak")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before")
    parser.add_argument("--watchers", type=int, default=500)
    parser.add_argument("--watcher-processes", type=int, default=2)
    parser.add_argument("--push-rate", type=float, default=10, help="pushes/s")
    parser.add_argument("--rpc-rate", type=float, default=20, help="reads/s")
    parser.add_argument("--upload-rate", type=float, default=2, help="uploads/s")
    parser.add_argument("--probe-rate", type=float, default=5, help="/healthz/s")
    parser.add_argument(
        "--quick", action="store_true", help="1 minute, 100 watchers, 15 s warm-up"
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.quick:
        options.minutes, options.watchers, options.warmup = 1, 100, 15
    return options


def describe(options: argparse.Namespace) -> None:
    """Print what is measured, and how hard."""
    print(
        f"soak: {options.minutes:g} min after a {options.warmup:g} s warm-up; "
        f"nginx {nginx_version()} (deploy/nginx/julython.conf, TLS, one worker) "
        "in front of 2 nodes on one Redis\n"
        "load, paced (Poisson arrivals): "
        f"pushes {options.push_rate:g}/s (one new commit each, by ada), "
        f"JSON-RPC reads {options.rpc_rate:g}/s (leaders and player, GET "
        f"and POST), uploads {options.upload_rate:g}/s (PNG avatars of 3 KiB), "
        f"{options.watchers} watchers of /live?channels=global in "
        f"{options.watcher_processes} processes; the floor: /healthz "
        f"{options.probe_rate:g}/s via nginx and {options.probe_rate:g}/s "
        "straight to node a",
        flush=True,
    )


def main(argv: list[str]) -> int:
    """@return: the process's exit status."""
    options = parse_options(argv)
    if options.client:
        client_main(json.loads(options.client))
        return 0
    raise_on_sigterm()
    print(machine())
    describe(options)
    try:
        with contextlib.ExitStack() as stack:
            work = stack.enter_context(
                tempfile.TemporaryDirectory(
                    prefix="julython-soak-", ignore_cleanup_errors=True
                )
            )
            cluster = Cluster(stack, Path(work))
            reports, live, samples = run_load(stack, cluster, options)
            failures = summarise(options, reports, live, samples)
    except BenchError as e:
        print(f"bench/soak.py: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench/soak.py: interrupted", file=sys.stderr)
        return 130
    print("FAIL: " + "; ".join(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

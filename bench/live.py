"""
The live feed under load: N websocket subscribers in separate client
processes, commits posted to the webhook at a steady rate, and the time from
each POST to its receipt by the last subscriber.

Two servers fan out the same commits in the same run, one after the other:
julython's /live (each process's Redis subscription, coalesced frames) and a
peer broadcast server on the C{websockets} library, which subscribes to the
same Redis channel and sends every entry to every client, one frame each.
The webhook, the ingest script and Redis are the same for both.

Clients are cheap on purpose (2 cores are shared with the servers): raw
sockets, no frame parsing, a regular expression over each chunk read to find
the commit hashes it carries.

    .venv/bin/python bench/live.py [--quick] [--subscribers 100,1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BenchError,
    free_port,
    github_payload,
    machine,
    percentile,
    post_or_get,
    print_tail,
    raise_on_sigterm,
    start_redis,
    start_service,
    stop_process,
)

from julytwisted.live import REPLAY_TAIL

_HASH = re.compile(rb'"hash":"([0-9a-f]{40})"')
_TOKEN = "bench-token"


# The client processes


def _handshake(host: str, port: int, path: str) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise BenchError("the server closed a connection during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise BenchError(f"upgrade refused: {head.splitlines()[0]!r}")
    sock.setblocking(False)
    return sock


def client_main(host: str, port: int, path: str, count: int) -> None:
    """
    Hold C{count} websockets; note when each commit hash first reached each;
    on a line on stdin, print per hash the latest first-receipt time and
    how many sockets received it, then exit.
    """
    sockets = [_handshake(host, port, path) for _ in range(count)]
    selector = selectors.DefaultSelector()
    seen: list[dict[bytes, float]] = [{} for _ in sockets]
    tails = [b""] * count
    for i, sock in enumerate(sockets):
        selector.register(sock, selectors.EVENT_READ, i)
    selector.register(sys.stdin, selectors.EVENT_READ, -1)
    print("ready", flush=True)
    last: bytes | None = None
    deadline = float("inf")
    while time.monotonic() < deadline:
        if last is not None and all(last in mine for mine in seen):
            break
        for key, _ in selector.select(timeout=0.5):
            i = key.data
            if i == -1:
                # The last hash posted: read on until every socket has it.
                last = sys.stdin.readline().strip().encode()
                selector.unregister(sys.stdin)
                deadline = time.monotonic() + 30
                continue
            try:
                chunk = sockets[i].recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(sockets[i])
                continue
            now = time.time()
            text = tails[i] + chunk
            mine = seen[i]
            for found in _HASH.findall(text):
                mine.setdefault(found, now)
            tails[i] = text[-60:]
    result: dict[str, list[float]] = {}
    for mine in seen:
        for h, t in mine.items():
            entry = result.setdefault(h.decode(), [0.0, 0])
            entry[0] = max(entry[0], t)
            entry[1] += 1
    print(json.dumps(result), flush=True)


# The peer: websockets' broadcast, fed by the same Redis channel


async def _peer(port: int, redis_socket: str, ready: threading.Event) -> None:
    import websockets

    # Clients leave without a closing handshake at the end of each run.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    from websockets.asyncio.server import serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def subscribe() -> None:
        reader, writer = await asyncio.open_unix_connection(redis_socket)
        writer.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\nj:live\r\n")
        while True:
            parts = []
            header = await reader.readline()
            if not header:
                return
            for _ in range(int(header[1:])):
                kind = await reader.readline()
                if kind.startswith(b"$"):
                    data = await reader.readexactly(int(kind[1:]) + 2)
                    parts.append(data[:-2])
                else:
                    parts.append(kind[1:].strip())
            if parts[0] != b"message":
                continue
            for entry in json.loads(parts[2]):
                frame = (
                    f'{{"type":"{entry["type"]}","id":"{entry["id"]}",'
                    f'"channel":"global","{entry["type"]}":{entry["data"]}}}'
                )
                websockets.broadcast(clients, frame)

    async with serve(handler, "127.0.0.1", port, compression=None):
        ready.set()
        await subscribe()


def start_peer(redis_socket: Path) -> int:
    """Run the peer in a thread of its own; @return: its port."""
    port = free_port()
    ready = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(_peer(port, str(redis_socket), ready)),
        daemon=True,
    )
    thread.start()
    if not ready.wait(10):
        raise BenchError("the peer server did not start")
    return port


# One measurement


def _seed_feed(url: str) -> None:
    """
    Fill the feed's last L{REPLAY_TAIL} entries before the first phase, so
    that every phase's subscribers are replayed them on connecting, as a
    page's watcher is, whichever phase comes first.
    """
    hashes = [
        f"seed{i:08d}".encode().hex()[:40].ljust(40, "0") for i in range(REPLAY_TAIL)
    ]
    body = json.dumps(github_payload(hashes)).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    code, reply = post_or_get(url + "/api/v1/github", body, headers)
    if code != 201:
        raise BenchError(f"seeding the feed: the webhook answered {code}: {reply}")


def _post_commits(url: str, rate: float, seconds: float, tag: str) -> dict[str, float]:
    """
    Post one commit a push at C{rate} a second, from a few threads so that
    a slow answer does not slow the schedule.

    @return: each commit's hash and when its POST was sent.
    """
    posted: dict[str, float] = {}
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}

    def post(sha: str) -> None:
        body = json.dumps(github_payload([sha])).encode()
        posted[sha] = time.time()
        code, reply = post_or_get(url + "/api/v1/github", body, headers)
        if code != 201:
            raise BenchError(f"the webhook answered {code}: {reply}")

    start = time.time()
    with ThreadPoolExecutor(8) as pool:
        futures = []
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sha = f"{tag}{i:08d}".encode().hex()[:40].ljust(40, "0")
            futures.append(pool.submit(post, sha))
        for future in futures:
            future.result()
    return dict(sorted(posted.items(), key=lambda item: item[1]))


def measure(
    host: str,
    port: int,
    path: str,
    subscribers: int,
    processes: int,
    post_url: str,
    rate: float,
    seconds: float,
    tag: str,
) -> dict[str, float]:
    """
    @return: deliveries per second and latency percentiles (ms) for one
        server and one number of subscribers.
    """
    share = [subscribers // processes] * processes
    share[0] += subscribers - sum(share)
    children = []
    try:
        for n in share:
            child = subprocess.Popen(
                [sys.executable, __file__, "--client", f"{host}:{port}{path}", str(n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(child)
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise BenchError("a client process did not connect")
        time.sleep(1.0)
        posted = _post_commits(post_url, rate, seconds, tag)
        final = list(posted)[-1]
        got: dict[str, list[float]] = {}
        for child in children:
            assert child.stdin is not None
            child.stdin.write(final + "\n")
            child.stdin.flush()
        for child in children:
            out, _ = child.communicate(timeout=60)
            for h, (t, n) in json.loads(out.splitlines()[-1]).items():
                entry = got.setdefault(h, [0.0, 0])
                entry[0] = max(entry[0], t)
                entry[1] += n
    finally:
        for child in children:
            stop_process(child)
    latencies = []
    delivered = missing = 0
    for h, sent in posted.items():
        last, n = got.get(h, [0.0, 0])
        delivered += int(n)
        missing += subscribers - int(n)
        if n:
            latencies.append((last - sent) * 1000)
    finished = max((got[h][0] for h in posted if h in got), default=0.0)
    span = max(finished - min(posted.values()), 1e-3)
    sent = list(posted.values())
    return {
        "commits/s": (len(sent) - 1) / max(sent[-1] - sent[0], 1e-3),
        "deliveries/s": delivered / span,
        "p50 ms": percentile(latencies, 50),
        "p99 ms": percentile(latencies, 99),
        "max ms": max(latencies, default=float("nan")),
        "missing": missing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="100,1000,5000")
    parser.add_argument("--rate", type=float, default=50, help="commits per second")
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--quick", action="store_true", help="100 and 1000, 4 s")
    parser.add_argument("--client", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        where, count = args.client
        host, _, rest = where.partition(":")
        port, _, path = rest.partition("/")
        client_main(host, int(port), "/" + path, int(count))
        return
    if args.quick:
        args.subscribers, args.seconds = "100,1000", 4.0
    raise_on_sigterm()
    print(machine())
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_socket = start_redis(stack, directory / "redis")
        try:
            url = start_service(
                stack,
                redis_socket,
                directory / "julython",
                _TOKEN,
                options=("--live-ip-limit", "100000", "--live-ping", "0"),
            )
        except BenchError:
            print_tail(directory / "julython" / "twistd.log")
            raise
        peer_port = start_peer(redis_socket)
        host, port = url.removeprefix("http://").split(":")
        _seed_feed(url)
        print(
            f"{args.rate:g} commits/s for {args.seconds:g} s, one commit a push; "
            f"{args.processes} client processes; julython replays the last "
            f"{REPLAY_TAIL} entries to each subscriber as it connects"
        )
        print(f"{'server':<22}{'N':>6}{'commits/s':>10}{'deliveries/s':>14}"
              f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'missing':>9}")  # fmt: skip
        for n in (int(x) for x in args.subscribers.split(",")):
            for name, p, path in (
                ("julython /live", int(port), "/live?channels=global"),
                ("websockets broadcast", peer_port, "/"),
            ):
                tag = f"{name[0]}{n}"
                r = measure(
                    host, p, path, n, args.processes, url,
                    args.rate, args.seconds, tag,
                )  # fmt: skip
                print(
                    f"{name:<22}{n:>6}{r['commits/s']:>10.1f}{r['deliveries/s']:>14.0f}"
                    f"{r['p50 ms']:>9.1f}{r['p99 ms']:>9.1f}{r['max ms']:>9.1f}"
                    f"{r['missing']:>9.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench/live.py: {e}")

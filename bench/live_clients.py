"""
The subscribers of L{bench/live.py<live>}: processes holding many websockets
each, cheap on purpose (2 cores are shared with the servers): raw sockets,
no frame parsing, the phase's commit hashes counted in each chunk read and
the last of them found from its end.

    python bench/live_clients.py HOST:PORT/PATH COUNT [--deflate] [--prefix HEX]

prints C{ready} once every websocket is open.  A line on stdin lists the
phase's commits (those whose hashes begin with C{HEX}) in the order they
were published, as JSON: it reads on until every socket has the last (30 s
at most), prints per commit the latest first-receipt time and how many
sockets received it, as JSON, and exits.  A line C{quit} exits at once.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import json
import math
import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BenchError, stop_process

_HASH = re.compile(rb'"hash":"([0-9a-f]{40})"')

#: The most subscribers one client process holds.
PER_PROCESS = 2500

#: What a browser offers (Chrome's and Firefox's header).
_DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


def _handshake(host: str, port: int, path: str, deflate: bool) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {_DEFLATE_OFFER}\r\n" if deflate else ""
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{offer}"
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
    if deflate and b"permessage-deflate" not in head.lower():
        raise BenchError("the server did not agree to permessage-deflate")
    sock.setblocking(False)
    return sock


_MARK = b'"hash":"'


def _last_hash(text: bytes, mark: bytes) -> bytes | None:
    """@return: the last whole commit hash in C{text} that C{mark} begins."""
    end = len(text)
    while (at := text.rfind(mark, 0, end)) >= 0:
        found = text[at + 8 : at + 48]
        if len(found) == 40 and text[at + 48 : at + 49] == b'"':
            return found
        end = at
    return None


class _Socket:
    """
    What one websocket received of the phase's commits (those whose hashes
    begin with the phase's prefix, not the ones replayed from before): how
    many, and the last whole one of each read with the read's time.

    Every subscriber is sent the phase's commits in the order they were
    published, so a commit reached a socket with the first read whose last
    hash is that one or a later one: finding the last hash is a short
    search from a read's end, where finding every hash would be a regular
    expression over every byte, the clients' main cost at 10,000.
    """

    def __init__(self, sock: socket.socket, mark: bytes) -> None:
        self.sock = sock
        #: Whether it has the last commit, or was closed.
        self.done = False
        self.mark = mark
        self.tail = b""
        self.count = 0
        self.reads: list[tuple[float, bytes]] = []

    def received(self, chunk: bytes, now: float) -> bytes | None:
        """@return: the last whole hash of C{chunk} (with the last read's tail)."""
        mark, tail = self.mark, self.tail
        # A mark straddling two reads is counted once: by the few bytes on
        # either side of the seam, where the chunk alone cannot hold it.
        seam = len(mark) - 1
        self.count += chunk.count(mark) + (tail[-seam:] + chunk[:seam]).count(mark)
        found = _last_hash(chunk, mark)
        if found is None or len(chunk) < 60:
            text = tail + chunk
            found = _last_hash(text, mark)
            self.tail = text[-60:]
        else:
            self.tail = chunk[-60:]
        if found is not None and (not self.reads or self.reads[-1][1] != found):
            self.reads.append((now, found))
        return found


def _results(
    order: list[bytes], sockets: list[_Socket], reads: int, closed: int
) -> dict[str, Any]:
    """
    @param order: the phase's commits, in the order they were published
        (and so sent to every socket).
    @return: per hash the latest first receipt and how many sockets got
        it; C{gaps}, how many commits sockets did not get before one they
        got, and C{repeats}, how many they got more than once (from the
        counts of commits each socket was sent and the last it got).
    """
    place = {h: i for i, h in enumerate(order)}
    latest = [0.0] * len(order)
    got = [0] * len(order)
    gaps = repeats = 0
    for one in sockets:
        done = 0
        for t, h in one.reads:
            upto = place.get(h, -1) + 1
            for i in range(done, upto):
                latest[i] = max(latest[i], t)
                got[i] += 1
            done = max(done, upto)
        gaps += max(done - one.count, 0)
        repeats += max(one.count - done, 0)
    hashes = {h.decode(): [latest[i], got[i]] for i, h in enumerate(order)}
    return {
        "hashes": hashes,
        "gaps": gaps,
        "repeats": repeats,
        "reads": reads,
        "closed": closed,
    }


def _run_unhurried() -> None:
    """
    Run this process under C{SCHED_BATCH}: woken by a server's write, it
    waits for its turn instead of preempting the server mid-send.  Without
    it, every frame a server sends to a sleeping client process may switch
    the core to that client before the server's next send, and a server
    that sends a frame per message per client (the peers) pays it most.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def client_main(
    host: str, port: int, path: str, count: int, deflate: bool, prefix: str
) -> None:
    """
    Hold C{count} websockets; note when each of the phase's commits (whose
    hashes begin with C{prefix}) first reached each.  A line on stdin lists
    the phase's commits in the order they were published, as JSON: read on
    until every socket has the last (30 s at most), print per commit the
    latest first receipt and how many sockets received it, as JSON, and
    exit.  A line C{quit} exits at once.
    """
    _run_unhurried()
    mark = _MARK + prefix.encode()
    sockets = [
        _Socket(_handshake(host, port, path, deflate), mark) for _ in range(count)
    ]
    poll = select.epoll()
    by_fd = {one.sock.fileno(): one for one in sockets}
    for fd in by_fd:
        poll.register(fd, select.EPOLLIN)
    stdin = sys.stdin.fileno()
    poll.register(stdin, select.EPOLLIN)
    print("ready", flush=True)
    order: list[bytes] = []
    last: bytes | None = None
    finished = 0
    deadline = float("inf")
    reads = closed = 0
    clock = time.time
    while time.monotonic() < deadline and finished < count:
        for fd, _ in poll.poll(0.5):
            one = by_fd.get(fd)
            if one is None:
                line = sys.stdin.readline().strip()
                if line == "quit":
                    return
                order = [h.encode() for h in json.loads(line)]
                last = order[-1]
                poll.unregister(stdin)
                deadline = time.monotonic() + 30
                for other in sockets:
                    if other.reads and other.reads[-1][1] == last:
                        other.done = True
                        finished += 1
                continue
            try:
                chunk = one.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                poll.unregister(fd)
                closed += 1
                if not one.done:
                    one.done = True
                    finished += 1
                continue
            reads += 1
            newest = one.received(chunk, clock())
            if last is not None and newest == last and not one.done:
                one.done = True
                finished += 1
    print(json.dumps(_results(order, sockets, reads, closed)), flush=True)


class Clients:
    """
    C{count} subscribers of one server, spread over client processes of at
    most L{PER_PROCESS} each (at least C{processes} of them).
    """

    def __init__(
        self,
        where: str,
        count: int,
        processes: int,
        deflate: bool = False,
        prefix: str = "",
    ) -> None:
        """
        @param where: C{HOST:PORT/PATH} of the websocket.
        @param prefix: what the hashes of the commits counted begin with.
        """
        self.count = count
        #: Commits sockets missed before one they got, once L{results} ran.
        self.gaps = 0
        #: Commits sockets got more than once, once L{results} ran.
        self.repeats = 0
        #: How many reads returned data, over every socket, once L{results} ran.
        self.reads = 0
        #: How many sockets the server closed, once L{results} ran.
        self.closed = 0
        processes = max(processes, math.ceil(count / PER_PROCESS))
        share = [count // processes] * processes
        share[0] += count - sum(share)
        self.children = [
            subprocess.Popen(
                [sys.executable, __file__, where, str(n), "--prefix", prefix]
                + (["--deflate"] if deflate else []),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in share
            if n
        ]

    def __enter__(self) -> Clients:
        for child in self.children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise BenchError("a client process did not connect")
        return self

    def tell(self, line: str) -> None:
        """
        Send each client process one line: C{quit}, or the phase's commits
        in the order they were published, as a JSON list.
        """
        for child in self.children:
            assert child.stdin is not None
            child.stdin.write(line + "\n")
            child.stdin.flush()

    def results(self) -> dict[str, list[float]]:
        """@return: per hash, the latest first receipt and how many got it."""
        got: dict[str, list[float]] = {}
        for child in self.children:
            out, _ = child.communicate(timeout=90)
            answer = json.loads(out.splitlines()[-1])
            self.gaps += answer["gaps"]
            self.repeats += answer["repeats"]
            self.reads += answer["reads"]
            self.closed += answer["closed"]
            for h, (t, n) in answer["hashes"].items():
                entry = got.setdefault(h, [0.0, 0])
                entry[0] = max(entry[0], t)
                entry[1] += n
        return got

    def __exit__(self, *exc_info: object) -> None:
        for child in self.children:
            stop_process(child, grace=5)


def main() -> None:
    # What the imports made, out of the collector's full passes, which
    # would stall the reads of 2,500 sockets.
    gc.freeze()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("where", help="HOST:PORT/PATH")
    parser.add_argument("count", type=int)
    parser.add_argument("--deflate", action="store_true", help="offer compression")
    parser.add_argument("--prefix", default="", help="of the hashes counted")
    args = parser.parse_args()
    host, _, rest = args.where.partition(":")
    port, _, path = rest.partition("/")
    try:
        client_main(host, int(port), "/" + path, args.count, args.deflate, args.prefix)
    except BenchError as e:
        sys.exit(f"bench/live_clients.py: {e}")


if __name__ == "__main__":
    main()

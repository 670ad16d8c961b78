"""
The subscribers of L{bench/live.py<live>}: processes holding many websockets
each, cheap on purpose (2 cores are shared with the servers): raw sockets,
no frame parsing, a regular expression over each chunk read to find the
commit hashes it carries.

    python bench/live_clients.py HOST:PORT/PATH COUNT [--deflate]

prints C{ready} once every websocket is open.  A line on stdin names the
last hash posted: it reads on until every socket has it (30 s at most),
prints per hash the latest first-receipt time and how many sockets received
it, as JSON, and exits.  A line C{quit} exits at once.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import selectors
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


def _last_hash(text: bytes) -> bytes | None:
    """@return: the last whole commit hash in C{text}, if any."""
    end = len(text)
    while (at := text.rfind(_MARK, 0, end)) >= 0:
        found = text[at + 8 : at + 48]
        if len(found) == 40 and text[at + 48 : at + 49] == b'"':
            return found
        end = at
    return None


class _Socket:
    """
    What one websocket received: its hashes counted, and the last whole
    one of each read with the read's time.  Every subscriber of a server is
    sent the same entries in the same order (the reference socket reads
    which), so a hash reached a socket with the first read whose last hash
    is that one or a later one: finding the last hash is a short search
    from a read's end, where finding every hash would be a regular
    expression over every byte, the clients' main cost at 10,000.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.tail = b""
        self.count = 0
        self.reads: list[tuple[float, bytes]] = []

    def received(self, chunk: bytes, now: float) -> bytes | None:
        """@return: the last whole hash of C{chunk} (with the last read's tail)."""
        # The tail is shorter than the mark: a mark is counted once.
        self.count += (self.tail[-7:] + chunk).count(_MARK)
        text = self.tail + chunk
        self.tail = text[-60:]
        found = _last_hash(text)
        if found is not None and (not self.reads or self.reads[-1][1] != found):
            self.reads.append((now, found))
        return found


def _results(order: list[bytes], sockets: list[_Socket]) -> dict[str, Any]:
    """
    @param order: every hash, in the order each socket was sent them.
    @return: per hash the latest first receipt and how many sockets got
        it; and C{gaps}, how many hashes sockets missed before one they got.
    """
    place = {h: i for i, h in enumerate(order)}
    latest = [0.0] * len(order)
    got = [0] * len(order)
    gaps = 0
    for one in sockets:
        done = 0
        for t, h in one.reads:
            upto = place.get(h, -1) + 1
            for i in range(done, upto):
                latest[i] = max(latest[i], t)
                got[i] += 1
            done = max(done, upto)
        gaps += abs(done - one.count)
    hashes = {h.decode(): [latest[i], got[i]] for i, h in enumerate(order)}
    return {"hashes": hashes, "gaps": gaps}


def client_main(host: str, port: int, path: str, count: int, deflate: bool) -> None:
    """
    Hold C{count} websockets; note when each commit hash first reached each.
    A line on stdin names the last hash posted: read on until every socket
    has it (30 s at most), print per hash the latest first-receipt time and
    how many sockets received it, and exit.  A line C{quit} exits at once.
    """
    sockets = [_Socket(_handshake(host, port, path, deflate)) for _ in range(count)]
    selector = selectors.DefaultSelector()
    for i, one in enumerate(sockets):
        selector.register(one.sock, selectors.EVENT_READ, i)
    selector.register(sys.stdin, selectors.EVENT_READ, -1)
    print("ready", flush=True)
    order: list[bytes] = []
    known: set[bytes] = set()
    tail = b""
    last: bytes | None = None
    finished: set[int] = set()
    deadline = float("inf")
    while time.monotonic() < deadline and len(finished) < count:
        for key, _ in selector.select(timeout=0.5):
            i = key.data
            if i == -1:
                last = sys.stdin.readline().strip().encode()
                if last == b"quit":
                    return
                selector.unregister(sys.stdin)
                deadline = time.monotonic() + 30
                finished |= {
                    j
                    for j, one in enumerate(sockets)
                    if one.reads and one.reads[-1][1] == last
                }
                continue
            try:
                chunk = sockets[i].sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(sockets[i].sock)
                finished.add(i)
                continue
            if i == 0:
                # The reference: every hash, in order.
                text = tail + chunk
                tail = text[-60:]
                for found in _HASH.findall(text):
                    if found not in known:
                        known.add(found)
                        order.append(found)
            newest = sockets[i].received(chunk, time.time())
            if last is not None and newest == last:
                finished.add(i)
    print(json.dumps(_results(order, sockets)), flush=True)


class Clients:
    """
    C{count} subscribers of one server, spread over client processes of at
    most L{PER_PROCESS} each (at least C{processes} of them).
    """

    def __init__(
        self, where: str, count: int, processes: int, deflate: bool = False
    ) -> None:
        """
        @param where: C{HOST:PORT/PATH} of the websocket.
        """
        self.count = count
        #: Hashes sockets missed before one they got, once L{results} ran.
        self.gaps = 0
        processes = max(processes, math.ceil(count / PER_PROCESS))
        share = [count // processes] * processes
        share[0] += count - sum(share)
        self.children = [
            subprocess.Popen(
                [sys.executable, __file__, where, str(n)]
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
        """Send each client process one line."""
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
            for h, (t, n) in answer["hashes"].items():
                entry = got.setdefault(h, [0.0, 0])
                entry[0] = max(entry[0], t)
                entry[1] += n
        return got

    def __exit__(self, *exc_info: object) -> None:
        for child in self.children:
            stop_process(child, grace=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("where", help="HOST:PORT/PATH")
    parser.add_argument("count", type=int)
    parser.add_argument("--deflate", action="store_true", help="offer compression")
    args = parser.parse_args()
    host, _, rest = args.where.partition(":")
    port, _, path = rest.partition("/")
    try:
        client_main(host, int(port), "/" + path, args.count, args.deflate)
    except BenchError as e:
        sys.exit(f"bench/live_clients.py: {e}")


if __name__ == "__main__":
    main()

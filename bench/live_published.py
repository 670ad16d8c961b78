"""
What the feed published during one phase of L{bench/live.py<live>}, read by
a subscription of its own to julython's channel (C{j:live}) on Redis: the
order every server sends the phase's commits in, against which the
subscribers' receipts are counted (none missing, none twice), and when each
was published, from which a server's own part of the latency is counted.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import BinaryIO

_HASH = re.compile(r'"hash":\s*"([0-9a-f]{40})"')


def _reply(stream: BinaryIO) -> list[bytes]:
    """@return: one RESP array of bulk strings and integers, as bytes."""
    header = stream.readline()
    if not header.startswith(b"*"):
        raise OSError(f"unexpected reply {header!r}")
    parts = []
    for _ in range(int(header[1:])):
        kind = stream.readline()
        if kind.startswith(b"$"):
            parts.append(stream.read(int(kind[1:]) + 2)[:-2])
        else:
            parts.append(kind[1:].strip())
    return parts


class Published:
    """
    The commits published on the feed's channel while this runs, in the
    order of their feed ids (the order every watcher is sent them), read in
    a thread.
    """

    def __init__(self, redis_socket: Path, channel: str = "j:live") -> None:
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.connect(str(redis_socket))
        self._stream = self._sock.makefile("rb")
        command = f"*2\r\n$9\r\nSUBSCRIBE\r\n${len(channel)}\r\n{channel}\r\n"
        self._sock.sendall(command.encode())
        _reply(self._stream)
        self._lock = threading.Lock()
        self._seen: list[tuple[tuple[int, int], str]] = []
        #: Per commit, when this subscription read it: about when Redis
        #: wrote it to every subscriber.
        self.when: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                kind, _, message = _reply(self._stream)
                now = time.time()
                if kind != b"message":
                    continue
                for entry in json.loads(message):
                    ms, _, seq = entry["id"].partition("-")
                    key = (int(ms), int(seq))
                    hashes = _HASH.findall(entry["data"])
                    with self._lock:
                        self._seen += [(key, h) for h in hashes]
                        self.when.update(dict.fromkeys(hashes, now))
        except (OSError, ValueError):
            return  # Closed.

    def commits(self, prefix: str, last: str, timeout: float = 10) -> list[str]:
        """
        @param prefix: what the phase's hashes begin with.
        @param last: the phase's last commit, waited for.
        @return: the phase's commits, in the order they were published.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                seen = sorted(self._seen)
            hashes = [h for _, h in seen if h.startswith(prefix)]
            if last in hashes or time.monotonic() > deadline:
                return hashes
            time.sleep(0.01)

    def close(self) -> None:
        """Unsubscribe, closing the connection."""
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join()


__all__ = ["Published"]

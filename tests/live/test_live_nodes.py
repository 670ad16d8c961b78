"""
The live feed across processes: two C{twistd -n julython} nodes on one
redis-server; a push to one reaches a watcher on the other.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.builders import sha
from tests.conftest import start_redis_server
from tests.live_clients import flatten, ws_url
from tests.test_twistd import Node, free_port, push


def _commits(ws: Any, wanted: int) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + 15
    while len(got) < wanted and time.monotonic() < deadline:
        for m in flatten(ws.recv(timeout=15)):
            if m["type"] == "commit":
                got.append(m["commit"]["hash"])
    return got


def test_push_to_one_node_reaches_a_watcher_on_the_other(tmp_path: Path) -> None:
    """
    Two nodes share one Redis; watchers on both see a push posted to the
    first, each commit once.
    """
    (tmp_path / "redis").mkdir()
    redis, socket = start_redis_server(tmp_path / "redis")
    nodes = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            node = Node(tmp_path / name, free_port(), "--redis", f"unix://{socket}")
            nodes.append(node)
            node.start()
        a, b = nodes
        with (
            connect(ws_url(b.url, "channels=global"), open_timeout=10) as on_b,
            connect(ws_url(a.url, "channels=global"), open_timeout=10) as on_a,
        ):
            for ws in (on_a, on_b):
                assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
            code, _ = push(a, "n1", "n2")
            assert code == 201
            assert _commits(on_b, 2) == [sha("n1"), sha("n2")]
            assert _commits(on_a, 2) == [sha("n1"), sha("n2")]
        for node in nodes:
            assert node.stop(), node.log()
    finally:
        for node in nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait()
        redis.terminate()
        with contextlib.suppress(Exception):
            redis.wait(10)


def test_peer_that_never_answers_pings_is_dropped(tmp_path: Path) -> None:
    """
    With --live-ping 1, a websocket peer that reads but never answers a ping
    is dropped within a few seconds; one that answers stays.
    """
    node = Node(tmp_path, free_port(), "--live-ping", "1")
    try:
        node.start()
        with connect(ws_url(node.url), open_timeout=10) as answering:
            dead = socket.create_connection(("127.0.0.1", node.port), timeout=10)
            dead.sendall(
                f"GET /live HTTP/1.1\r\nHost: 127.0.0.1:{node.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            started = time.monotonic()
            # Dropped means closed or reset (autobahn aborts a dead peer).
            with contextlib.suppress(ConnectionResetError):
                while dead.recv(65536):
                    assert time.monotonic() - started < 15, "never dropped"
            # Not at once: after a ping went unanswered.
            assert time.monotonic() - started >= 1
            dead.close()
            answering.ping().wait(5)
        assert node.stop(), node.log()
    finally:
        if node.process is not None and node.process.poll() is None:
            node.process.kill()
            node.process.wait()
            with contextlib.suppress(OSError, ValueError):
                os.kill(node.redis_pid(), signal.SIGTERM)

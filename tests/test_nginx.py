"""
The deploy kit's nginx config, run for real (Debian's nginx, started by
C{bench._common.Front} on free ports with a self-signed certificate, as the
soak benchmark starts it) in front of two
C{twistd julython} nodes sharing one Redis: a push through nginx lands once,
either node answers, and killing one leaves the service answering.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from bench._common import NGINX, Front
from tests.builders import body, github_payload
from tests.conftest import start_redis_server
from tests.test_twistd import Node, free_port

HOOK = {"Content-Type": "application/json", "X-GitHub-Event": "push"}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Front, list[Node]]]:
    if not Path(NGINX).exists():
        message = "the nginx test needs Debian's nginx: apt-get install nginx"
        if os.environ.get("JULYTHON_REQUIRE_NGINX"):
            pytest.fail(message)
        pytest.skip(message)
    redis_dir = Path(tempfile.mkdtemp(prefix="julython-ngx-"))
    redis, sock = start_redis_server(redis_dir)
    nodes: list[Node] = []
    front = None
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            node = Node(
                tmp_path / name, free_port(),
                "--redis", f"unix://{sock}", "--trusted-proxy", "127.0.0.1",
                "--files-dir", str(tmp_path / "files"),
                "--recount-at", "off", "--sweep-every", "off",
            )  # fmt: skip
            nodes.append(node)
            node.start()
        (tmp_path / "nginx").mkdir()
        front = Front(tmp_path / "nginx", [n.port for n in nodes])
        yield front, nodes
    finally:
        if front is not None:
            front.stop()
        for node in nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait()
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(redis_dir, ignore_errors=True)


def test_two_nodes_behind_nginx(cluster: tuple[Front, list[Node]]) -> None:
    """
    Through nginx: a push lands once (its redelivery, perhaps to the other
    node, is a 200 that adds nothing) and reaches websocket watchers on
    both nodes; nginx's request id reaches the node
    and comes back; with node A killed, every request is still answered.
    """
    front, (a, b) = cluster
    # Two watchers through nginx: round robin puts them on both nodes.
    wss = front.url.replace("https", "wss") + "/live?channels=global"
    with connect(wss, ssl=front.tls) as one, connect(wss, ssl=front.tls) as two:
        push = body(github_payload("one", "two"))
        code, answer, headers = front.request("/api/v1/github", push, HOOK)
        assert code == 201 and len(answer["commits"]) == 2, answer
        assert len(headers["X-Request-ID"]) == 32  # nginx's $request_id
        code, answer, _ = front.request("/api/v1/github", push, HOOK)
        assert (code, answer["commits"]) == (200, [])
        for watcher in (one, two):
            seen = ""
            while "commit two" not in seen:
                seen = str(watcher.recv(timeout=10))
    for _ in range(4):  # round robin: both nodes answer, from one Redis
        code, page, _ = front.request("/api/v1/commits")
        assert code == 200 and len(page["models"]) == 2

    assert a.process is not None
    a.process.kill()
    a.process.wait()
    for seed in ("three", "four", "five"):
        code, answer, _ = front.request(
            "/api/v1/github", body(github_payload(seed)), HOOK
        )
        assert code == 201, answer
    for _ in range(6):
        assert front.request("/healthz")[0] == 200
    code, page, _ = front.request("/api/v1/commits")
    assert len(page["models"]) == 5
    assert front.request("/metrics")[0] == 200  # from this machine: allowed
    assert b.stop()

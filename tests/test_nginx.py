"""
The deploy kit's nginx config, run for real (Debian's nginx, started by the
test on free ports with a self-signed certificate) in front of two
C{twistd julython} nodes sharing one Redis: a push through nginx lands once,
either node answers, and killing one leaves the service answering.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.builders import body, github_payload
from tests.conftest import start_redis_server
from tests.test_twistd import Node, free_port

DEPLOY = Path(__file__).parent.parent / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOOK = {"Content-Type": "application/json", "X-GitHub-Event": "push"}


def _decoded(raw: bytes, headers: Any) -> Any:
    if "json" in (headers.get("Content-Type") or ""):
        return json.loads(raw)
    return raw


def render(site: str, replacements: dict[str, str]) -> str:
    """The site config with each placeholder replaced, every one present."""
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/julython.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


class Front:
    """nginx, configured from deploy/nginx/julython.conf, on a private prefix."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
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
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n"
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
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {prefix / 'access.log'};\n{temp}"
            f"    include {prefix / 'julython.conf'};\n}}\n"
        )
        self.process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise AssertionError((prefix / "error.log").read_text())
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.https)) == 0:
                    break
            assert time.monotonic() < deadline, "nginx never listened"
            time.sleep(0.05)
        self.url = f"https://127.0.0.1:{self.https}"
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
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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
    watchers = [connect(wss, ssl=front.tls) for _ in range(2)]
    push = body(github_payload("one", "two"))
    code, answer, headers = front.request("/api/v1/github", push, HOOK)
    assert code == 201 and len(answer["commits"]) == 2, answer
    assert len(headers["X-Request-ID"]) == 32  # nginx's $request_id
    code, answer, _ = front.request("/api/v1/github", push, HOOK)
    assert (code, answer["commits"]) == (200, [])
    for watcher in watchers:
        seen = ""
        while "commit two" not in seen:
            seen = str(watcher.recv(timeout=10))
        watcher.close()
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

"""
Redis high availability through Sentinel: one master, one replica and one
sentinel (all redis-server), a real C{twistd julython} on
C{redis+sentinel://}.  The master is killed; the sentinel promotes the
replica; the service writes again, and its job worker (on a blocking
connection of its own) runs jobs again.

What can be lost: Redis replicates asynchronously, so a write the master
acknowledged but had not yet sent to the replica when it died is gone.  The
test makes its first push safe with WAIT, as an operator cannot for every
write, and checks that it survives.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from julytwisted.redis_service import find_redis_server
from tests.builders import body, github_payload
from tests.jobs.test_worker_processes import REDIS_CLI, Receiver, wait_for
from tests.test_twistd import Node, free_port, request

MASTER_NAME = "julymaster"


class Servers:
    """A master, its replica and a sentinel watching them, on loopback."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="julython-sentinel-"))
        self.master_port, self.replica_port = free_port(), free_port()
        self.sentinel_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.master = self._server("master", self.master_port)
        self._server(
            "replica",
            self.replica_port,
            "--replicaof",
            "127.0.0.1",
            str(self.master_port),
        )
        conf = self.dir / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        )
        self.processes["sentinel"] = subprocess.Popen(
            [find_redis_server(), str(conf), "--sentinel"], stdout=subprocess.DEVNULL
        )
        wait_for(lambda: self.replicated(), 20, "the replica to sync")
        wait_for(
            lambda: "slaves=1" in self.cli(self.sentinel_port, "INFO", "sentinel"),
            20,
            "the sentinel to see the replica",
        )

    def _server(self, name: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
        (self.dir / name).mkdir()
        process = subprocess.Popen(
            [
                find_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                "--dir", str(self.dir / name), "--save", "", "--appendonly", "no",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.processes[name] = process
        wait_for(lambda: self.cli(port, "PING") == "PONG", 10, f"{name} to answer")
        return process

    def cli(self, port: int, *command: str) -> str:
        out = subprocess.run(
            [REDIS_CLI, "-p", str(port), *command], capture_output=True, text=True
        )
        return out.stdout.strip()

    def replicated(self) -> bool:
        return "master_link_status:up" in self.cli(
            self.replica_port, "INFO", "replication"
        )

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def servers() -> Iterator[Servers]:
    s = Servers()
    yield s
    s.close()


def test_failover_and_the_service_writes_again(
    servers: Servers, tmp_path: Path
) -> None:
    """
    Kill the master: within seconds pushes are stored again on the promoted
    replica, nothing acknowledged and replicated is lost, and the worker
    delivers the new push's notification.
    """
    delivered = threading.Event()
    receiver = Receiver(lambda message: (delivered.set(), 200)[1])
    node = Node(
        tmp_path, free_port(),
        "--redis", f"redis+sentinel://127.0.0.1:{servers.sentinel_port}/{MASTER_NAME}",
        "--notify", receiver.url, "--recount-at", "off", "--sweep-every", "off",
    )  # fmt: skip
    node.start()
    try:
        hook = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
        code, _ = request(
            node.url + "/api/v1/github", body(github_payload("before")), hook
        )
        assert code == 201
        assert delivered.wait(20)
        # Made safe by hand: acknowledged by the replica before the master dies.
        assert servers.cli(servers.master_port, "WAIT", "1", "5000") == "1"

        live = node.url.replace("http", "ws") + "/live?channels=global"
        with connect(live) as watcher:
            replayed = ""
            while "commit before" not in replayed:  # the last 30, then live
                replayed = str(watcher.recv(timeout=10))

            with urllib.request.urlopen(node.url + "/metrics", timeout=10) as answer:
                scraped = answer.read().decode()
            assert "julython_live_connections 1.0" in scraped

            servers.master.kill()
            servers.master.wait()
            delivered.clear()
            started = time.monotonic()
            answered: list[int] = []

            def stored_again() -> bool:
                payload = body(github_payload("after"))
                try:
                    code, _ = request(node.url + "/api/v1/github", payload, hook)
                except OSError:  # waited past the client's 10 s: Redis is away
                    return False
                answered.append(code)
                return code == 201

            try:
                wait_for(stored_again, 60, "a push stored after the failover")
            except AssertionError:
                raise AssertionError(node.log()[-5000:]) from None
            assert set(answered) <= {201, 503}, answered
            assert time.monotonic() - started < 60
            assert delivered.wait(30), "the worker never ran a job after the failover"
            # The live bridge subscribed again, on the new master.
            deadline = time.monotonic() + 20
            seen = ""
            while "commit after" not in seen:
                seen = str(watcher.recv(timeout=deadline - time.monotonic()))
        with urllib.request.urlopen(node.url + "/metrics", timeout=10) as answer:
            scraped = answer.read().decode()
        sent = re.search(r"^julython_live_frames_sent_total (\S+)$", scraped, re.M)
        assert sent is not None and float(sent.group(1)) >= 2
        code, page = request(node.url + "/api/v1/commits")
        assert sorted(c["summary"] for c in page["models"]) == [
            "commit after",
            "commit before",
        ]
        role = servers.cli(servers.replica_port, "ROLE").split()[0]
        assert role == "master"
    finally:
        assert node.stop(), node.log()

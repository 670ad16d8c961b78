"""
The whole service as users start it: C{twistd -n julython} in a subprocess,
with its embedded redis-server, driven over HTTP.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from julytwisted.config import Options
from julytwisted.service import FrozenStartup, makeService
from tests.builders import body, github_payload, sha

TWISTD = [str(Path(sys.executable).parent / "twistd")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Node:
    """
    One twistd julython process on a port and a data dir, running an open
    event (C{--open-repositories}): the tests post webhooks for repositories
    nobody added and rely on their being accepted.  Their commits are dated
    in July 2026 (L{tests.builders.IN_JULY}) and arrive whenever the suite
    runs, so the late grace is the longest there is.
    """

    def __init__(self, data_dir: Path, port: int, *options: str) -> None:
        """@param options: more command-line options of twistd julython."""
        self.data_dir = data_dir
        self.port = port
        self.options = options
        #: Options of twistd itself, such as C{--logger}.
        self.twistd_options: tuple[str, ...] = ()
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.data_dir / "twistd.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                *TWISTD,
                "--pidfile=",
                *self.twistd_options,
                "-n",
                "julython",
                "--listen",
                f"tcp:{self.port}:interface=127.0.0.1",
                "--data-dir",
                str(self.data_dir),
                "--admin-token",
                "t0ken",
                "--open-repositories",
                "--late-grace",
                "366d",
                *self.options,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "JULYTHON_WEBHOOK_SECRET": ""},
        )
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                if request(self.url + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("never healthy:\n" + self.log())

    def stop(self) -> bool:
        """
        SIGTERM, then wait.  twistd ends a clean shutdown by re-raising the
        signal that stopped it, so its exit status is -SIGTERM.

        @return: whether the process shut down cleanly.
        """
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(30)
        return code in (0, -signal.SIGTERM) and "Server Shut Down." in self.log()

    def log(self) -> str:
        return (self.data_dir / "twistd.log").read_text(errors="replace")

    def redis_pid(self) -> int:
        """The embedded redis-server's pid, from the pidfile it keeps."""
        return int((self.data_dir / "redis.pid").read_text())


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    n = Node(tmp_path, free_port())
    yield n
    if n.process is not None and n.process.poll() is None:
        n.process.kill()
        n.process.wait()
        # SIGKILL leaves no chance to stop the embedded server: do it here.
        with contextlib.suppress(OSError, ValueError):
            os.kill(n.redis_pid(), signal.SIGTERM)


def push(node: Node, *seeds: str) -> tuple[int, Any]:
    return request(
        node.url + "/api/v1/github",
        body(github_payload(*seeds)),
        {"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )


def add_player(node: Node) -> None:
    player = {"username": "ada", "emails": ["ada@example.com"], "location": "Austin"}
    code, _ = request(
        node.url + "/api/v1/people",
        json.dumps(player).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer t0ken"},
    )
    assert code == 201


def test_startup_is_frozen_once_every_service_has_started(tmp_path: Path) -> None:
    """
    The service twistd runs freezes what start-up made out of the
    collector's full passes once the others have started (it is their last
    sibling), and lets it go when it stops.
    """
    options = Options(environ={})
    options.parseOptions(["--data-dir", str(tmp_path)])  # type: ignore[no-untyped-call]
    top = makeService(options)
    assert isinstance(list(top)[-1], FrozenStartup)  # type: ignore[call-overload]
    frozen = FrozenStartup()
    assert gc.get_freeze_count() == 0
    frozen.startService()
    try:
        assert gc.get_freeze_count() > 1000
    finally:
        frozen.stopService()
    assert gc.get_freeze_count() == 0


def test_plugin_is_listed() -> None:
    """twistd --help lists the julython plugin."""
    out = subprocess.run(
        [*TWISTD, "--help"], capture_output=True, text=True, check=True
    )
    assert "julython" in out.stdout


def test_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    """A bad option value is refused with a clear message and a failing exit."""
    out = subprocess.run(
        [*TWISTD, "-n", "julython", "--redis", "http://nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode != 0
    assert "redis" in (out.stdout + out.stderr).lower()


def test_points_survive_a_restart(node: Node) -> None:
    """
    A push, SIGTERM, a fresh start on the same data dir: the board still holds
    the points, and the process exited cleanly.
    """
    node.start()
    add_player(node)
    pushed = [sha("a"), sha("b")]
    # Dated July 2026 and arriving later than a week after: held as stale
    # until an admin accepts them.
    assert push(node, "a", "b") == (201, {"commits": pushed, "held": pushed})
    for hash in pushed:
        call = {"jsonrpc": "2.0", "id": 1, "method": "admin.acceptCommit"}
        code, answer = request(
            node.url + "/json/",
            json.dumps({**call, "params": [hash]}).encode(),
            {"Content-Type": "application/json", "Authorization": "Bearer t0ken"},
        )
        assert code == 200 and answer["result"]["review"] == "accepted", answer
    assert node.stop()
    node.start()
    code, player = request(node.url + "/api/v1/people/ada?game=julython-2026")
    assert code == 200 and player["points"] == 12
    assert node.stop()


def test_killed_redis_is_restarted_and_keeps_acknowledged_commits(node: Node) -> None:
    """
    SIGKILL to the embedded redis-server: /healthz says 503 meanwhile, the
    server comes back, and every acknowledged commit is still there.
    """
    node.start()
    add_player(node)
    acknowledged = []
    for i in range(5):
        code, answer = push(node, f"c{i}")
        assert code == 201
        acknowledged += answer["commits"]
    time.sleep(1.5)  # the append-only file is fsynced every second
    os.kill(node.redis_pid(), signal.SIGKILL)
    saw_503 = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        code, _ = request(node.url + "/healthz")
        if code == 503:
            saw_503 = True
        elif saw_503:
            break
        time.sleep(0.02)
    assert saw_503, "healthz never reported the outage"
    node.wait_healthy()
    for h in acknowledged:
        assert request(node.url + f"/api/v1/commits/{h}")[0] == 200
    assert node.stop()


def test_daemon_with_pidfile_and_logfile(tmp_path: Path) -> None:
    """
    Without -n, twistd detaches as its documentation says: the pidfile names
    the daemon, the logfile gets its log, SIGTERM to that pid stops it
    cleanly and removes the pidfile.
    """
    pidfile, logfile = tmp_path / "julython.pid", tmp_path / "julython.log"
    port = free_port()
    subprocess.run(
        [
            *TWISTD, "--pidfile", str(pidfile), "--logfile", str(logfile),
            "julython", "--listen", f"tcp:{port}:interface=127.0.0.1",
            "--data-dir", str(tmp_path / "data"),
        ],
        check=True,
        timeout=30,
        env={**os.environ, "JULYTHON_WEBHOOK_SECRET": ""},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "no pidfile"
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    try:
        while True:
            with contextlib.suppress(OSError):
                if request(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            assert time.monotonic() < deadline, logfile.read_text()
            time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGTERM)
    while pidfile.exists():
        assert time.monotonic() < deadline + 30, "the daemon did not stop"
        time.sleep(0.05)
    log = logfile.read_text()
    assert "Site starting on" in log and "Server Shut Down." in log
    while _alive(pid):
        assert time.monotonic() < deadline + 40, "the daemon is still running"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether C{pid} runs: neither gone nor a zombie nobody reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"

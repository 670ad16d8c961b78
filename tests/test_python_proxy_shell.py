"""
clients/python_proxy.py as a program: the interactive shell driven through a
pseudo-terminal, and C{--call}, each in its own process against
C{twistd -n julython} in another.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.test_twistd import Node, free_port

CLIENT = [sys.executable, str(Path(__file__).parent.parent / "clients/python_proxy.py")]
PROMPT = b">>> "
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """One julython process for the module, with the player ada signed up."""
    n = Node(tmp_path_factory.mktemp("node"), free_port())
    n.start()
    signup = ["--named", "username=ada", "--named", "password=correct horse"]
    signup += ["--named", "email=ada@example.com"]
    assert run(n.url + "/json/", "--call", "julython.signup", *signup).returncode == 0
    yield n
    assert n.process is not None
    n.process.send_signal(signal.SIGTERM)
    n.process.wait(30)


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLIENT, url, *args], capture_output=True, text=True, timeout=30
    )


class Terminal:
    """The shell on a pseudo-terminal: what we type, and what it shows."""

    def __init__(self, url: str) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "dumb", "INPUTRC": "/dev/null"}
        self.process = subprocess.Popen(
            [*CLIENT, url],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.shown = b""

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read_until(self, wanted: bytes, timeout: float = 15) -> str:
        """@return: what the shell showed from now until C{wanted}."""
        start, deadline = len(self.shown), time.monotonic() + timeout
        while wanted not in self.shown[start:]:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the shell has exited
                    chunk = b""
                if not chunk:
                    break
                self.shown += chunk
            if time.monotonic() > deadline:
                break
        text = self.shown[start:]
        assert wanted in text, f"waited for {wanted!r}; the shell showed {text!r}"
        return ANSI.sub(b"", text).decode().replace("\r\n", "\n")

    def close(self) -> int:
        """Ctrl-D; @return: the exit status."""
        self.type("\x15\x04")
        try:
            return self.process.wait(10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self.master)


@pytest.fixture
def terminal(node: Node) -> Iterator[Terminal]:
    t = Terminal(node.url + "/json/")
    t.read_until(PROMPT)
    yield t
    assert t.close() == 0


def test_a_typed_call_is_pretty_printed(terminal: Terminal) -> None:
    """A call typed at the prompt shows the whole response object, indented."""
    terminal.type('s.julython.player("ada")\r')
    shown = terminal.read_until(PROMPT)
    assert '  "result": {\n    "username": "ada",' in shown
    assert '  "error": null,' in shown
    terminal.type("s.julython.player('nobody')['error']['code']\r")
    assert "\n404\n" in terminal.read_until(PROMPT)


def test_tab_completes_method_names(terminal: Terminal) -> None:
    """s.julython.pla<TAB> becomes s.julython.player( from system.listMethods."""
    terminal.type("s.julython.pla\t")
    terminal.read_until(b"s.julython.player(")
    terminal.type('"ada")["result"]["name"]\r')
    assert "'ada'" in terminal.read_until(PROMPT)
    terminal.type("s.adm\t")
    terminal.read_until(b"s.admin.")


def test_help_shows_the_servers_documentation(terminal: Terminal) -> None:
    """help(s.method) shows system.methodSignature and system.methodHelp."""
    terminal.type("help(s.julython.leaders)\r")
    shown = terminal.read_until(PROMPT)
    assert "julython.leaders(board=String, game=String" in shown
    assert "A board, highest points first" in shown


def test_transport_errors_in_the_shell_are_one_line(terminal: Terminal) -> None:
    """A ProxyError raised at the prompt is shown in one line, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    terminal.type(f'ServiceProxy("http://127.0.0.1:{port}/").a.b()\r')
    shown = terminal.read_until(PROMPT)
    assert "TransportError: cannot reach" in shown and "Traceback" not in shown


def test_call_prints_json(node: Node) -> None:
    """--call prints the result as JSON: params as JSON or text, by name, by GET."""
    url = node.url + "/json/"
    done = run(url, "--call", "julython.player", "ada")
    assert done.returncode == 0 and json.loads(done.stdout)["username"] == "ada"
    done = run(url, "--get", "--call", "julython.leaders", "--named", "board=people")
    assert done.returncode == 0 and json.loads(done.stdout) == []
    done = run(url, "--call", "julython.leaders", '"people"', "null", "5")
    assert done.returncode == 0 and json.loads(done.stdout) == []


def test_call_with_auth(node: Node) -> None:
    """--user/--password sign in with Basic, --token with Bearer."""
    url = node.url + "/json/"
    done = run(
        url, "--user", "ada", "--password", "correct horse", "--call", "julython.whoami"
    )
    assert json.loads(done.stdout)["emails"] == ["ada@example.com"]
    done = run(
        url,
        "--token",
        "t0ken",
        "--call",
        "admin.createPlayer",
        "--named",
        "username=bob",
    )
    assert done.returncode == 0 and json.loads(done.stdout)["username"] == "bob"


def test_call_error_exit_status(node: Node) -> None:
    """A JSON-RPC error prints the error object and exits 1."""
    done = run(node.url + "/json/", "--call", "julython.player", "nobody")
    assert done.returncode == 1
    assert json.loads(done.stdout)["code"] == 404
    assert done.stderr.startswith("python_proxy: error 404:")


class HTMLPage(BaseHTTPRequestHandler):
    """A web server that is no JSON-RPC server: 200 and HTML for everything."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<!DOCTYPE html><html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def html_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HTMLPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", [[], ["--call", "julython.games"]])
def test_one_line_messages(node: Node, html_site: str, mode: list[str]) -> None:
    """
    A refused connection, a wrong path, a page that is not JSON-RPC and a
    malformed URL each get one clear line and exit status 2, shell or --call.
    """
    closed = f"http://127.0.0.1:{free_port()}/json/"
    expected = {
        closed: "connection refused",
        node.url + "/jsno/": "answered HTTP 404, not JSON-RPC",
        html_site: "the answer is not JSON-RPC",
        "localhost:8080/json/": "not an http:// or https:// URL",
    }
    for url, message in expected.items():
        done = run(url, *mode)
        assert done.returncode == 2, done
        assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("python_proxy: ") and message in done.stderr


def _token(node: Node) -> str:
    """A new API token of ada's, made through --call with her password."""
    made = run(
        node.url + "/json/",
        *("--user", "ada", "--password", "correct horse"),
        *("--call", "julython.createToken"),
    )
    assert made.returncode == 0, made.stderr
    token: str = json.loads(made.stdout)
    return token


def test_upload_in_the_shell_shows_progress(
    terminal: Terminal, node: Node, tmp_path: Path
) -> None:
    """s.upload(...) in the shell draws a bar to 100% and shows the answer."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"julython\n" * 100_000)
    token = _token(node)
    terminal.type(
        f"ServiceProxy({node.url + '/json/'!r}, auth={token!r})"
        f".upload('/upload/', {str(path)!r})\r"
    )
    shown = terminal.read_until(PROMPT)
    assert "] 100%" in shown and "0.9/0.9 MiB" in shown
    assert '"content_type": "text/plain"' in shown


def test_upload_option(node: Node, tmp_path: Path) -> None:
    """--upload sends a file and prints the answer; a refusal exits 1."""
    path = tmp_path / "me.txt"
    path.write_bytes(b"hello")
    url = node.url + "/json/"
    done = run(url, "--token", _token(node), "--upload", str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["size"] == 5
    refused = run(url, "--upload", str(path), "--kind", "avatar")
    assert refused.returncode == 1
    assert "HTTP 401" in refused.stdout

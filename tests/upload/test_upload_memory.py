"""
A 200 MiB upload to C{twistd -n julython} in a subprocess, its peak RSS read
from C{/proc}: the body is streamed to disk, never held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_twistd import Node, free_port, request

MiB = 1024 * 1024
BOUNDARY = "memory-test-boundary"


def peak_rss(pid: int) -> int:
    """@return: a process's peak resident set size so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def rpc(node: Node, method: str, params: list[str], auth: str = "") -> object:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    code, answer = request(node.url + "/json/", json.dumps(call).encode(), headers)
    assert code == 200 and "result" in answer, answer
    return answer["result"]


def upload(node: Node, token: str, size: int) -> tuple[int, object, str]:
    """
    Stream a file of C{size} bytes (a random MiB repeated) in a multipart
    body, a MiB at a time, without holding it.

    @return: the status, the decoded answer and the file's SHA-256.
    """
    block = os.urandom(MiB)
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.bin"\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=120)
    connection.putrequest("POST", "/upload/")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    digest = hashlib.sha256()
    for start in range(0, size, MiB):
        chunk = block[: min(MiB, size - start)]
        digest.update(chunk)
        connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer, digest.hexdigest()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    options = ("--upload-max-file", "300M", "--upload-max-body", "300M")
    n = Node(tmp_path, free_port(), *options, "--upload-quota", "1G")
    yield n
    if n.process is not None and n.process.poll() is None:
        n.process.kill()
        n.process.wait()


def test_200_mib_upload_keeps_memory_flat(node: Node) -> None:
    """
    After a small upload has warmed the server, a 200 MiB upload raises its
    peak RSS by less than 50 MiB; the file is stored whole.
    """
    node.start()
    rpc(node, "julython.signup", ["ada", "correct horse", "ada@example.com"])
    basic = "Basic " + base64.b64encode(b"ada:correct horse").decode()
    token = str(rpc(node, "julython.createToken", [], basic))
    assert upload(node, token, 1000)[0] == 201
    assert node.process is not None
    before = peak_rss(node.process.pid)
    code, answer, sha = upload(node, token, 200 * MiB)
    growth = peak_rss(node.process.pid) - before
    assert code == 201, answer
    assert answer == [
        {
            "sha256": sha,
            "size": 200 * MiB,
            "content_type": "application/octet-stream",
            "url": f"/files/{sha}",
        }
    ]
    assert (node.data_dir / "files" / sha[:2] / sha).stat().st_size == 200 * MiB
    assert growth < 50 * MiB, f"peak RSS grew by {growth / MiB:.1f} MiB"
    assert node.stop()

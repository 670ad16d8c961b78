"""
clients/python_proxy.py's uploads against a real Site: the Deferred
L{Proxy.upload} with a progress callback, and the blocking
L{ServiceProxy.upload} with its progress bar, from a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from julytwisted.store import Store
from tests.builders import PNG

sys.path.insert(0, str(Path(__file__).parent.parent / "clients"))

from python_proxy import (
    HTTPError,
    MultipartFile,
    ProgressBar,
    Proxy,
    ServiceProxy,
)


async def ada_token(store: Store) -> str:
    await store.create_player("ada", "Ada", ["ada@example.com"])
    return await store.create_token("ada")


def test_body_length_is_known_before_sending(tmp_path: Path) -> None:
    """The body's length counts the fields, the file part and the end."""
    path = tmp_path / "a b.txt"
    path.write_bytes(b"x" * 1000)
    body = MultipartFile(path, {"kind": "file"})
    assert body.length > 1000
    assert body.content_type.startswith("multipart/form-data; boundary=")


@pytest_twisted.ensureDeferred
async def test_proxy_upload_streams_with_progress(
    server: str, store: Store, tmp_path: Path
) -> None:
    """
    A 3 MiB file, sent in chunks: progress rises to the body's length, and
    the answer names the file's digest.
    """
    token = await ada_token(store)
    path = tmp_path / "notes.txt"
    content = b"julython\n" * (3 * 1024 * 1024 // 9)
    path.write_bytes(content)
    seen: list[tuple[int, int]] = []
    proxy = Proxy(server + "/json/", auth=token)
    try:
        answer = await proxy.upload(
            "/upload/", path, progress=lambda sent, total: seen.append((sent, total))
        )
    finally:
        await proxy.close()
    assert answer[0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert answer[0]["content_type"] == "text/plain"
    assert len(seen) > 3
    assert [sent for sent, _ in seen] == sorted(sent for sent, _ in seen)
    assert seen[-1][0] == seen[-1][1]


@pytest_twisted.ensureDeferred
async def test_proxy_upload_refused_is_an_http_error(
    server: str, tmp_path: Path
) -> None:
    """Without a token the upload fails with HTTPError 401."""
    path = tmp_path / "me.png"
    path.write_bytes(PNG)
    proxy = Proxy(server + "/json/")
    try:
        with pytest.raises(HTTPError) as caught:
            await proxy.upload("/upload/", path, kind="avatar")
    finally:
        await proxy.close()
    assert caught.value.status == 401


@pytest.fixture(scope="module")
def reactor_run_by_pytest() -> None:
    """crochet must use the reactor pytest-twisted runs, not start its own."""
    import crochet

    with contextlib.suppress(RuntimeError):  # done by an earlier module
        crochet.no_setup()


@pytest.mark.filterwarnings("ignore:isSet:DeprecationWarning")
@pytest_twisted.ensureDeferred
async def test_service_proxy_upload_shows_a_bar(
    server: str, store: Store, tmp_path: Path, reactor_run_by_pytest: None
) -> None:
    """The blocking upload sets an avatar and draws a bar that ends at 100%."""
    token = await ada_token(store)
    path = tmp_path / "me.png"
    path.write_bytes(PNG)
    shown = io.StringIO()

    def script() -> Any:
        s = ServiceProxy(server + "/json/", auth=token)
        try:
            return s.upload(
                "/upload/", path, kind="avatar", progress=ProgressBar(shown)
            )
        finally:
            s.close()

    answer = await deferToThread(script)
    assert (await store.player("ada")).picture_url == answer[0]["url"]
    assert shown.getvalue().endswith("100%  0.0/0.0 MiB\n")

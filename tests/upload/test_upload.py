"""
Uploads over real HTTP: a listening Site, a real redis-server, files written
under the test's data dir.  Every refused upload must leave no file behind,
neither a temporary one nor a stored one, and no metadata in Redis.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from julytwisted.auth.passwords import hash_password
from julytwisted.config import Config
from julytwisted.http_errors import error_body
from julytwisted.store import Store
from tests.builders import BOUNDARY, PNG, github_payload, ingest, multipart, push

FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def token_for(store: Store, username: str = "ada") -> str:
    """Make a player and an API token for them."""
    await store.create_player(username, username.title(), [f"{username}@example.com"])
    return await store.create_token(username)


async def post(
    server: str, body: bytes, token: str | None, **headers: str
) -> tuple[int, Any, Any]:
    sent = dict(FORM)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers)
    response = await treq.post(server + "/upload/", data=body, headers=sent)
    content = await response.content()
    return response.code, json.loads(content), response.headers


def stored_files(data_dir: Path) -> list[Path]:
    """Every file under C{DATA/files}, temporary ones included."""
    root = data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest_twisted.ensureDeferred
async def test_upload_is_stored_and_served(
    server: str, store: Store, config: Config
) -> None:
    """
    A PNG: 201 with its digest, size, type and URL; stored under its digest;
    served back whole as image/png, inline, with nosniff and a strong ETag.
    """
    token = await token_for(store)
    code, answer, _ = await post(
        server, multipart([("dot.png", "image/png", PNG)]), token
    )
    sha = digest(PNG)
    assert code == 201
    assert answer == [
        {
            "sha256": sha,
            "size": len(PNG),
            "content_type": "image/png",
            "url": f"/files/{sha}",
        }
    ]
    assert stored_files(config.data_dir) == [config.data_dir / "files" / sha[:2] / sha]
    response = await treq.get(server + f"/files/{sha}")
    assert response.code == 200
    assert await response.content() == PNG
    headers = response.headers
    assert headers.getRawHeaders("Content-Type") == ["image/png"]
    assert headers.getRawHeaders("X-Content-Type-Options") == ["nosniff"]
    assert headers.getRawHeaders("ETag") == [f'"{sha}"']
    assert not headers.hasHeader("Content-Disposition")
    assert await store.upload_usage("ada") == len(PNG)
    response = await treq.get(server + f"/api/v1/files/{sha}")
    metadata = json.loads(await response.content())
    assert metadata == {**answer[0], "created": "2026-07-15T12:00:00Z"}
    response = await treq.get(server + f"/api/v1/files/{'0' * 64}")
    assert response.code == 404
    await response.content()


@pytest_twisted.ensureDeferred
async def test_several_files_in_one_body(server: str, store: Store) -> None:
    """Three files in one body: three answers, in order, each stored."""
    token = await token_for(store)
    contents = [PNG, b"hello, world\n", b"%PDF-1.4\n% a pdf\n"]
    body = multipart(
        [
            ("a.png", "image/png", contents[0]),
            ("b.txt", "text/plain", contents[1]),
            ("c.pdf", None, contents[2]),
        ]
    )
    code, answer, _ = await post(server, body, token)
    assert code == 201
    assert [a["sha256"] for a in answer] == [digest(c) for c in contents]
    assert [a["content_type"] for a in answer] == [
        "image/png",
        "text/plain",
        "application/pdf",
    ]
    for content in contents:
        response = await treq.get(server + f"/files/{digest(content)}")
        assert await response.content() == content


@pytest_twisted.ensureDeferred
async def test_same_content_is_stored_once(
    server: str, store: Store, config: Config
) -> None:
    """
    The same bytes uploaded twice (under two names, two requests) are stored
    once and counted once against the quota.
    """
    token = await token_for(store)
    first = await post(server, multipart([("a.png", "image/png", PNG)]), token)
    second = await post(server, multipart([("b.png", None, PNG)]), token)
    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert len(stored_files(config.data_dir)) == 1
    assert await store.upload_usage("ada") == len(PNG)


@pytest_twisted.ensureDeferred
async def test_anonymous_gets_401(server: str, config: Config) -> None:
    """No token, or a wrong one: 401 with a JSON error, nothing stored."""
    body = multipart([("a.png", "image/png", PNG)])
    code, answer, headers = await post(server, body, None)
    assert code == 401 and "token" in answer["error"].lower()
    assert headers.getRawHeaders("WWW-Authenticate") == ['Bearer realm="julython"']
    code, answer, _ = await post(server, body, "not-a-token")
    assert code == 401
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_anonymous_is_refused_before_the_body(
    server: str, config: Config
) -> None:
    """
    Without credentials, a declared 50 MiB body is answered 401 from the
    headers alone and the connection closed, none of it read.
    """
    address = urlparse(server)
    answer = await deferToThread(
        _send_headers_only,
        address.hostname,
        address.port,
        f"Content-Length: {50 << 20}\r\nContent-Type: {FORM['Content-Type']}\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"WWW-Authenticate: Bearer" in answer
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_redis_away_is_503(
    server_without_redis: str, config: Config, tmp_path: Path
) -> None:
    """
    When Redis does not answer, the sender cannot be known: 503, and the
    partial file is removed.
    """
    body = multipart([("a.txt", "text/plain", b"hello")])
    code, answer, headers = await post(server_without_redis, body, "some-token")
    assert code == 503 and answer["error"]
    assert headers.getRawHeaders("Retry-After") == ["1"]
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_redis_away_with_a_session_is_503(
    server: str, server_without_redis: str, config: Config
) -> None:
    """
    When Redis does not answer, a sender known by their session cannot be
    known either: 503, and nothing is stored.
    """
    from tests.pages.test_accounts import Visitor

    visitor = Visitor(server)
    await visitor.sign_up()
    _, page, _ = await visitor.get("/profile")
    (action,) = re.findall(rb'action="(/upload/\?csrf=[^"]+)"', page)
    body = multipart([("a.txt", "text/plain", b"hello")])
    response = await treq.post(
        server_without_redis + action.decode().replace("&amp;", "&"),
        data=body,
        headers=visitor._headers(FORM),
    )
    answer = json.loads(await response.content())
    assert response.code == 503 and answer["error"]
    assert response.headers.getRawHeaders("Retry-After") == ["1"]
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_error_text_is_escaped_as_everywhere(server: str, store: Store) -> None:
    """
    An error that repeats the client's text (a form field's name with markup
    and non-ASCII letters) is encoded as every JSON error is: UTF-8,
    markup characters escaped.  The upload's own encoder sent the markup raw
    and the letters as \\u escapes, unlike every other door.
    """
    token = await token_for(store)
    name = "<b>é&ü</b>"
    body = multipart([("a.txt", "text/plain", b"hello")], {name: "x" * 2000})
    sent = {**FORM, "Authorization": f"Bearer {token}"}
    response = await treq.post(server + "/upload/", data=body, headers=sent)
    assert response.code == 400
    message = f"field {name!r} is too long"
    assert await response.content() == error_body(message)
    assert b"<" not in error_body(message) and "é".encode() in error_body(message)


@pytest_twisted.ensureDeferred
async def test_preflight(server: str) -> None:
    """OPTIONS /upload/ allows a script on another origin to POST with a token."""
    response = await treq.request("OPTIONS", server + "/upload/")
    await response.content()
    assert response.code == 204
    allowed = response.headers.getRawHeaders("Access-Control-Allow-Headers")
    assert allowed == ["Authorization, Content-Type"]


@pytest_twisted.ensureDeferred
async def test_admin_token_is_not_a_player(server: str, config: Config) -> None:
    """The admin token names no player: 403."""
    body = multipart([("a.png", "image/png", PNG)])
    code, answer, _ = await post(server, body, config.admin_token)
    assert code == 403 and answer["error"]


@pytest_twisted.ensureDeferred
async def test_not_multipart_is_415(server: str, store: Store) -> None:
    """A body that is not multipart/form-data is refused before it is read."""
    token = await token_for(store)
    code, answer, _ = await post(
        server, b"{}", token, **{"Content-Type": "application/json"}
    )
    assert code == 415 and "multipart" in answer["error"]


@pytest.fixture
def small_limits(config: Config) -> Config:
    """Small upload limits, for the site the C{server} fixture builds."""
    return attrs.evolve(
        config,
        upload_max_file=1000,
        upload_max_body=100_000,
        upload_max_parts=2,
        upload_quota=3000,
    )


@pytest.fixture
def limited_server(server_with: Callable[[Config], str], small_limits: Config) -> str:
    """A Site with the small limits."""
    return server_with(small_limits)


@pytest_twisted.ensureDeferred
async def test_file_over_its_limit_is_413_and_removed(
    limited_server: str, store: Store, config: Config
) -> None:
    """A file of 1001 bytes against a limit of 1000: 413, no partial file."""
    server = limited_server
    token = await token_for(store)
    body = multipart([("big.txt", "text/plain", b"x" * 1001)])
    code, answer, _ = await post(server, body, token)
    assert code == 413 and "1000" in answer["error"]
    assert stored_files(config.data_dir) == []
    code, _, _ = await post(
        server, multipart([("ok.txt", "text/plain", b"x" * 1000)]), token
    )
    assert code == 201


@pytest_twisted.ensureDeferred
async def test_body_over_its_limit_is_refused_unread(
    limited_server: str, store: Store, config: Config
) -> None:
    """
    A Content-Length over the body limit: 413 from the headers alone, the
    connection closed without reading the body.
    """
    server = limited_server
    token = await token_for(store)
    address = urlparse(server)
    answer = await deferToThread(
        _send_headers_only,
        address.hostname,
        address.port,
        f"Authorization: Bearer {token}\r\nContent-Length: 100001\r\n"
        f"Content-Type: {FORM['Content-Type']}\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"100000" in answer
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_chunked_body_over_its_limit_is_cut_off(
    server_with: Callable[[Config], str], store: Store, config: Config
) -> None:
    """
    A chunked body (no Content-Length to refuse it by) passing the body limit
    of 5000 bytes with a file its own limit allows: 413 once it does, and the
    partial file removed.
    """
    server = server_with(attrs.evolve(config, upload_max_body=5000))
    token = await token_for(store)
    body = multipart([("big.txt", "text/plain", b"z" * 10_000)])
    address = urlparse(server)
    head = (
        f"POST /upload/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {FORM['Content-Type']}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    answer = await deferToThread(
        _send_chunked, address.hostname, address.port, head.encode(), chunks
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert b"5000" in answer
    assert await _until(lambda: not stored_files(config.data_dir))


def _send_chunked(host: str, port: int, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a chunked body and read what the server answers until it closes."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(head)
        try:
            for chunk in chunks:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # closed under us once refused: read the answer all the same
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received


def _send_headers_only(host: str, port: int, headers: str) -> bytes:
    """Send a request's headers and no body; return all the server answers."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(f"POST /upload/ HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received


@pytest_twisted.ensureDeferred
async def test_too_many_parts_is_413(
    limited_server: str, store: Store, config: Config
) -> None:
    """Three files against a limit of two: 413, none of them kept."""
    server = limited_server
    token = await token_for(store)
    files = [(f"{i}.txt", "text/plain", f"file {i}".encode()) for i in range(3)]
    code, answer, _ = await post(server, multipart(files), token)
    assert code == 413 and "2 files" in answer["error"]
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_quota_is_per_player(
    limited_server: str, store: Store, config: Config
) -> None:
    """
    Against a quota of 3000 bytes: three files of 1000 fit, a fourth is 413
    and not kept, the same bytes again are free, and another player has a
    quota of their own.
    """
    server = limited_server
    token = await token_for(store)
    contents = [bytes([65 + i]) * 1000 for i in range(4)]
    for content in contents[:3]:
        code, _, _ = await post(server, multipart([("f.txt", None, content)]), token)
        assert code == 201
    code, answer, _ = await post(
        server, multipart([("f.txt", None, contents[3])]), token
    )
    assert code == 413 and "quota" in answer["error"]
    assert not (config.data_dir / "files" / digest(contents[3])[:2]).exists()
    code, _, _ = await post(server, multipart([("f.txt", None, contents[0])]), token)
    assert code == 201
    other = await token_for(store, "bob")
    code, _, _ = await post(server, multipart([("f.txt", None, contents[3])]), other)
    assert code == 201


@pytest.mark.parametrize(
    ("content", "declared", "kind"),
    [
        (PNG, "text/plain", "file"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "image/png", "file"),
        (b"<html><body>hi</body></html>", "image/png", "screenshot"),
        (b"just text", None, "avatar"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bytes_decide_the_type(
    server: str,
    store: Store,
    config: Config,
    content: bytes,
    declared: str | None,
    kind: str,
) -> None:
    """
    A PNG declared as text, HTML declared as a PNG, text sent as an avatar:
    415, judged by the bytes, nothing kept.
    """
    token = await token_for(store)
    await ingest(store, push())
    body = multipart(
        [("x.png", declared, content)], {"kind": kind, "project": "gh-ada-engine"}
    )
    code, answer, _ = await post(server, body, token)
    assert code == 415, answer
    assert stored_files(config.data_dir) == []


@pytest_twisted.ensureDeferred
async def test_refusal_reads_as_english(server: str, store: Store) -> None:
    """A refused type names the kind with its article: "an avatar", "a file"."""
    token = await token_for(store)
    body = multipart([("notes.txt", "text/plain", b"hello\n")], {"kind": "avatar"})
    code, answer, _ = await post(server, body, token)
    assert code == 415 and "; an avatar may be image/png" in answer["error"]


@pytest_twisted.ensureDeferred
async def test_avatar_becomes_the_picture(server: str, store: Store) -> None:
    """An avatar upload sets the player's picture_url, seen in the REST API."""
    token = await token_for(store)
    body = multipart([("me.png", "image/png", PNG)], {"kind": "avatar"})
    code, answer, _ = await post(server, body, token)
    assert code == 201
    response = await treq.get(server + "/api/v1/people/ada")
    player = json.loads(await response.content())
    assert player["picture_url"] == answer[0]["url"]


@pytest_twisted.ensureDeferred
async def test_screenshot_is_listed_on_its_project(server: str, store: Store) -> None:
    """
    A screenshot is listed in its project's detail; one for a project that
    does not exist is 404 and leaves nothing.
    """
    token = await token_for(store)
    response = await treq.post(
        server + "/api/v1/github",
        data=json.dumps(github_payload("a")).encode(),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert response.code == 201
    body = multipart(
        [("shot.png", "image/png", PNG)],
        {"kind": "screenshot", "project": "gh-ada-engine"},
    )
    code, answer, _ = await post(server, body, token)
    assert code == 201
    response = await treq.get(server + "/api/v1/projects/gh-ada-engine")
    project = json.loads(await response.content())
    assert project["screenshots"] == [answer[0]["url"]]
    missing = multipart(
        [("shot.png", "image/png", PNG)], {"kind": "screenshot", "project": "nope"}
    )
    code, answer, _ = await post(server, missing, token)
    assert code == 404 and "nope" in answer["error"]


@pytest_twisted.ensureDeferred
async def test_client_names_never_reach_the_filesystem(
    server: str, store: Store, config: Config
) -> None:
    """
    A file named ../../etc/passwd is stored under its digest inside the data
    dir, its name recorded as "passwd"; /files/ takes digests only.
    """
    token = await token_for(store)
    content = b"root:x:0:0:root:/root:/bin/bash\n"
    body = multipart([("../../etc/passwd", "text/plain", content)])
    code, _, _ = await post(server, body, token)
    assert code == 201
    assert stored_files(config.data_dir) == [
        config.data_dir / "files" / digest(content)[:2] / digest(content)
    ]
    uploads = await store.redis.execute("HGETALL", "j:upload:1")
    assert dict(zip(uploads[0::2], uploads[1::2], strict=True))["filename"] == "passwd"
    for path in ("/files/..%2F..%2Fetc%2Fpasswd", "/files/../etc/passwd", "/files/x"):
        response = await treq.get(server + path)
        assert response.code == 404
        await response.content()


@pytest_twisted.ensureDeferred
async def test_range_and_etag(server: str, store: Store) -> None:
    """
    Range gives 206 and the bytes asked for; If-None-Match with the ETag
    gives 304; If-Range with another ETag gives the whole file.  Text is
    served as an attachment.
    """
    token = await token_for(store)
    content = b"0123456789" * 10
    code, answer, _ = await post(server, multipart([("d.txt", None, content)]), token)
    assert code == 201
    url = server + answer[0]["url"]
    etag = f'"{digest(content)}"'
    ranged = await treq.get(url, headers={"Range": "bytes=10-19"})
    assert ranged.code == 206
    assert await ranged.content() == b"0123456789"
    assert ranged.headers.getRawHeaders("Content-Range") == ["bytes 10-19/100"]
    assert ranged.headers.getRawHeaders("Content-Disposition") == ["attachment"]
    cached = await treq.get(url, headers={"If-None-Match": etag})
    assert cached.code == 304
    assert await cached.content() == b""
    stale = await treq.get(url, headers={"Range": "bytes=0-1", "If-Range": '"other"'})
    assert stale.code == 200 and await stale.content() == content
    fresh = await treq.get(url, headers={"Range": "bytes=0-1", "If-Range": etag})
    assert fresh.code == 206 and await fresh.content() == b"01"


@pytest_twisted.ensureDeferred
async def test_client_gone_halfway_leaves_nothing(
    server: str, store: Store, config: Config
) -> None:
    """
    A client that sends half of its declared body and disconnects: the
    partial file, seen on disk while the client waits, is removed, and
    nothing is recorded.
    """
    token = await token_for(store)
    body = multipart([("half.txt", "text/plain", b"y" * 200_000)])
    address = urlparse(server)
    head = (
        f"POST /upload/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {FORM['Content-Type']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    client = socket.create_connection((address.hostname, address.port), timeout=5)
    try:
        await deferToThread(client.sendall, head.encode() + body[: len(body) // 2])
        assert await _until(lambda: bool(stored_files(config.data_dir)))
    finally:
        client.close()
    assert await _until(lambda: not stored_files(config.data_dir))
    assert await store.redis.execute("KEYS", "j:file:*") == []


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Wait, without blocking the reactor, until C{condition()} holds."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        await deferLater(reactor, 0.02, lambda: None)
    return condition()


@pytest_twisted.ensureDeferred
async def test_form_page(server: str) -> None:
    """GET /upload/ is the HTML form, posting files to /upload/."""
    response = await treq.get(server + "/upload/")
    assert response.code == 200
    page = await response.content()
    assert response.headers.getRawHeaders("Content-Type")[0].startswith("text/html")
    assert b'action="/upload/"' in page and b'name="file"' in page


@pytest_twisted.ensureDeferred
async def test_basic_guesses_meet_429(
    server: str, store: Store, config: Config
) -> None:
    """
    HTTP Basic guesses at /upload/ draw on the address's budget of failed
    credentials: past it, 429 with Retry-After, and even the right password
    is not checked from there; nothing is stored.  Before, 150 guesses took
    5 s and met no limit.
    """
    await store.create_player(
        "ada", "Ada", ["ada@example.com"], password_hash=hash_password("correct horse")
    )
    body = multipart([("a.png", "image/png", PNG)])

    async def guess(password: str) -> tuple[int, Any, Any]:
        auth = base64.b64encode(f"ada:{password}".encode()).decode()
        sent = {**FORM, "Authorization": f"Basic {auth}"}
        response = await treq.post(server + "/upload/", data=body, headers=sent)
        return response.code, json.loads(await response.content()), response.headers

    codes = []
    for n in range(150):
        code, answer, headers = await guess(f"guess {n}")
        codes.append(code)
        if code == 429:
            break
    assert codes[:-1] == [401] * (len(codes) - 1) and len(codes) <= 10
    assert codes[-1] == 429 and "retry" in answer["error"]
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    assert (await guess("correct horse"))[0] == 429
    assert stored_files(config.data_dir) == []
    assert await store.upload_usage("ada") == 0


#: A form's next pages that a browser would read as another host, or as no
#: path at all: tabs and newlines are dropped from URLs by browsers
#: (C{/<tab>/evil.example} is C{//evil.example}), backslashes read as
#: slashes, and a scheme or a control character is no path.
FOREIGN_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\t\\evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
    "/\x00/evil.example",
    "/ok\x7f",
    "",
]


async def _post_with_next(server: str, token: str, target: str) -> tuple[int, Any]:
    body = multipart([("me.png", "image/png", PNG)], {"kind": "avatar", "next": target})
    sent = {**FORM, "Authorization": f"Bearer {token}"}
    response = await treq.post(
        server + "/upload/", data=body, headers=sent, allow_redirects=False
    )
    await response.content()
    return response.code, response.headers


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("target", FOREIGN_NEXT)
async def test_next_elsewhere_is_not_followed(
    server: str, store: Store, target: str
) -> None:
    """
    A next that is not a path of this site sends nobody anywhere: the answer
    is 201 with the stored files, no Location.  The upload is not lost: the
    avatar is stored and is the player's picture.
    """
    token = await token_for(store)
    code, headers = await _post_with_next(server, token, target)
    assert code == 201, target
    assert not headers.hasHeader("Location")
    player = await store.player("ada")
    assert player.picture_url == f"/files/{digest(PNG)}"


@pytest_twisted.ensureDeferred
async def test_local_next_is_followed(server: str, store: Store) -> None:
    """A path of this site, query kept, is where the browser is sent: 303."""
    token = await token_for(store)
    for target in ("/profile", "/projects/gh-ada-engine?tab=screenshots", "/"):
        code, headers = await _post_with_next(server, token, target)
        assert code == 303
        assert headers.getRawHeaders("Location") == [target]

"""
Every door of the site answers HTTP as RFC 9110 says, over a real Site and
Redis, through a plain Agent that sends only the headers a test names (treq
would add C{Accept-Encoding: gzip} and decode behind the test's back):
conditional requests on pages, C{/static/} and C{/files/}; gzip for the
clients that accept it, with C{Vary}; C{/favicon.ico}; C{OPTIONS} on pages;
C{/live/}, C{/upload/} and C{/json/browse/} with the pages' security headers
and layout.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from julytwisted.store import Store
from tests.builders import PNG, multipart
from tests.htmlcheck import check_page
from tests.upload.test_upload import FORM, token_for

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


async def fetch(
    url: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, Headers, bytes]:
    """One request with exactly these headers (and Host): status, headers, body."""
    from twisted.web.client import FileBodyProducer

    sent = Headers({name.replace("_", "-"): [value] for name, value in headers.items()})
    producer = None
    if body is not None:
        from io import BytesIO

        producer = FileBodyProducer(BytesIO(body))
    response = await Agent(reactor).request(
        method.encode(), url.encode(), sent, producer
    )
    return response.code, response.headers, await treq.content(response)


def one(headers: Headers, name: str) -> str | None:
    values = headers.getRawHeaders(name)
    return None if values is None else ", ".join(values)


async def stored_text(server: str, store: Store) -> str:
    """Upload a text file; @return: its URL."""
    token = await token_for(store)
    body = multipart([("notes.txt", "text/plain", b"some notes\n" * 200)])
    response = await fetch(
        server + "/upload/", "POST", body, Authorization=f"Bearer {token}", **FORM
    )
    assert response[0] == 201, response
    url: str = json.loads(response[2])[0]["url"]
    return server + url


async def doors(server: str, store: Store) -> list[str]:
    """A page, a static file and an uploaded file: each door with an ETag."""
    return [server + "/", server + "/static/site.css", await stored_text(server, store)]


@pytest_twisted.ensureDeferred
async def test_if_none_match_compares_weakly(server: str, store: Store) -> None:
    """
    If-None-Match matches the ETag weakly (W/"x" is "x", as nginx sends it on
    after gzipping), anywhere in a list, and as *: a 304 with the ETag and no
    body.  Another tag gets the whole answer.
    """
    for url in await doors(server, store):
        code, headers, body = await fetch(url)
        assert code == 200 and body, url
        etag = one(headers, "ETag")
        assert etag is not None and etag.startswith('"'), (url, etag)
        for condition in (
            etag,
            "W/" + etag,
            f'"nothing", {etag}',
            f'W/"nothing",W/{etag}',
            "*",
        ):
            code, headers, body = await fetch(url, If_None_Match=condition)
            assert (code, body) == (304, b""), (url, condition)
            assert one(headers, "ETag") == etag
        code, _, body = await fetch(url, If_None_Match='"nothing", W/"else"')
        assert code == 200 and body, url


@pytest_twisted.ensureDeferred
async def test_if_match_that_does_not_match_is_412(server: str, store: Store) -> None:
    """
    If-Match names the version a client means to read: another version is
    412 Precondition Failed, without the body; the current one (or *) is
    the answer.  A weak tag never matches strongly (RFC 9110 13.1.1).
    """
    for url in await doors(server, store):
        _, headers, whole = await fetch(url)
        etag = one(headers, "ETag")
        assert etag is not None
        for condition in ('"nothing"', "W/" + etag, 'W/"nothing", "else"'):
            code, _, body = await fetch(url, If_Match=condition)
            assert code == 412, (url, condition, code)
            assert whole not in body
        for condition in (etag, f'"nothing", {etag}', "*"):
            code, _, body = await fetch(url, If_Match=condition)
            assert (code, body) == (200, whole), (url, condition)
    _, _, page = await fetch(server + "/", If_Match='"nothing"')
    check_page(page)


@pytest_twisted.ensureDeferred
async def test_text_is_gzipped_for_clients_that_accept_it(server: str) -> None:
    """
    A page, a style sheet and a large JSON answer go gzipped to a client
    that accepts gzip, with Vary: Accept-Encoding and a weak ETag; the same
    bytes once decoded as the identity answer, which carries Vary too.
    """
    for url in (
        server + "/",
        server + "/static/site.css",
        server + "/api/v1/openapi.json",
    ):
        code, plain_headers, plain = await fetch(url)
        assert code == 200
        assert "Accept-Encoding" in (one(plain_headers, "Vary") or ""), url
        assert one(plain_headers, "Content-Encoding") is None
        code, headers, coded = await fetch(url, **GZIP)
        assert code == 200
        assert one(headers, "Content-Encoding") == "gzip", url
        assert "Accept-Encoding" in (one(headers, "Vary") or ""), url
        assert gzip.decompress(coded) == plain, url
        assert len(coded) < len(plain)
        tag = one(plain_headers, "ETag")
        if tag is not None:
            # The coded bytes are not the identity bytes: a weak tag.
            assert one(headers, "ETag") == "W/" + tag
            code, _, body = await fetch(url, If_None_Match=tag, **GZIP)
            assert (code, body) == (304, b"")


@pytest_twisted.ensureDeferred
async def test_json_rpc_answers_are_gzipped(server: str) -> None:
    """A large JSON-RPC answer goes gzipped to a client that accepts it."""
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})
    kind = {"Content-Type": "application/json"}
    code, headers, coded = await fetch(
        server + "/json/", "POST", call.encode(), **kind, **GZIP
    )
    assert code == 200 and one(headers, "Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(coded))["result"]["openrpc"]


@pytest.mark.parametrize(
    "accept", ["gzip;q=0", "identity", "br", "*;q=0", "gzip;q=0, *"]
)
@pytest_twisted.ensureDeferred
async def test_gzip_only_when_accepted(server: str, accept: str) -> None:
    """An Accept-Encoding that refuses gzip, or does not name it, gets identity."""
    code, headers, body = await fetch(server + "/", Accept_Encoding=accept)
    assert code == 200 and one(headers, "Content-Encoding") is None
    check_page(body)
    code, headers, _ = await fetch(server + "/", Accept_Encoding="br, *;q=0.5")
    assert one(headers, "Content-Encoding") == "gzip"


@pytest_twisted.ensureDeferred
async def test_no_gzip_for_small_or_compressed_bodies(
    server: str, store: Store
) -> None:
    """
    A tiny JSON answer has Vary but goes as it is; an image (the favicon, an
    uploaded PNG) is compressed already: no coding, no Vary; an uploaded
    file keeps its strong ETag and byte ranges.
    """
    code, headers, body = await fetch(server + "/healthz", **GZIP)
    assert code == 200 and one(headers, "Content-Encoding") is None
    assert "Accept-Encoding" in (one(headers, "Vary") or "")
    assert json.loads(body)
    token = await token_for(store, "bea")
    posted = await fetch(
        server + "/upload/",
        "POST",
        multipart([("me.png", "image/png", PNG)]),
        Authorization=f"Bearer {token}",
        **FORM,
    )
    assert posted[0] == 201
    text = await stored_text(server, store)
    for url in (
        server + "/favicon.ico",
        server + f"/files/{hashlib.sha256(PNG).hexdigest()}",
        text,
    ):
        code, headers, body = await fetch(url, **GZIP)
        assert code == 200 and body, url
        assert one(headers, "Content-Encoding") is None, url
        assert "Accept-Encoding" not in (one(headers, "Vary") or ""), url
    code, headers, body = await fetch(text, Range="bytes=0-3", **GZIP)
    assert (code, body) == (206, b"some")
    assert (one(headers, "ETag") or "").startswith('"')


@pytest_twisted.ensureDeferred
async def test_head_says_what_get_would(server: str) -> None:
    """HEAD of a gzipped page: the same coding and Vary, and no body at all."""
    code, headers, body = await fetch(server + "/static/site.css", "HEAD", **GZIP)
    assert (code, body) == (200, b"")
    assert one(headers, "Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (one(headers, "Vary") or "")
    code, _, body = await fetch(server + "/static/site.css", **GZIP)
    assert code == 200 and gzip.decompress(body)


@pytest_twisted.ensureDeferred
async def test_favicon(server: str) -> None:
    """/favicon.ico is a real icon, cached like the static files."""
    code, headers, body = await fetch(server + "/favicon.ico")
    assert code == 200
    assert body[:4] == b"\x00\x00\x01\x00"
    assert one(headers, "Content-Type") == "image/vnd.microsoft.icon"
    assert one(headers, "Cache-Control") == "public, max-age=86400"
    etag = one(headers, "ETag")
    assert etag is not None
    code, _, body = await fetch(server + "/favicon.ico", If_None_Match=etag)
    assert (code, body) == (304, b"")


@pytest_twisted.ensureDeferred
async def test_options_on_a_page(server: str) -> None:
    """OPTIONS on a page: 204 with the methods it allows, not a 405."""
    for path, allowed in [
        ("/", "GET, HEAD, OPTIONS"),
        ("/people/", "GET, HEAD, OPTIONS"),
        ("/signup", "GET, HEAD, OPTIONS, POST"),
        ("/static/site.css", "GET, HEAD, OPTIONS"),
    ]:
        code, headers, body = await fetch(server + path, "OPTIONS")
        assert (code, body) == (204, b""), path
        assert one(headers, "Allow") == allowed, path
    code, _, _ = await fetch(server + "/no/such/page", "OPTIONS")
    assert code == 404


def assert_a_site_page(headers: Headers, body: bytes) -> None:
    """The pages' security headers, the site's navigation, no inline script."""
    policy = one(headers, "Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert one(headers, "X-Content-Type-Options") == "nosniff"
    assert one(headers, "Referrer-Policy") == "same-origin"
    tree: Any = check_page(body)
    nav = [a.get("href") for a in tree.findall(".//header//nav//a")]
    assert {"/", "/people/", "/live/", "/help/"} <= set(nav), nav
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", body), body
    assert not re.search(rb"<style|\sstyle=", body)


@pytest_twisted.ensureDeferred
async def test_upload_page_wears_the_layout(server: str) -> None:
    """/upload/: the security headers, the layout, its script a file of its own."""
    code, headers, body = await fetch(server + "/upload/")
    assert code == 200
    assert_a_site_page(headers, body)
    assert b'src="/upload/upload.js"' in body
    code, headers, script = await fetch(server + "/upload/upload.js")
    assert code == 200 and b"XMLHttpRequest" in script
    assert one(headers, "Content-Type") == "text/javascript; charset=utf-8"


@pytest_twisted.ensureDeferred
async def test_live_page_wears_the_layout(live_server: tuple[str, Any]) -> None:
    """/live/: the security headers, the layout, its list for the script."""
    server, _ = live_server
    code, headers, body = await fetch(server + "/live/")
    assert code == 200
    assert_a_site_page(headers, body)
    assert b'id="feed"' in body and b'src="/live/live.js"' in body
    code, _, _ = await fetch(server + "/live/live.js")
    assert code == 200


@pytest_twisted.ensureDeferred
async def test_json_rpc_browser_wears_the_layout(server: str) -> None:
    """
    /json/browse/: the security headers, the layout and its navigation, the
    browser's forms inside, its script and style sheet files beside it.
    """
    code, headers, body = await fetch(server + "/json/browse/")
    assert code == 200
    assert_a_site_page(headers, body)
    tree: Any = check_page(body)
    assert tree.findtext(".//main/h1") == "JSON-RPC service browser"
    methods = {f.get("data-method") for f in tree.iterfind(".//main//form")}
    assert {"julython.games", "system.listMethods"} <= methods
    assert b'src="browser.js"' in body and b'href="browser.css"' in body
    for name in ("browser.js", "browser.css"):
        code, _, _ = await fetch(server + "/json/browse/" + name)
        assert code == 200, name

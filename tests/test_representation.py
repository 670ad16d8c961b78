"""
The representation's rules without a reactor: which media types are
compressed, how Accept-Encoding is read, and how entity tags compare in
conditional requests.  (Over real HTTP: tests/pages/test_doors.py.)
"""

from __future__ import annotations

import pytest
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.errors import PreconditionFailed
from julytwisted.representation import (
    accepts_gzip,
    compressible,
    conditional,
    entity_tag,
    weak,
)


def request(method: bytes = b"GET", **headers: str) -> DummyRequest:
    made = DummyRequest([b""])
    made.method = method
    for name, value in headers.items():
        made.requestHeaders.addRawHeader(name.replace("_", "-"), value.encode())
    return made


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (b"text/html; charset=utf-8", True),
        (b"TEXT/CSS", True),
        (b"application/json", True),
        (b"application/openapi+json", True),
        (b"image/svg+xml", True),
        (b"image/png", False),
        (b"image/webp", False),
        (b"font/woff2", False),
        (b"application/octet-stream", False),
    ],
)
def test_compressible_types(kind: bytes, expected: bool) -> None:
    """Text is compressed; images, fonts and unknown bytes are not."""
    assert compressible(kind) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5, br", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("br, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=nonsense", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("identity", False),
        ("br", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, expected: bool) -> None:
    """gzip by name (or *) with a weight above 0; a weight of 0 refuses it."""
    assert accepts_gzip(request(Accept_Encoding=header)) is expected


def test_no_accept_encoding_is_identity() -> None:
    assert not accepts_gzip(request())


def test_entity_tags() -> None:
    """A strong tag is a quoted hash of the bytes; weak() prefixes W/ once."""
    tag = entity_tag(b"body")
    assert tag.startswith(b'"') and tag.endswith(b'"') and tag != entity_tag(b"other")
    assert weak(tag) == b"W/" + tag == weak(weak(tag))


def test_if_none_match_weak_list_and_star() -> None:
    """If-None-Match compares weakly, reads lists (commas inside tags too) and *."""
    tag = b'"a,b"'
    for header in ('"a,b"', 'W/"a,b"', '"x", W/"a,b"', "*", ' "x" ,"a,b" '):
        made = request(If_None_Match=header)
        assert conditional(made, tag), header
        assert made.responseCode == 304
        assert made.responseHeaders.getRawHeaders(b"etag") == [tag]
    assert not conditional(request(If_None_Match='"a"'), tag)


def test_if_none_match_on_a_change_is_412() -> None:
    """A request that would change the resource, naming it in If-None-Match."""
    with pytest.raises(PreconditionFailed):
        conditional(request(b"POST", If_None_Match="*"), b'"a"')


def test_if_match_is_strong() -> None:
    """If-Match: the current strong tag or *; a weak tag never matches."""
    assert not conditional(request(If_Match='"a"'), b'"a"')
    assert not conditional(request(If_Match="*"), b'"a"')
    for header in ('W/"a"', '"b"', ""):
        with pytest.raises(PreconditionFailed):
            conditional(request(If_Match=header), b'"a"')


def test_gzip_makes_the_tag_weak() -> None:
    """A text answer to a client accepting gzip carries its tag weak."""
    made = request(Accept_Encoding="gzip", If_None_Match='"a"')
    made.responseHeaders.setRawHeaders(b"content-type", [b"text/css"])
    assert conditional(made, b'"a"')
    assert made.responseHeaders.getRawHeaders(b"etag") == [b'W/"a"']
    ranged = request(Accept_Encoding="gzip")
    ranged.responseHeaders.setRawHeaders(b"content-type", [b"text/plain"])
    ranged.responseHeaders.setRawHeaders(b"accept-ranges", [b"bytes"])
    assert not conditional(ranged, b'"a"')
    assert ranged.responseHeaders.getRawHeaders(b"etag") == [b'"a"']

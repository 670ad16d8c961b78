"""
What the bytes of an upload are, and what a client may call them: pure
functions, tested without a reactor.
"""

from __future__ import annotations

import pytest

from julytwisted.upload._sniff import UNKNOWN, agrees, canonical, safe_filename, sniff
from tests.builders import PNG


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"  <!DOCTYPE html><p>", "text/html"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", "text/html"),
        (b"hello \xc3\xa9t\xc3", "text/plain"),
        (b"\x00\x01\x02", UNKNOWN),
        (b"\xff\xfe\xfd", UNKNOWN),
        (b"", UNKNOWN),
    ],
)
def test_sniff(head: bytes, expected: str) -> None:
    """Magic numbers name images and archives; markup and text are told apart."""
    assert sniff(head) == expected


def test_declared_type_must_agree() -> None:
    """
    An absent or generic declaration agrees with anything; otherwise the
    declared type must name what the bytes are, text/* standing for text.
    """
    assert agrees(None, "image/png")
    assert agrees("application/octet-stream", "text/plain")
    assert agrees("image/jpg", "image/jpeg")
    assert agrees("text/x-python; charset=utf-8", "text/plain")
    assert not agrees("text/plain", "image/png")
    assert not agrees("image/png", "text/html")
    assert not agrees("text/html", "text/plain")
    assert canonical(" Image/PNG ; q=1") == "image/png"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\me.png", "me.png"),
        (".htaccess", "htaccess"),
        ("a b<script>.png", "a_b_script_.png"),
        ("", "file"),
        (None, "file"),
        ("..", "file"),
        ("x" * 300, "x" * 100),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    """Only a last segment of safe characters is kept, never empty."""
    assert safe_filename(name) == expected

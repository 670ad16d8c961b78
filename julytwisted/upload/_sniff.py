# -*- test-case-name: tests.upload.test_sniff -*-
"""
What an uploaded file is, judged by its first bytes, and what a client may call
it: pure functions, no I/O.

The bytes decide a file's content type.  A type the client declares is only
checked against them: it may be absent or C{application/octet-stream}, or it
must agree with the bytes; a PNG declared as text or HTML declared as a PNG is
refused.
"""

from __future__ import annotations

import re
import unicodedata

#: How many leading bytes L{sniff} wants; fewer is fine for a shorter file.
SNIFF_BYTES = 512

#: The image types: served inline, accepted for avatars and screenshots.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

#: What L{sniff} answers when the bytes match nothing it knows.
UNKNOWN = "application/octet-stream"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)

#: Other names clients use for the types L{sniff} answers.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-gzip": "application/gzip",
    "application/x-zip-compressed": "application/zip",
}

#: Declared types that claim nothing about the bytes.
_UNSPECIFIED = ("", UNKNOWN, "binary/octet-stream")

#: Markup a browser would run if it ever rendered the file.
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml)", re.I)

_UNSAFE_NAME = re.compile(r"[^\w.+-]+")


def sniff(head: bytes) -> str:
    """
    @param head: the file's first L{SNIFF_BYTES} bytes, or all of a shorter
        file.
    @return: its content type: an image type, PDF, zip, gzip, C{text/html}
        for markup, C{text/plain} for other UTF-8 text, else L{UNKNOWN}.
    """
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _MARKUP.match(head):
        return "text/html"
    if head and _is_text(head):
        return "text/plain"
    return UNKNOWN


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        # A character cut at the end of the sample is still text.
        return e.start >= len(head) - 3 and e.reason == "unexpected end of data"
    return True


def canonical(declared: str | None) -> str:
    """@return: a declared content type lower-cased, without parameters."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(media, media)


def agrees(declared: str | None, sniffed: str) -> bool:
    """
    @param declared: the part's C{Content-Type}, as the client sent it.
    @param sniffed: what L{sniff} made of the bytes.
    @return: whether the declared type is unspecified or names the same
        thing; any C{text/*} but HTML agrees with plain text.
    """
    media = canonical(declared)
    if media in _UNSPECIFIED or media == sniffed:
        return True
    return (
        sniffed == "text/plain" and media.startswith("text/") and media != "text/html"
    )


def safe_filename(name: str | None) -> str:
    """
    A client's file name reduced to something safe to store and show: its
    last path segment, letters, digits, C{.}, C{_}, C{+} and C{-} only, no
    leading dot, at most 100 characters.  It never names a path on disk:
    files are stored under their SHA-256.

    @return: the cleaned name, or C{"file"} when nothing is left.
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    cleaned = _UNSAFE_NAME.sub("_", base).strip("._")
    return cleaned[:100] or "file"


__all__ = [
    "IMAGE_TYPES",
    "SNIFF_BYTES",
    "UNKNOWN",
    "agrees",
    "canonical",
    "safe_filename",
    "sniff",
]

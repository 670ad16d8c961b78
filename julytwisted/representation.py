# -*- test-case-name: tests.test_representation,tests.test_site -*-
"""
What every door says about the representation it sends: the headers of
every HTML page and the site's layout as other doors are handed it, the
entity tag and the conditional requests judged by it (RFC 9110 13), and
the content coding (gzip) chosen from C{Accept-Encoding}.

Compression is decided by the Site's request (L{CodingRequest}) just before
the headers go, from what the answer already says: its content type, its
length, its status.  Text (HTML, CSS, JavaScript, JSON, SVG) is gzipped for
a client that accepts it, from L{MIN_GZIP} bytes; every such answer, coded
or not, carries C{Vary: Accept-Encoding}.  Images and fonts are compressed
already and are sent as they are, as is an answer that offers byte ranges
(an uploaded file), whose ranges and strong entity tag name the stored bytes.

Entity tags: a resource gives the tag of its identity bytes; an answer
that may be gzipped carries it weak (C{W/"..."}), since the gzip bytes
depend on the zlib that made them and are not the identity bytes.
C{If-None-Match} compares weakly, as RFC 9110 13.1.2 says, so that C{W/"x"}
(what nginx sends on after gzipping) matches C{"x"}; C{If-Match} compares
strongly (13.1.1).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.web.iweb import IRequest
from twisted.web.server import Request

from julytwisted.errors import PreconditionFailed

#: The headers of every HTML page, whichever door sends it: no script,
#: style or frame from elsewhere, no inline script, no framing by others.
HTML_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Content-Type", b"text/html; charset=utf-8"),
    (b"X-Content-Type-Options", b"nosniff"),
    (
        b"Content-Security-Policy",
        b"default-src 'self'; frame-ancestors 'none'; "
        b"form-action 'self'; base-uri 'none'",
    ),
    (b"Referrer-Policy", b"same-origin"),
)


class Layout(Protocol):
    """
    Puts a page's content in the site's layout (header, navigation, footer)
    and sets the headers of the answer (L{HTML_HEADERS}, caching, a 304 for
    a client that has it): what the site hands the doors that are not its
    own pages (the live feed, uploads, the JSON-RPC browser).
    """

    def __call__(
        self,
        request: IRequest,
        title: str,
        content: Any,
        head: Sequence[Any] = (),
    ) -> Deferred[bytes]:
        """
        @param title: the page's title and first heading.
        @param content: what goes in C{<main>}: twisted.web.template tags.
        @param head: more tags for C{<head>}: the page's own scripts and
            style sheets.
        @return: the body to send, empty for a 304.
        """


# Entity tags and conditional requests

#: One entity-tag of a list: optionally weak, then a quoted opaque tag.
_TAG = re.compile(rb'(W/)?"[\x21\x23-\x7e\x80-\xff]*"')


def entity_tag(body: bytes) -> bytes:
    """@return: a strong entity tag of C{body}: a hash of its bytes, quoted."""
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def weak(etag: bytes) -> bytes:
    """@return: C{etag} as a weak tag."""
    return etag if etag.startswith(b"W/") else b"W/" + etag


def _listed(request: IRequest, name: bytes) -> list[bytes] | None:
    """
    @return: the entity tags a conditional header lists, C{[b"*"]} for
        C{*}, or L{None} when the request has no such header.
    """
    values = request.requestHeaders.getRawHeaders(name)
    if values is None:
        return None
    joined = b",".join(values)
    if joined.strip() == b"*":
        return [b"*"]
    return [found.group() for found in _TAG.finditer(joined)]


def _matches(tags: list[bytes], current: bytes, strong: bool) -> bool:
    if tags == [b"*"]:
        return True
    if strong:
        return not current.startswith(b"W/") and current in tags
    opaque = current.removeprefix(b"W/")
    return any(tag.removeprefix(b"W/") == opaque for tag in tags)


def conditional(request: IRequest, etag: bytes) -> bool:
    """
    Give the answer its entity tag and judge the request's preconditions by
    it, in RFC 9110's order (13.2.2): C{If-Match} first, strongly, then
    C{If-None-Match}, weakly.  Call it once the answer's content type is set
    (it decides whether the tag is weak).

    @param etag: the strong, quoted tag of the identity representation.
    @return: C{True} when the client has this representation: a GET or HEAD
        is now a 304, to be answered with no body.
    @raise PreconditionFailed: C{If-Match} names no current tag, or a
        request that is not a read names one of them in C{If-None-Match}.
    """
    current = weak(etag) if gzips(request) else etag
    request.setHeader(b"ETag", current)
    required = _listed(request, b"if-match")
    if required is not None and not _matches(required, current, strong=True):
        raise PreconditionFailed("the resource is not the version If-Match names")
    refused = _listed(request, b"if-none-match")
    if refused is None or not _matches(refused, current, strong=False):
        return False
    if request.method in (b"GET", b"HEAD"):
        request.setResponseCode(304)
        return True
    raise PreconditionFailed("the resource is a version If-None-Match names")


# Content coding

#: The smallest body worth gzipping, in bytes: below it, the gzip frame and
#: the compressor's start cost more than they save.
MIN_GZIP = 1024

_TEXT_TYPES = frozenset(
    {
        b"application/json",
        b"application/javascript",
        b"application/xml",
        b"image/svg+xml",
    }
)

_NO_BODY = frozenset({204, 304})


def compressible(content_type: bytes) -> bool:
    """@return: whether a body of this media type is text that gzip shrinks."""
    kind = content_type.partition(b";")[0].strip().lower()
    return (
        kind.startswith(b"text/")
        or kind in _TEXT_TYPES
        or kind.endswith((b"+json", b"+xml"))
    )


def negotiated(request: IRequest) -> bool:
    """
    @return: whether the answer's coding follows C{Accept-Encoding}: a text
        type, not coded already, and offering no byte ranges.
    """
    headers = request.responseHeaders
    kind = headers.getRawHeaders(b"content-type")
    return (
        kind is not None
        and compressible(kind[-1])
        and not headers.hasHeader(b"content-encoding")
        and not headers.hasHeader(b"accept-ranges")
    )


def accepts_gzip(request: IRequest) -> bool:
    """
    @return: whether the request's C{Accept-Encoding} accepts gzip: named
        (or C{x-gzip}, or C{*} when gzip is not named) with a weight above 0.
    """
    values = request.requestHeaders.getRawHeaders(b"accept-encoding")
    if not values:
        return False
    anything = False
    for item in b",".join(values).split(b","):
        name, _, parameters = item.partition(b";")
        name = name.strip().lower()
        if name in (b"gzip", b"x-gzip"):
            return _weight(parameters) > 0
        if name == b"*":
            anything = _weight(parameters) > 0
    return anything


def _weight(parameters: bytes) -> float:
    for parameter in parameters.split(b";"):
        key, _, value = parameter.partition(b"=")
        if key.strip().lower() == b"q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def gzips(request: IRequest) -> bool:
    """@return: whether the answer, once its type is set, may go gzipped."""
    return negotiated(request) and accepts_gzip(request)


def _vary(request: IRequest, name: bytes) -> None:
    """Add C{name} to the answer's C{Vary}, keeping what it names already."""
    present = request.responseHeaders.getRawHeaders(b"vary") or []
    names = [n.strip().lower() for value in present for n in value.split(b",")]
    if name.lower() not in names and b"*" not in names:
        request.setHeader(b"Vary", b", ".join([*present, name]))


def _length(request: IRequest) -> int | None:
    declared = request.responseHeaders.getRawHeaders(b"content-length")
    if not declared:
        return None
    try:
        return int(declared[0])
    except ValueError:
        return None


class CodingRequest(Request):
    """
    A request whose answer is gzipped when that pays: decided at its first
    write, from its headers; a first write of unknown length and under
    L{MIN_GZIP} is held until the next write or the finish shows the size.
    """

    _decided = False
    _held: bytes | None = None
    _gzip: Any = None

    def write(self, data: bytes) -> None:
        if not self._decided:
            if self._held is not None:
                data, self._held = self._held + data, None
            if self._decide(len(data)):
                self._held = data
                return
        if self._gzip is not None:
            data = self._gzip.compress(data)
            if not data:
                return
        Request.write(self, data)

    def finish(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._decided = True
            self.setHeader(b"Content-Length", b"%d" % len(held))
            Request.write(self, held)
        coder, self._gzip = self._gzip, None
        if coder is not None:
            tail = coder.flush()
            if self.method != b"HEAD":
                Request.write(self, tail)
        Request.finish(self)

    def _decide(self, size: int) -> bool:
        """
        Choose the coding of the answer, its first C{size} bytes in hand.

        @return: C{True} to hold those bytes: too few to tell yet.
        """
        code = self.code
        if code < 200 or not negotiated(self):
            self._decided = True
            return False
        _vary(self, b"Accept-Encoding")
        if code in _NO_BODY or not accepts_gzip(self):
            self._decided = True
            return False
        length = _length(self)
        if length is None and size < MIN_GZIP and self.method != b"HEAD":
            return True
        self._decided = True
        if length is not None and length < MIN_GZIP:
            return False
        self.setHeader(b"Content-Encoding", b"gzip")
        self.responseHeaders.removeHeader(b"content-length")
        etag = self.responseHeaders.getRawHeaders(b"etag")
        if etag:
            self.setHeader(b"ETag", weak(etag[0]))
        if self.method != b"HEAD":
            self._gzip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return False


__all__ = [
    "HTML_HEADERS",
    "MIN_GZIP",
    "CodingRequest",
    "Layout",
    "accepts_gzip",
    "compressible",
    "conditional",
    "entity_tag",
    "gzips",
    "negotiated",
    "weak",
]

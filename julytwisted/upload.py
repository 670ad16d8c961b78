# -*- test-case-name: tests.test_upload -*-
"""
Uploads at C{/upload/} and the files they store, at C{/files/<sha256>}.

A C{POST /upload/} body is never buffered: the Site hands each chunk, as it
arrives, to an L{UploadStream}, which parses the C{multipart/form-data} with
C{multipart.PushMultipartParser}, hashes and writes every C{file} part to a
temporary file (L{julytwisted._files}), and checks each limit while it goes.
A limit passed, a bad type or a malformed body is answered at once with a
JSON error, and the partial files are removed.  Once the body is whole and
the sender known, the metadata goes to Redis through the store and the files
are renamed into place; L{UploadResource} answers 201.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from multipart import (
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
    parse_options_header,
)
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import static
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

from julytwisted._files import FileStore, PartialFile, valid_digest
from julytwisted._sniff import IMAGE_TYPES, SNIFF_BYTES, agrees, safe_filename, sniff
from julytwisted._upload_page import FORM_PAGE
from julytwisted.errors import (
    InvalidInput,
    JulythonError,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from julytwisted.site import LimitedRequest
from julytwisted.store import Store

log = Logger()

#: Who sent a request: the player's username, or L{None} when the request
#: proves no player.  It may raise L{julytwisted.errors.Forbidden}.  API
#: tokens now; a web session can be tried first later, in the same shape.
Identify = Callable[[IRequest], Awaitable[str | None]]

#: The kinds of upload, as the form's C{kind} field names them; C{file} when
#: the field is absent.
KINDS = ("avatar", "screenshot", "file")

#: The longest value of a form field other than C{file}.
MAX_FIELD = 1024

#: Form fields other than files a body may carry, unknown ones included.
MAX_FIELDS = 16

MiB = 1024 * 1024

_ANONYMOUS = "uploads need a player: send Authorization: Bearer YOUR-API-TOKEN"


@attrs.frozen
class UploadLimits:
    """
    What one upload may be.

    @ivar types: the content types, as the bytes show them, that each kind
        accepts.
    @ivar max_file: the largest file, in bytes.
    @ivar max_parts: the most files in one body.
    @ivar quota: the bytes of distinct files one player may store.
    """

    types: Mapping[str, tuple[str, ...]]
    max_file: int = 20 * MiB
    max_parts: int = 10
    quota: int = 200 * MiB


@attrs.define
class _Part:
    """A file part: where it is written, what the client called it."""

    file: PartialFile
    filename: str
    declared: str | None
    head: bytes = b""
    content_type: str | None = None


def _refusal(error: JulythonError) -> tuple[int, str, list[tuple[bytes, bytes]]]:
    headers = []
    if isinstance(error, Unauthorized):
        headers.append((b"WWW-Authenticate", b'Bearer realm="julython"'))
    return error.status, error.message, headers


class UploadStream:
    """
    One upload's body, parsed and stored as it arrives.  Made by
    L{Uploads.stream} once a request's headers are in.
    """

    def __init__(
        self,
        uploads: Uploads,
        request: LimitedRequest,
        boundary: str,
        player: Deferred[str | None],
    ) -> None:
        self._uploads = uploads
        self._limits = uploads.limits
        self._request = request
        self._parser = PushMultipartParser(
            boundary,
            max_segment_count=self._limits.max_parts + MAX_FIELDS,
            strict=True,
        )
        self._parts: list[_Part] = []
        self._fields: dict[str, str] = {}
        self._current: _Part | bytearray | None = None
        self._field_name = ""
        self._received = 0
        self._allowance: int | None = None
        self._failed = False
        self._ended = False
        self._error: JulythonError | None = None
        self.player = player
        player.addCallbacks(self._identified, self._not_identified)

    # Who is sending

    def _identified(self, username: str | None) -> str | None:
        if username is None:
            self._fail(Unauthorized(_ANONYMOUS))
            return None
        if not self._failed:
            usage = self._uploads.store.upload_usage(username)
            usage.addCallbacks(self._usage, self._not_identified)
        return username

    def _usage(self, used: int) -> None:
        self._allowance = self._limits.quota - used
        self._check_quota()

    def _not_identified(self, failure: Failure) -> None:
        if failure.check(JulythonError):
            assert isinstance(failure.value, JulythonError)
            self._fail(failure.value)
        else:
            log.failure("identifying an upload's sender", failure)
            self._fail(JulythonError("internal server error"))

    def _check_quota(self) -> None:
        if self._ended:
            # The store checks the quota again, atomically, when it records.
            return
        if self._allowance is not None and self._received > self._allowance:
            self._fail(
                PayloadTooLarge(f"over your upload quota of {self._limits.quota} bytes")
            )

    # The body

    def write(self, data: bytes) -> None:
        if self._failed:
            return
        try:
            for event in self._parser.parse(data):
                self._event(event)
                if self._failed:
                    return
        except MultipartError as e:
            self._fail(InvalidInput(f"malformed multipart body: {e}"))
        except JulythonError as e:
            self._fail(e)

    def _event(self, event: MultipartSegment | bytes | None) -> None:
        if isinstance(event, MultipartSegment):
            self._begin(event)
        elif event is None:
            self._finish_part()
        elif isinstance(self._current, _Part):
            self._file_data(self._current, event)
        elif isinstance(self._current, bytearray):
            if len(self._current) + len(event) > MAX_FIELD:
                raise InvalidInput(f"field {self._field_name!r} is too long")
            self._current += event

    def _begin(self, segment: MultipartSegment) -> None:
        for name, value in segment.headerlist:
            if "\n" in name or "\n" in value:
                raise InvalidInput("malformed multipart body: a bare LF in a header")
        if segment.disposition != "form-data" or segment.name is None:
            raise InvalidInput("malformed multipart body: a part is not form-data")
        if segment.name != "file":
            if len(self._fields) >= MAX_FIELDS:
                raise InvalidInput("too many form fields")
            self._field_name = segment.name or ""
            self._current = bytearray()
            return
        if len(self._parts) >= self._limits.max_parts:
            raise PayloadTooLarge(
                f"more than {self._limits.max_parts} files in one upload"
            )
        part = _Part(
            self._uploads.files.begin(),
            safe_filename(segment.filename),
            segment.content_type,
        )
        self._parts.append(part)
        self._current = part

    def _file_data(self, part: _Part, data: bytes) -> None:
        if part.file.size + len(data) > self._limits.max_file:
            raise PayloadTooLarge(
                f"{part.filename} is over the limit of {self._limits.max_file} "
                "bytes a file"
            )
        self._received += len(data)
        self._check_quota()
        if part.content_type is None:
            part.head += data[: SNIFF_BYTES - len(part.head)]
            if len(part.head) >= SNIFF_BYTES:
                self._judge(part)
        part.file.write(data)

    def _judge(self, part: _Part) -> None:
        sniffed = sniff(part.head)
        if not agrees(part.declared, sniffed):
            raise UnsupportedMediaType(
                f"{part.filename} is declared {part.declared} but its content "
                f"is {sniffed}"
            )
        self._check_type(part.filename, sniffed, self._fields.get("kind", "file"))
        part.content_type = sniffed

    def _check_type(self, filename: str, content_type: str, kind: str) -> None:
        allowed = self._limits.types.get(kind, ())
        if content_type not in allowed and "*" not in allowed:
            raise UnsupportedMediaType(
                f"{filename} is {content_type}; a {kind} may be "
                f"{', '.join(allowed) or 'nothing'}"
            )

    def _finish_part(self) -> None:
        current, self._current = self._current, None
        if isinstance(current, _Part):
            if not current.file.size:
                raise InvalidInput(f"{current.filename} is empty (or no file chosen)")
            if current.content_type is None:
                self._judge(current)
            current.file.close()
        elif current is not None:
            try:
                value = current.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise InvalidInput(f"field {self._field_name!r} is not UTF-8") from None
            if self._field_name == "kind" and value not in KINDS:
                raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
            self._fields[self._field_name] = value

    def end(self) -> None:
        if self._failed:
            return
        self._ended = True
        try:
            self._parser.close()
        except MultipartError as e:
            self._fail(InvalidInput(f"malformed multipart body: {e}"))

    def abort(self) -> None:
        if self._ended and not self._failed:
            return
        self._failed = True
        for part in self._parts:
            part.file.discard()

    def _fail(self, error: JulythonError) -> None:
        """
        Refuse the upload: at once while its body is arriving; once it is in,
        through L{store}, which the resource is waiting on.
        """
        if self._failed:
            return
        self._error = error
        ended = self._ended
        self._ended = False
        self.abort()
        if not ended:
            status, message, headers = _refusal(error)
            self._request.refuse(status, message, headers, linger=True)

    # Once the body is whole

    async def store(self) -> list[dict[str, Any]]:
        """
        Record the upload in Redis and move its files into place.

        @return: each file's C{sha256}, C{size}, C{content_type} and C{url}.
        @raise JulythonError: when the upload as a whole is refused: no file,
            a bad kind or project, over the quota.
        """
        try:
            username = await self.player
            if self._error is not None:
                raise self._error
            assert username is not None
            uploads = self._uploads_request()
            stored = await self._uploads.store.record_uploads(
                username, uploads, self._limits.quota
            )
            for part in self._parts:
                part.file.commit()
            return stored
        finally:
            for part in self._parts:
                part.file.discard()

    def _uploads_request(self) -> list[dict[str, Any]]:
        kind = self._fields.get("kind") or "file"
        project = self._fields.get("project") or ""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        if not self._parts:
            raise InvalidInput("send at least one part named file")
        if kind == "avatar" and len(self._parts) != 1:
            raise InvalidInput("an avatar is one file")
        if kind == "screenshot" and not project:
            raise InvalidInput("a screenshot needs the project's slug")
        uploads = []
        for part in self._parts:
            assert part.content_type is not None and part.file.digest
            self._check_type(part.filename, part.content_type, kind)
            uploads.append(
                {
                    "sha256": part.file.digest,
                    "size": part.file.size,
                    "content_type": part.content_type,
                    "filename": part.filename,
                    "kind": kind,
                    "project": project,
                }
            )
        return uploads


def _boundary(request: IRequest) -> str:
    """
    @return: the multipart boundary of the request's C{Content-Type}.
    @raise JulythonError: when it is not C{multipart/form-data} with one.
    """
    value = (request.getHeader(b"content-type") or b"").decode("latin-1")
    media, options = parse_options_header(value)
    if media != "multipart/form-data":
        raise UnsupportedMediaType("send multipart/form-data")
    boundary = options.get("boundary", "")
    if not boundary or len(boundary) > 70:
        raise InvalidInput("the multipart boundary is missing or too long")
    return str(boundary)


class Uploads:
    """
    The upload service: the Site's stream factory for C{/upload/}, and the
    resources that answer uploads and serve files.
    """

    def __init__(
        self, store: Store, files: FileStore, identify: Identify, limits: UploadLimits
    ) -> None:
        self.store = store
        self.files = files
        self.identify = identify
        self.limits = limits

    def stream(
        self, request: LimitedRequest, method: bytes, path: bytes, length: int | None
    ) -> UploadStream | None:
        """
        A L{julytwisted.site.StreamFactory}: the body of a C{POST} to
        C{/upload/} goes to a new L{UploadStream}.  Refused at once, before
        reading any of the body: no credentials (401), not multipart (415).
        """
        if method != b"POST" or path.split(b"?")[0] not in (b"/upload", b"/upload/"):
            return None
        player = Deferred.fromCoroutine(_ask(self.identify, request))
        if player.called:
            # No credentials at all, or an answer needing no I/O: refuse now.
            known: list[str | Failure | None] = []
            player.addBoth(known.append)
            if isinstance(known[0], Failure):
                error = known[0].value
                if not isinstance(error, JulythonError):
                    log.failure("identifying an upload's sender", known[0])
                    error = JulythonError("internal server error")
                request.refuse(*_refusal(error))
                return None
            if known[0] is None:
                request.refuse(*_refusal(Unauthorized(_ANONYMOUS)))
                return None
            player = succeed(known[0])
        try:
            boundary = _boundary(request)
        except JulythonError as error:
            request.refuse(*_refusal(error))
            return None
        stream = UploadStream(self, request, boundary, player)
        return stream

    def resources(self) -> dict[bytes, IResource]:
        """@return: the resources to mount at the root, by name."""
        return {b"upload": UploadResource(), b"files": FilesResource(self)}


async def _ask(identify: Identify, request: IRequest) -> str | None:
    return await identify(request)


def _json(request: IRequest, status: int, body: object) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
    request.setHeader(b"X-Content-Type-Options", b"nosniff")
    request.setHeader(b"Access-Control-Allow-Origin", b"*")
    request.setHeader(b"Cache-Control", b"no-store")
    return json.dumps(body).encode()


def _answer_error(request: IRequest, failure: Failure) -> None:
    if failure.check(JulythonError):
        error = failure.value
        assert isinstance(error, JulythonError)
        status, message, headers = _refusal(error)
        for name, value in headers:
            request.setHeader(name, value)
        body = _json(request, status, {"error": message})
    else:
        log.failure("answering {uri}", failure, uri=request.uri)
        body = _json(request, 500, {"error": "internal server error"})
    _send(request, body)


def _send(request: IRequest, body: bytes) -> None:
    if not getattr(request, "_disconnected", False):
        request.write(body)
        request.finish()


class UploadResource(Resource):
    """C{/upload/}: the form, and the answer to an upload once its body is in."""

    isLeaf = True

    def render_GET(self, request: IRequest) -> bytes:
        if request.postpath not in ([], [b""]):
            return _json(request, 404, {"error": "not found"})
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        return FORM_PAGE

    def render_POST(self, request: IRequest) -> bytes | int:
        stream = getattr(request, "stream", None)
        if not isinstance(stream, UploadStream):
            return _json(request, 404, {"error": "not found"})
        d = Deferred.fromCoroutine(stream.store())
        d.addCallback(lambda stored: _send(request, _json(request, 201, stored)))
        d.addErrback(lambda failure: _answer_error(request, failure))
        return NOT_DONE_YET


class FilesResource(Resource):
    """C{/files/<sha256>}: a stored file, with its stored content type."""

    def __init__(self, uploads: Uploads) -> None:
        Resource.__init__(self)
        self._uploads = uploads

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        name = path.decode("ascii", "replace")
        if request.postpath or not valid_digest(name):
            return _NotFound()
        return StoredFile(self._uploads, name)

    def render_GET(self, request: IRequest) -> bytes:
        return _json(request, 404, {"error": "name a file by its SHA-256"})


class _NotFound(Resource):
    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        return _json(request, 404, {"error": "no such file"})


class StoredFile(Resource):
    """
    One stored file: its content type as stored, a strong ETag (its
    SHA-256), C{Range} requests (twisted.web's L{static.File}), C{nosniff},
    and C{Content-Disposition: attachment} for anything but an image.
    """

    isLeaf = True

    def __init__(self, uploads: Uploads, digest: str) -> None:
        Resource.__init__(self)
        self._uploads = uploads
        self._digest = digest

    def render_GET(self, request: IRequest) -> int:
        d = self._uploads.store.file_info(self._digest)
        d.addCallback(lambda info: self._serve(request, info))
        d.addErrback(lambda failure: _answer_error(request, failure))
        return NOT_DONE_YET

    render_HEAD = render_GET

    def _serve(self, request: IRequest, info: dict[str, Any]) -> None:
        path = self._uploads.files.path(self._digest)
        if not path.exists():
            raise NotFound(f"no file {self._digest}")
        content_type = info["content_type"]
        etag = f'"{self._digest}"'.encode()
        if_range = request.getHeader(b"if-range")
        if if_range is not None and if_range != etag:
            request.requestHeaders.removeHeader(b"range")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"public, max-age=31536000, immutable")
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        if content_type not in IMAGE_TYPES:
            request.setHeader(b"Content-Disposition", b"attachment")
            request.setHeader(b"Content-Security-Policy", b"sandbox")
        if request.setETag(etag):
            # A matching If-None-Match: setETag has made the answer a 304.
            _send(request, b"")
            return
        resource = static.File(str(path), defaultType=content_type)
        resource.contentTypes = {}
        body = resource.render(request)
        if body is not NOT_DONE_YET:
            _send(request, body)


__all__ = [
    "KINDS",
    "FilesResource",
    "Identify",
    "StoredFile",
    "UploadLimits",
    "UploadResource",
    "UploadStream",
    "Uploads",
]

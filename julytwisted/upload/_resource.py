# -*- test-case-name: tests.upload.test_upload -*-
"""
Uploads at C{/upload/} and the files they store, at C{/files/<sha256>}.

A C{POST /upload/} body is never buffered: the Site hands each chunk, as it
arrives, to an L{UploadStream} (L{julytwisted._upload_stream}), which parses
the C{multipart/form-data} with C{multipart.PushMultipartParser}, hashes and
writes every C{file} part to a temporary file (L{julytwisted._files}), and
checks each limit while it goes.
A limit passed, a bad type or a malformed body is answered at once with a
JSON error, and the partial files are removed.  Once the body is whole and
the sender known, the metadata goes to Redis through the store and the files
are renamed into place; L{UploadResource} answers 201.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import static
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

from julytwisted._compat import is_disconnected
from julytwisted.errors import JulythonError, NotFound, Unauthorized
from julytwisted.http_errors import (
    JSON_HEADERS,
    internal_error,
    json_bytes,
    json_error,
)
from julytwisted.models import FileInfo, UploadedFile, to_json
from julytwisted.representation import Layout, conditional
from julytwisted.site import LimitedRequest
from julytwisted.store import Store
from julytwisted.upload import _page
from julytwisted.upload._files import FileStore, valid_digest
from julytwisted.upload._sniff import IMAGE_TYPES
from julytwisted.upload._stream import (
    ANONYMOUS,
    KINDS,
    UploadLimits,
    UploadStream,
    boundary,
)

log = Logger()

#: Who sent a request: the player's username, or L{None} when the request
#: proves no player.  It may raise L{julytwisted.errors.Forbidden}.  API
#: tokens now; a web session can be tried first later, in the same shape.
Identify = Callable[[IRequest], Awaitable[str | None]]


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
                    error = internal_error()
                request.refuse(error)
                return None
            if known[0] is None:
                request.refuse(Unauthorized(ANONYMOUS))
                return None
            player = succeed(known[0])
        try:
            multipart_boundary = boundary(request)
        except JulythonError as error:
            request.refuse(error)
            return None
        return UploadStream(
            request, multipart_boundary, player, self.files, self.store, self.limits
        )

    def resources(self, layout: Layout) -> dict[bytes, IResource]:
        """
        @param layout: the site's layout, which the form's page wears.
        @return: the resources to mount at the root, by name.
        """
        return {b"upload": UploadResource(layout), b"files": FilesResource(self)}


async def _ask(identify: Identify, request: IRequest) -> str | None:
    return await identify(request)


def _stored(
    request: IRequest, stream: UploadStream, stored: list[UploadedFile]
) -> bytes:
    """
    201 with the stored files; or, for a page's form that names a local
    C{next} page, 303 there (a browser without JavaScript lands on a page).
    A C{next} that is not a path of this site is not followed: the files
    are stored all the same, and answered with 201.
    """
    after = stream.fields.get("next", "")
    if _page.local_path(after):
        request.setResponseCode(303)
        request.setHeader(b"Location", after.encode("utf-8"))
        request.setHeader(b"Cache-Control", b"no-store")
        return b""
    request.setResponseCode(201)
    for name, value in JSON_HEADERS:
        request.setHeader(name, value)
    return json_bytes(to_json(stored))


def _answer_error(request: IRequest, failure: Failure) -> None:
    error = failure.value
    if not isinstance(error, JulythonError):
        log.failure("answering {uri}", failure, uri=request.uri)
        error = internal_error()
    _send(request, json_error(request, error))


def _send(request: IRequest, body: bytes) -> None:
    if not is_disconnected(request):
        request.write(body)
        request.finish()


class UploadResource(Resource):
    """
    C{/upload/}: the form in the site's layout, its script, and the answer
    to an upload once its body is in.
    """

    isLeaf = True

    def __init__(self, layout: Layout) -> None:
        Resource.__init__(self)
        self._layout = layout

    def render_GET(self, request: IRequest) -> bytes | int:
        if request.postpath == [b"upload.js"]:
            return _script(request)
        if request.postpath not in ([], [b""]):
            return json_error(request, NotFound("not found"))
        d = self._layout(request, _page.TITLE, _page.content(), _page.head())
        d.addCallback(lambda body: _send(request, body))
        d.addErrback(lambda failure: _answer_error(request, failure))
        return NOT_DONE_YET

    def render_OPTIONS(self, request: IRequest) -> bytes:
        """The CORS preflight of a script on another origin."""
        request.setResponseCode(204)
        request.setHeader(b"Allow", b"GET, POST, OPTIONS")
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        request.setHeader(b"Access-Control-Allow-Methods", b"POST")
        request.setHeader(
            b"Access-Control-Allow-Headers", b"Authorization, Content-Type"
        )
        request.setHeader(b"Access-Control-Max-Age", b"86400")
        return b""

    def render_POST(self, request: IRequest) -> bytes | int:
        stream = getattr(request, "stream", None)
        if not isinstance(stream, UploadStream):
            return json_error(request, NotFound("not found"))
        d = Deferred.fromCoroutine(stream.store())
        d.addCallback(lambda stored: _send(request, _stored(request, stream, stored)))
        d.addErrback(lambda failure: _answer_error(request, failure))
        return NOT_DONE_YET


def _script(request: IRequest) -> bytes:
    request.setHeader(b"Content-Type", _page.SCRIPT_TYPE)
    request.setHeader(b"X-Content-Type-Options", b"nosniff")
    request.setHeader(b"Cache-Control", b"public, max-age=86400")
    try:
        if conditional(request, _page.SCRIPT_ETAG):
            return b""
    except JulythonError as error:
        return json_error(request, error)
    return _page.SCRIPT


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
        return json_error(request, NotFound("name a file by its SHA-256"))


class _NotFound(Resource):
    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        return json_error(request, NotFound("no such file"))


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
        d = Deferred.fromCoroutine(self._uploads.store.file_info(self._digest))
        d.addCallback(lambda info: self._serve(request, info))
        d.addErrback(lambda failure: _answer_error(request, failure))
        return NOT_DONE_YET

    render_HEAD = render_GET

    def _serve(self, request: IRequest, info: FileInfo) -> None:
        path = self._uploads.files.path(self._digest)
        if not path.exists():
            raise NotFound(f"no file {self._digest}")
        content_type = info.content_type
        etag = f'"{self._digest}"'.encode()
        if_range = request.getHeader(b"if-range")
        if if_range is not None and if_range != etag:
            request.requestHeaders.removeHeader(b"range")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"public, max-age=31536000, immutable")
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        # Its ranges and strong tag name the stored bytes: never gzipped.
        request.setHeader(b"Accept-Ranges", b"bytes")
        if content_type not in IMAGE_TYPES:
            request.setHeader(b"Content-Disposition", b"attachment")
            request.setHeader(b"Content-Security-Policy", b"sandbox")
        if conditional(request, etag):
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

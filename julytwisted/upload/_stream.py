# -*- test-case-name: tests.upload.test_upload -*-
"""
One upload's body as it arrives: L{UploadStream} feeds each chunk to
C{multipart.PushMultipartParser}, writes and hashes each C{file} part into
the file store, judges its type by its first bytes, and refuses the upload
(through the request) as soon as a limit is passed.  L{julytwisted.upload}
makes one per C{POST /upload/} and answers once its body is whole.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from multipart import (
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
    parse_options_header,
)
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from julytwisted.errors import (
    InvalidInput,
    JulythonError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from julytwisted.http_errors import internal_error
from julytwisted.models import NewFile, UploadedFile
from julytwisted.site import LimitedRequest
from julytwisted.store import Store
from julytwisted.upload._files import FileStore, PartialFile
from julytwisted.upload._sniff import SNIFF_BYTES, agrees, safe_filename, sniff

log = Logger()

#: The kinds of upload, as the form's C{kind} field names them; C{file} when
#: the field is absent.
KINDS = ("avatar", "screenshot", "file")


def _article(word: str) -> str:
    """@return: "an" before a vowel, else "a" (the kinds are plain words)."""
    return "an" if word[:1] in "aeiou" else "a"


#: The longest value of a form field other than C{file}.
MAX_FIELD = 1024

#: Form fields other than files a body may carry, unknown ones included.
MAX_FIELDS = 16

MiB = 1024 * 1024

ANONYMOUS = "uploads need a player: send Authorization: Bearer YOUR-API-TOKEN"


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


class UploadStream:
    """
    One upload's body, parsed and stored as it arrives: a
    L{julytwisted.site.BodyStream}, made once the request's headers are in.
    """

    def __init__(
        self,
        request: LimitedRequest,
        boundary: str,
        player: Deferred[str | None],
        files: FileStore,
        store: Store,
        limits: UploadLimits,
    ) -> None:
        """
        @param request: the request whose body this is; refused through it.
        @param boundary: the body's multipart boundary.
        @param player: fires with the sender's username, or L{None} for no
            player.
        @param files: where the files go.
        @param store: where their metadata goes.
        @param limits: what the upload may be.
        """
        self._files = files
        self._store = store
        self._limits = limits
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
            self._fail(Unauthorized(ANONYMOUS))
            return None
        if not self._failed:
            usage = Deferred.fromCoroutine(self._store.upload_usage(username))
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
            self._fail(internal_error())

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
        except OSError:
            # The disk is full, say: the client can only be told to retry.
            log.failure("writing an upload under {root}", root=self._files.root)
            self._fail(JulythonError("the server could not store the file"))

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
            self._files.begin(),
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
                f"{filename} is {content_type}; {_article(kind)} {kind} may be "
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
        if self._ended and self._error is None:
            # The body is whole: the files are L{store}'s to keep or remove.
            return
        self._discard()

    def _discard(self) -> None:
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
        self._discard()
        if not self._ended:
            self._request.refuse(error, linger=True)

    # Once the body is whole

    @property
    def fields(self) -> dict[str, str]:
        """The form's fields other than files, as far as they have come."""
        return dict(self._fields)

    async def store(self) -> list[UploadedFile]:
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
            stored = await self._store.record_uploads(
                username, uploads, self._limits.quota
            )
            for part in self._parts:
                part.file.commit()
            return stored
        finally:
            for part in self._parts:
                part.file.discard()

    def _uploads_request(self) -> list[NewFile]:
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
                NewFile(
                    sha256=part.file.digest,
                    size=part.file.size,
                    content_type=part.content_type,
                    filename=part.filename,
                    kind=kind,
                    project=project,
                )
            )
        return uploads


def boundary(request: IRequest) -> str:
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


__all__ = [
    "ANONYMOUS",
    "KINDS",
    "MAX_FIELD",
    "MAX_FIELDS",
    "UploadLimits",
    "UploadStream",
    "boundary",
]

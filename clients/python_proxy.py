#!/usr/bin/env python3
# -*- test-case-name: tests.test_python_proxy,tests.test_python_proxy_shell -*-
"""
A JSON-RPC 1.0, 1.1 and 2.0 client for Twisted, in one file that needs only
treq (and crochet for the blocking parts): copy it into any project.

    proxy = Proxy("http://127.0.0.1:8080/json/", auth=("ada", "correct horse"))
    board = await proxy.julython.leaders(board="people")     # a Deferred
    await proxy.notify.julython.setLocation("Austin")        # fires None
    ada = await proxy.get.julython.player(username="ada")    # by HTTP GET
    batch = proxy.batch()                                    # one request:
    games, ada = batch.julython.games(), batch.julython.player("ada")
    await batch.send()

    s = ServiceProxy("http://127.0.0.1:8080/json/")           # blocking
    s.julython.player("ada")  # {"result": {...}, "error": None, "id": 1, ...}

    s = ServiceProxy(URL, auth=TOKEN)                         # a file, streamed
    s.upload("/upload/", "me.png", kind="avatar")  # a progress bar, then [{...}]

Failures are L{ProxyError}s: L{JSONRPCError} (the server's error object),
L{HTTPError}, L{ProtocolError} (not JSON-RPC), L{TransportError} and
L{RequestTimeout}.  Run it as C{python python_proxy.py URL} for a shell,
with C{--call METHOD ARGS...} for one call printed as JSON, or with
C{--upload PATH} to send a file to julytwisted's C{/upload/}.
"""

from __future__ import annotations

import abc
import argparse
import base64
import builtins
import code
import itertools
import json
import mimetypes
import os
import pprint
import secrets
import select
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.interfaces import IConsumer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import CooperativeTask, cooperate
from twisted.python.failure import Failure
from twisted.web._newclient import RequestNotSent
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    RequestTransmissionFailed,
    ResponseDone,
    ResponseNeverReceived,
)
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import IBodyProducer, IResponse
from zope.interface import implementer

__all__ = [
    "VERSIONS",
    "Batch",
    "Completer",
    "Console",
    "HTTPError",
    "Help",
    "JSONRPCError",
    "MultipartFile",
    "Progress",
    "ProgressBar",
    "ProtocolError",
    "Proxy",
    "ProxyError",
    "RequestTimeout",
    "ServiceProxy",
    "TransportError",
    "call_once",
    "decode_answer",
    "describe_method",
    "display",
    "error_from",
    "get_url",
    "list_methods",
    "main",
    "request_object",
    "result_of",
    "shell",
    "upload_once",
]

__version__ = "1.0"

VERSIONS = ("1.0", "1.1", "2.0")


# Errors: every failure this client raises is a ProxyError.


class ProxyError(Exception):
    """The root of every error this client raises."""


class JSONRPCError(ProxyError):
    """
    The server answered the call with an error object.

    @ivar code: the error's code (L{None} when a 1.0 server sent no object).
    @ivar message: its message.
    @ivar data: its C{data} (C{error} in 1.1), or L{None}.
    """

    def __init__(self, code: int | None, message: str, data: Any = None) -> None:
        self.code, self.message, self.data = code, message, data
        super().__init__(f"{code}: {message}")


class HTTPError(ProxyError):
    """An HTTP status other than 2xx, and no JSON-RPC answer in the body."""

    def __init__(self, url: str, status: int, body: bytes) -> None:
        self.url, self.status, self.body = url, status, body
        super().__init__(f"{url} answered HTTP {status}, not JSON-RPC")


class ProtocolError(ProxyError, ValueError):
    """A 2xx answer that is not the JSON-RPC answer the request asked for."""

    def __init__(self, url: str, problem: str, body: bytes = b"") -> None:
        self.url, self.problem, self.body = url, problem, body
        shown = f"; it began {body[:60]!r}" if body else ""
        super().__init__(f"{url}: {problem}{shown}")


class TransportError(ProxyError, ConnectionError):
    """
    No answer came: the connection failed or broke.

    @ivar reason: the exception of Twisted's that says why.
    """

    def __init__(self, url: str, reason: BaseException) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"cannot reach {url}: {_describe(reason)}")


class RequestTimeout(TransportError, TimeoutError):
    """No whole answer came within the proxy's C{timeout}."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.reason = CancelledError()
        ProxyError.__init__(self, f"{url} did not answer within {timeout:g} s")


def _describe(reason: BaseException) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, DNSLookupError):
        return "unknown host"
    inner = getattr(reason, "reasons", None)
    if inner:
        return f"{type(reason).__name__} ({_describe(inner[0].value)})"
    return str(reason) or type(reason).__name__


# Transport: JSON-RPC request and answer objects, over HTTP.


def request_object(
    version: str,
    method: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    id: object = None,
    notify: bool = False,
) -> dict[str, Any]:
    """
    @return: the request object of C{version} calling C{method}.
    @raise TypeError: params by position and by name, or by name in 1.0.
    """
    if args and kwargs:
        raise TypeError("give params by position or by name, not both")
    if kwargs and version == "1.0":
        raise TypeError("JSON-RPC 1.0 has no named params")
    obj: dict[str, Any] = {"jsonrpc": "2.0"} if version == "2.0" else {}
    if version == "1.1":
        obj["version"] = "1.1"
    obj["method"] = method
    params: list[Any] | dict[str, Any] = dict(kwargs) if kwargs else list(args)
    if params or version == "1.0":
        obj["params"] = params
    if not notify or version == "1.0":
        obj["id"] = None if notify else id
    return obj


def _is_response(value: object) -> bool:
    if not isinstance(value, dict) or not ("result" in value or "error" in value):
        return False
    # An id, or a version marker, tells it from a REST API's {"error": ...}.
    return "id" in value or value.get("jsonrpc") == "2.0" or "version" in value


def decode_answer(url: str, status: int, body: bytes) -> Any:
    """
    @return: the response object, or the array of them, in an HTTP answer,
        whatever its status; L{None} for an empty 2xx answer.
    @raise HTTPError: a non-2xx answer without one.
    @raise ProtocolError: a 2xx answer without one.
    """
    ok = 200 <= status < 300
    if not body.strip():
        if ok:
            return None
        raise HTTPError(url, status, body)
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if _is_response(value) or (
        isinstance(value, list) and value and all(map(_is_response, value))
    ):
        return value
    if ok:
        raise ProtocolError(url, "the answer is not JSON-RPC", body)
    raise HTTPError(url, status, body)


def error_from(error: Any) -> JSONRPCError:
    """@return: the exception of an error object of any version."""
    if not isinstance(error, dict):
        return JSONRPCError(None, str(error), error)
    data = error["data"] if "data" in error else error.get("error")
    return JSONRPCError(error.get("code"), str(error.get("message", "")), data)


def result_of(response: dict[str, Any]) -> Any:
    """
    @return: a response object's result.
    @raise JSONRPCError: it carries an error.
    """
    if response.get("error") is not None:
        raise error_from(response["error"])
    return response.get("result")


def _query_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    raise TypeError("GET carries strings, numbers, booleans and null: use POST")


def get_url(base: str, method: str, args: Sequence[Any], kw: dict[str, Any]) -> str:
    """
    @return: the URL of C{GET base/method?params}; positional params are
        named 0, 1, 2... and a list becomes a repeated name.
    """
    if args and kw:
        raise TypeError("give params by position or by name, not both")
    pairs = list(kw.items()) if kw else [(str(n), v) for n, v in enumerate(args)]
    query = urlencode(
        [
            (name, _query_text(item))
            for name, value in pairs
            for item in (value if isinstance(value, list) else [value])
        ]
    )
    url = base.rstrip("/") + "/" + quote(method, safe=".")
    return url + "?" + query if query else url


class _Body(Protocol):
    """Collects a response body; cancelling stops reading it."""

    def __init__(self, done: Deferred[bytes]) -> None:
        self.done = done
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self.chunks))
        else:
            self.done.errback(reason)


def _read_body(response: IResponse) -> Deferred[bytes]:
    def cancel(_: Deferred[bytes]) -> None:
        transport: Any = body.transport
        if transport is not None:
            transport.stopProducing()

    body = _Body(Deferred(cancel))
    response.deliverBody(body)
    return body.done


def _worth_retrying(verb: bytes, error: Exception) -> bool:
    """
    Whether a request that failed before any answer may be sent again: always
    when it never left (C{RequestNotSent}); for GET also when the connection
    broke after it left (a pooled connection the server had closed).  A POST
    that may have reached the server is not repeated.
    """
    if isinstance(error, RequestNotSent):
        return True
    if verb != b"GET":
        return False
    if not isinstance(error, RequestTransmissionFailed | ResponseNeverReceived):
        return False
    return not any(f.check(CancelledError) for f in error.reasons)


def _closed_while_idle(transport: Any) -> bool:
    """
    Whether a pooled connection's socket turned readable while it sat idle:
    the server closed it (urllib3 makes the same check before reusing one).
    """
    try:
        readable, _, _ = select.select([transport.fileno()], [], [], 0)
    except (AttributeError, OSError, ValueError):
        return False
    return bool(readable)


class _Pool(HTTPConnectionPool):
    """
    A persistent pool that drops a cached connection the server has closed
    before sending on it, so that a call made after a server restart goes
    out on a new connection.  Retries follow L{_worth_retrying} alone.
    """

    retryAutomatically = False

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        d: Deferred[Any] = super().getConnection(key, endpoint)
        if not d.called:  # a new connection, not a cached one
            return d
        return d.addCallback(self._live, key, endpoint)

    def _live(self, connection: Any, key: Any, endpoint: Any) -> Any:
        if not _closed_while_idle(connection.transport):
            return connection
        connection.transport.abortConnection()
        return self.getConnection(key, endpoint)


def _authorization(auth: tuple[str, str] | str) -> bytes:
    if isinstance(auth, str):
        return b"Bearer " + auth.encode("ascii")
    user, password = auth
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http:// or https:// URL: {url!r}")
    return url


#: Told the bytes of a body sent so far and its whole length.
Progress = Callable[[int, int], None]


@implementer(IBodyProducer)
class MultipartFile:
    """
    A C{multipart/form-data} body of form fields and one file part named
    C{file}, produced from the file on disk a chunk at a time, so that the
    transport's flow control holds back the reading.

    @ivar length: the body's length, known before it is sent.
    @ivar content_type: the request's C{Content-Type}, with the boundary.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fields: dict[str, str] | None = None,
        progress: Progress | None = None,
        chunk_size: int = 256 * 1024,
    ) -> None:
        self._path = os.fspath(path)
        boundary = "python-proxy-" + secrets.token_hex(12)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        name = os.path.basename(self._path).replace('"', "%22")
        declared = mimetypes.guess_type(name)[0] or "application/octet-stream"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n"
            for key, value in (fields or {}).items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: {declared}\r\n\r\n'
        )
        self._head = "".join(parts).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._size = os.path.getsize(self._path)
        self.length = len(self._head) + self._size + len(self._tail)
        self._progress = progress or (lambda sent, total: None)
        self._chunk_size = chunk_size
        self._task: CooperativeTask[Any] | None = None

    def startProducing(self, consumer: IConsumer) -> Deferred[None]:
        self._task = cooperate(self._write(consumer))
        d: Deferred[None] = self._task.whenDone().addCallback(lambda _: None)
        return d

    def _write(self, consumer: IConsumer) -> Iterator[None]:
        sent = 0

        def send(data: bytes) -> None:
            nonlocal sent
            consumer.write(data)
            sent += len(data)
            self._progress(sent, self.length)

        send(self._head)
        with open(self._path, "rb") as f:
            while data := _read(f, self._chunk_size):
                send(data)
                yield None
        send(self._tail)

    def pauseProducing(self) -> None:
        if self._task is not None:
            self._task.pause()

    def resumeProducing(self) -> None:
        if self._task is not None:
            self._task.resume()

    def stopProducing(self) -> None:
        if self._task is not None:
            self._task.stop()


def _read(f: IO[bytes], size: int) -> bytes:
    return f.read(size)


# The Deferred Proxy, the method names it grows, and its batches.


class _Method:
    """
    A dotted method name that grows by attribute access; calling it has its
    owner C{_invoke} it as a C{kind} of call.  Without a name it is a view
    (C{proxy.notify}, C{proxy.get}) and takes the name first when called.
    """

    def __init__(self, owner: Any, kind: str, name: str = "") -> None:
        self._owner, self._kind, self._name = owner, kind, name

    def __getattr__(self, part: str) -> _Method:
        if part.startswith("_"):
            raise AttributeError(part)
        return self[part]

    def __getitem__(self, part: str) -> _Method:
        name = f"{self._name}.{part}" if self._name else part
        return _Method(self._owner, self._kind, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._name:
            if not args or not isinstance(args[0], str):
                raise TypeError("name the method first: view('a.b', ...)")
            name, *rest = args
            return self._owner._invoke(self._kind, name, tuple(rest), kwargs)
        return self._owner._invoke(self._kind, self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<JSON-RPC {self._kind} {self._name or '*'} of {self._owner!r}>"


class _Names(abc.ABC):
    """
    C{obj.a.b(...)} and C{obj["a"].b(...)} call C{a.b}; names that start
    with C{_} or are attributes of C{obj} are reached with C{obj["name"]}
    or C{obj.call("name", ...)}.
    """

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, "call", name)

    def __getitem__(self, name: str) -> _Method:
        return _Method(self, "call", name)

    def call(self, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call C{method} with params by position or by name."""
        return self._invoke("call", method, args, kwargs)

    @abc.abstractmethod
    def _invoke(
        self, kind: str, method: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Any:
        """Make the call: each kind of proxy (single, batch) its own way."""


class Proxy(_Names):
    """
    A JSON-RPC endpoint whose methods return Deferreds: C{proxy.a.b(1, 2)}
    or C{proxy.a.b(x=1)} fires with the result of C{a.b}, or fails with a
    L{ProxyError}.

    @ivar notify: the methods as notifications: C{proxy.notify.a.b()}
        fires with L{None} once the server has taken it.
    @ivar get: the methods by HTTP GET (C{GET URL/a.b?x=1}), for those the
        server declares safe: C{proxy.get.a.b(x=1)}.
    """

    def __init__(
        self,
        url: str,
        version: str = "2.0",
        auth: tuple[str, str] | str | None = None,
        timeout: float = 30.0,
        treq_client: Any = None,
        *,
        reactor: Any = None,
    ) -> None:
        """
        @param auth: C{(user, password)} for HTTP Basic, or a token for Bearer.
        @param timeout: seconds for a whole answer, retries included.
        @param treq_client: the C{treq.client.HTTPClient} to send with; by
            default one over a persistent connection pool of our own.
        @param reactor: the reactor; the global one, looked up when needed.
        """
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}")
        self.url, self.version, self.timeout = _check_url(url), version, timeout
        self._headers = {b"Accept": [b"application/json"]}
        self._headers[b"User-Agent"] = [f"python_proxy/{__version__}".encode()]
        if auth is not None:
            self._headers[b"Authorization"] = [_authorization(auth)]
        self._client, self._reactor = treq_client, reactor
        self._pool: Any = None
        self._ids = itertools.count(1)
        self.notify, self.get = _Method(self, "notify"), _Method(self, "get")

    def __repr__(self) -> str:
        return f"Proxy({self.url!r}, version={self.version!r})"

    def call(self, method: str, /, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """@return: a Deferred of C{method}'s result; failures are L{ProxyError}s."""
        return self._invoke("call", method, args, kwargs)

    def raw_call(
        self,
        method: str,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        use_get: bool = False,
    ) -> Deferred[dict[str, Any]]:
        """
        @return: a Deferred of the whole response object, with at least
            C{result}, C{error} and C{id}; JSON-RPC errors do not fail it.
        """
        kind = "get" if use_get else "call"
        return self._raw(kind, method, tuple(args), kwargs or {})

    def batch(self) -> Batch:
        """@return: a new batch of calls sent as one request."""
        return Batch(self)

    def upload(
        self,
        url: str,
        path: str | os.PathLike[str],
        kind: str | None = None,
        project: str | None = None,
        progress: Progress | None = None,
    ) -> Deferred[list[dict[str, Any]]]:
        """
        Upload a file as C{multipart/form-data}, read from disk as it is sent
        (never whole in memory), with this proxy's credentials.

        @param url: the upload URL, absolute or relative to the proxy's
            (C{"/upload/"}).
        @param kind: C{"avatar"}, C{"screenshot"} or L{None} for a plain file.
        @param project: the project's slug, for a screenshot.
        @param progress: called with the bytes sent and the body's length.
        @return: a Deferred of the server's 2xx answer (for julytwisted, a
            list of C{{sha256, size, content_type, url}}); any other status
            fails it with L{HTTPError}.
        """
        fields = {"kind": kind, "project": project}
        body = MultipartFile(path, {k: v for k, v in fields.items() if v}, progress)
        target = urljoin(self.url, url)
        headers = dict(self._headers)
        headers[b"Content-Type"] = [body.content_type.encode()]
        d = Deferred.fromCoroutine(self._post_file(target, headers, body))
        d.addErrback(_transport_failure, target)
        return d

    async def _post_file(
        self, url: str, headers: dict[bytes, list[bytes]], body: MultipartFile
    ) -> list[dict[str, Any]]:
        response = await self._get_client().request(
            "POST", url, headers=headers, data=body, unbuffered=True
        )
        content = await _read_body(response)
        if not 200 <= response.code < 300:
            raise HTTPError(url, response.code, content)
        try:
            answer: list[dict[str, Any]] = json.loads(content)
        except ValueError:
            raise ProtocolError(url, "the answer is not JSON", content) from None
        return answer

    def close(self) -> Deferred[None]:
        """Close the pooled connections this proxy opened."""
        if self._pool is None:
            return succeed(None)
        d: Deferred[None] = self._pool.closeCachedConnections()
        return d

    def _invoke(
        self, kind: str, method: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Deferred[Any]:
        return self._raw(kind, method, args, kw).addCallback(_result_or_none)

    def _raw(
        self, kind: str, method: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Deferred[Any]:
        """The whole response object of a C{call} or C{get}; L{None} for a C{notify}."""
        if kind == "get":
            url = get_url(self.url, method, args, kw)
            return self._send(None, url).addCallback(_response, url, None)
        notify = kind == "notify"
        id = None if notify else next(self._ids)
        d = self._send(request_object(self.version, method, args, kw, id, notify))
        if notify:
            return d.addCallback(_notified)
        return d.addCallback(_response, self.url, id)

    def _send(self, payload: object, url: str | None = None) -> Deferred[Any]:
        """
        POST C{payload} (or GET C{url} when it is L{None}) and decode the
        answer: see L{decode_answer}.  Failures are L{ProxyError}s.
        """
        body = None
        if payload is not None:
            body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        url = url or self.url
        verb = b"GET" if body is None else b"POST"
        d = Deferred.fromCoroutine(self._exchange(verb, url, body))
        d.addTimeout(self.timeout, self._get_reactor(), onTimeoutCancel=self._late)
        d.addErrback(_transport_failure, url)
        return d.addCallback(lambda answer: decode_answer(url, *answer))

    def _late(self, result: object, timeout: float) -> object:
        if isinstance(result, Failure):
            return Failure(RequestTimeout(self.url, timeout))
        return result

    async def _exchange(
        self, verb: bytes, url: str, body: bytes | None
    ) -> tuple[int, bytes]:
        headers = dict(self._headers)
        if body is not None:
            headers[b"Content-Type"] = [b"application/json"]
        client = self._get_client()

        def attempt() -> Deferred[Any]:
            return client.request(  # type: ignore[no-any-return]
                verb.decode(),
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                unbuffered=True,
            )

        try:
            response = await attempt()
        except Exception as e:
            if not _worth_retrying(verb, e):
                raise
            response = await attempt()
        return response.code, await _read_body(response)

    def _get_reactor(self) -> Any:
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _get_client(self) -> Any:
        if self._client is None:
            from treq.client import HTTPClient

            self._pool = _Pool(self._get_reactor(), persistent=True)
            self._client = HTTPClient(Agent(self._get_reactor(), pool=self._pool))
        return self._client


def _transport_failure(reason: Failure, url: str) -> Failure:
    if reason.check(ProxyError, CancelledError):
        return reason
    return Failure(TransportError(url, reason.value or Exception(reason)))


def _response(answer: Any, url: str, id: object) -> dict[str, Any]:
    if not isinstance(answer, dict):
        problem = "no answer" if answer is None else "an array answered one call"
        raise ProtocolError(url, problem)
    if id is not None and answer.get("id") not in (None, id):
        raise ProtocolError(url, f"the answer's id is not the call's ({id!r})")
    return {"result": None, "error": None, "id": None, **answer}


def _notified(answer: Any) -> None:
    if isinstance(answer, dict) and answer.get("error") is not None:
        raise error_from(answer["error"])


def _result_or_none(response: dict[str, Any] | None) -> Any:
    return None if response is None else result_of(response)


class Batch(_Names):
    """
    Calls collected from C{batch.a.b(...)}, C{batch.call("a.b", ...)} and
    C{batch.notify.a.b(...)}, each returning a Deferred, then sent as one
    JSON-RPC 2.0 batch by L{send}.
    """

    def __init__(self, proxy: Proxy) -> None:
        self._proxy = proxy
        self._objects: list[dict[str, Any]] = []
        self._waiting: list[tuple[object, Deferred[Any]]] = []
        self._sent = False
        self.notify = _Method(self, "notify")

    def _invoke(
        self, kind: str, method: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Deferred[Any]:
        if self._sent:
            raise RuntimeError("this batch was sent already")
        notify = kind == "notify"
        id = None if notify else next(self._proxy._ids)
        self._objects.append(request_object("2.0", method, args, kw, id, notify))
        d: Deferred[Any] = Deferred()
        self._waiting.append((id, d))
        return d

    def send(self) -> Deferred[list[Any]]:
        """
        Send every call in one request and fire each call's Deferred.

        @return: a Deferred of each call's outcome in order: its result, or
            the L{ProxyError} its Deferred failed with.  It fails, as every
            call's Deferred does, when no answer came.
        """
        if self._sent:
            raise RuntimeError("this batch was sent already")
        self._sent = True
        if not self._objects:
            return succeed([])
        d = self._proxy._send(self._objects)
        return d.addCallbacks(self._deliver, self._fail)

    def _deliver(self, answer: Any) -> list[Any]:
        outcomes = [self._outcome(answer, id) for id, _ in self._waiting]
        for (_, d), outcome in zip(self._waiting, outcomes, strict=True):
            if isinstance(outcome, ProxyError):
                d.errback(Failure(outcome))
            else:
                d.callback(outcome)
        return outcomes

    def _outcome(self, answer: Any, id: object) -> Any:
        if id is None:
            return None
        # A lone object may answer a batch of one call (our own server does
        # when that call finishes late), or refuse the whole batch (id null).
        responses = answer if isinstance(answer, list) else [answer] if answer else []
        found = [r for r in responses if r.get("id") == id]
        if found:
            try:
                return result_of(found[0])
            except JSONRPCError as e:
                return e
        if isinstance(answer, dict) and answer.get("error") is not None:
            return error_from(answer["error"])
        return ProtocolError(self._proxy.url, f"the batch's answer lacks id {id!r}")

    def _fail(self, reason: Failure) -> Failure:
        for _, d in self._waiting:
            d.errback(reason)
        return reason


# The blocking ServiceProxy, for scripts and the shell.


def _crochet() -> Any:
    """crochet, set up (a no-op when the application ran C{no_setup()})."""
    import crochet

    crochet.setup()
    return crochet


class ProgressBar:
    """A progress bar on a terminal's line: C{[#####.....]  52%  10.4/20.0 MiB}."""

    def __init__(self, stream: IO[str] | None = None, width: int = 30) -> None:
        self._stream = stream or sys.stderr
        self._width = width
        self._shown = -1

    def __call__(self, sent: int, total: int) -> None:
        percent = 100 * sent // total if total else 100
        if percent == self._shown:
            return
        self._shown = percent
        filled = self._width * percent // 100
        bar = "#" * filled + "." * (self._width - filled)
        mib = 1024 * 1024
        self._stream.write(
            f"\r[{bar}] {percent:3d}%  {sent / mib:.1f}/{total / mib:.1f} MiB"
        )
        if sent >= total:
            self._stream.write("\n")
        self._stream.flush()


class ServiceProxy(_Names):
    """
    A blocking proxy for scripts and shells, django-json-rpc's shape:
    C{s.app.sayHello("Sam")} returns the whole response object, JSON-RPC
    errors included, and raises only when no answer came.  C{s.get.a.b()}
    and C{s.notify.a.b()} as for L{Proxy}.

    It runs a L{Proxy} in the reactor thread through crochet, which it
    starts unless the application called C{crochet.no_setup()} and runs the
    reactor itself; never call it from the reactor thread.
    """

    def __init__(
        self,
        url: str,
        version: str = "2.0",
        auth: tuple[str, str] | str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.proxy = Proxy(url, version, auth, timeout)
        self.notify, self.get = _Method(self, "notify"), _Method(self, "get")
        _crochet()

    def __repr__(self) -> str:
        return f"ServiceProxy({self.proxy.url!r}, version={self.proxy.version!r})"

    def call(self, method: str, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """@return: the whole response object of C{method}."""
        return self._invoke("call", method, args, kwargs)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the pooled connections."""
        self._wait(self.proxy.close)

    def upload(
        self,
        url: str,
        path: str | os.PathLike[str],
        kind: str | None = None,
        project: str | None = None,
        progress: bool | Progress = True,
    ) -> list[dict[str, Any]]:
        """
        Upload a file, streamed from disk; see L{Proxy.upload}.

        @param progress: L{True} for a L{ProgressBar} on standard error, or a
            callable of its own, or L{False} for nothing.
        @return: the server's answer.
        @raise ProxyError: on any status but 2xx, or no answer.
        """
        shown = ProgressBar() if progress is True else progress or None
        eventual = _crochet().run_in_reactor(self.proxy.upload)(
            url, path, kind, project, shown
        )
        return eventual.wait(None)  # type: ignore[no-any-return]

    def _invoke(
        self, kind: str, method: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Any:
        return self._wait(self.proxy._raw, kind, method, args, kw)

    def _wait(self, function: Callable[..., Any], *args: Any) -> Any:
        eventual = _crochet().run_in_reactor(function)(*args)
        # The proxy's own timeout fires first; this only guards a hung reactor.
        return eventual.wait(self.proxy.timeout + 10)


# The shell.


class Completer:
    """Completes C{s.julython.le<TAB>} from the server's method names."""

    def __init__(self, namespace: dict[str, Any], methods: Sequence[str]) -> None:
        import rlcompleter

        self.namespace, self.methods = namespace, sorted(methods)
        self._python = rlcompleter.Completer(namespace)
        self._matches: list[str] = []

    def complete(self, text: str, state: int) -> str | None:
        """The readline completer: the C{state}th completion of C{text}."""
        if state == 0:
            self._matches = self.matches(text)
        return self._matches[state] if state < len(self._matches) else None

    def matches(self, text: str) -> list[str]:
        """@return: every completion of C{text}."""
        root, dot, rest = text.partition(".")
        if not dot or not isinstance(self.namespace.get(root), ServiceProxy):
            return list(itertools.takewhile(bool, self._python_matches(text)))
        head, names = root + ".", [*self.methods, "call", "close", "get.", "notify."]
        for view in ("get.", "notify."):
            if rest.startswith(view):
                head, rest, names = head + view, rest[len(view) :], self.methods
        found = {self._segment(m, len(rest)) for m in names if m.startswith(rest)}
        return sorted(head + f for f in found)

    @staticmethod
    def _segment(method: str, typed: int) -> str:
        dot = method.find(".", typed)
        return method + "(" if dot < 0 else method[: dot + 1]

    def _python_matches(self, text: str) -> Any:
        for state in itertools.count():
            yield self._python.complete(text, state)


def display(value: object) -> None:
    """sys.displayhook: JSON indented, other values pretty-printed."""
    if value is None:
        return
    builtins._ = value  # type: ignore[attr-defined]
    if isinstance(value, dict | list):
        try:
            print(json.dumps(value, indent=2, ensure_ascii=False))
            return
        except (TypeError, ValueError):
            pass
    pprint.pprint(value)


def describe_method(service: ServiceProxy, name: str) -> str:
    """@return: C{name}'s signature and documentation, from C{system.*}."""
    signature = service.call("system.methodSignature", name)
    text = service.call("system.methodHelp", name)
    lines = [str(signature["result"] or name) if not signature["error"] else name]
    if text["error"]:
        lines.append(f"(no help: {error_from(text['error']).message})")
    elif text["result"]:
        lines.append(
            textwrap.indent(textwrap.dedent(str(text["result"])).strip(), "    ")
        )
    return "\n".join(lines)


class Help:
    """C{help} in the shell: a method's server documentation, else Python's."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        method = args[0] if len(args) == 1 else None
        if isinstance(method, _Method) and isinstance(method._owner, ServiceProxy):
            print(describe_method(method._owner, method._name))
            return
        builtins.help(*args, **kwargs)

    def __repr__(self) -> str:
        return "Type help(s.some.method) for its documentation, help() for Python's."


class Console(code.InteractiveConsole):
    """A console that shows a L{ProxyError} in one line, not a traceback."""

    def showtraceback(self) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ProxyError):
            self.write(f"{type(error).__name__}: {error}\n")
        else:
            super().showtraceback()


def _readline(completer: Completer) -> None:
    try:
        import readline
    except ImportError:
        return
    readline.set_completer(completer.complete)
    libedit = "libedit" in (readline.__doc__ or "")
    readline.parse_and_bind("bind ^I rl_complete" if libedit else "tab: complete")


def list_methods(service: ServiceProxy) -> list[str] | None:
    """
    @return: the server's method names, or L{None} without C{system.listMethods}.
    @raise ProxyError: the URL does not answer JSON-RPC.
    """
    answer = service.call("system.listMethods")
    result = answer["result"]
    if answer["error"] is not None or not isinstance(result, list):
        return None
    return [m for m in result if isinstance(m, str)]


def shell(service: ServiceProxy, methods: list[str] | None) -> None:
    """Run the interactive console with C{s} bound to C{service}."""
    namespace: dict[str, Any] = {
        "s": service,
        "help": Help(),
        "__name__": "__console__",
    }
    namespace.update(Proxy=Proxy, ServiceProxy=ServiceProxy, JSONRPCError=JSONRPCError)
    _readline(Completer(namespace, methods or []))
    sys.displayhook = display
    known = "no system.listMethods" if methods is None else f"{len(methods)} methods"
    banner = (
        f"JSON-RPC shell on {service.proxy.url} ({known}).\n"
        "s.some.method(...) calls, s.get.some.method(...) calls by GET, "
        "s.notify.some.method(...) notifies; s.upload('/upload/', PATH, "
        "kind='avatar') sends a file;\n"
        "Tab completes method names; help(s.some.method) documents one; "
        "Ctrl-D quits."
    )
    Console(namespace).interact(banner, exitmsg="")


# The command line: main.


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def call_once(service: ServiceProxy, options: argparse.Namespace) -> int:
    """Make C{--call}'s call and print it; @return: the exit status."""
    method, *args = options.call
    named = {}
    for pair in options.named:
        name, equals, text = pair.partition("=")
        if not equals:
            raise ValueError(f"--named takes NAME=VALUE, not {pair!r}")
        named[name] = _value(text)
    caller = service.get if options.get else service.call
    answer = caller(method, *map(_value, args), **named)
    if answer["error"] is None:
        print(json.dumps(answer["result"], indent=2, ensure_ascii=False))
        return 0
    print(json.dumps(answer["error"], indent=2, ensure_ascii=False))
    print(f"python_proxy: error {error_from(answer['error'])}", file=sys.stderr)
    return 1


def upload_once(service: ServiceProxy, options: argparse.Namespace) -> int:
    """Make C{--upload}'s upload and print the answer; @return: the exit status."""
    try:
        answer = service.upload(
            "/upload/", options.upload, options.kind, options.project
        )
    except HTTPError as e:
        print(f"python_proxy: HTTP {e.status}: {e.body.decode(errors='replace')}")
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python_proxy", description="A JSON-RPC shell, or one call."
    )
    parser.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8080/json/")
    _call_options(parser)
    _upload_options(parser)
    _connection_options(parser)
    return parser


def _call_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--call",
        nargs="+",
        metavar=("METHOD", "ARG"),
        help="make one call and print its result as JSON; "
        "each ARG is JSON where it parses, else a string",
    )
    parser.add_argument(
        "--named",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a named param of --call (repeatable)",
    )
    parser.add_argument("--get", action="store_true", help="--call by HTTP GET")


def _upload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upload",
        metavar="PATH",
        help="upload a file to the server's /upload/ (with --token), "
        "showing progress, and print the answer as JSON",
    )
    parser.add_argument("--kind", help="--upload's kind: avatar or screenshot")
    parser.add_argument("--project", help="--upload's project slug (screenshots)")


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version",
        choices=VERSIONS,
        default="2.0",
        dest="rpc_version",
        help="the JSON-RPC version (2.0)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (30)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--user", help="HTTP Basic user (asks for the password)")
    auth.add_argument("--token", help="a Bearer token")
    parser.add_argument("--password", help="HTTP Basic password")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; @return: 0, 1 for a JSON-RPC error, 2 for no answer."""
    parser = _parser()
    options = parser.parse_args(argv)
    if options.password is not None and options.user is None:
        parser.error("--password needs --user")
    auth: tuple[str, str] | str | None = options.token
    if options.user is not None:
        password = options.password
        if password is None:
            import getpass

            password = getpass.getpass(f"password for {options.user}: ")
        auth = (options.user, password)
    try:
        service = ServiceProxy(options.url, options.rpc_version, auth, options.timeout)
        if options.upload:
            return upload_once(service, options)
        if options.call:
            return call_once(service, options)
        methods = list_methods(service)
    except (ProxyError, ValueError, TypeError) as e:
        print(f"python_proxy: {e}", file=sys.stderr)
        return 2
    shell(service, methods)
    return 0


if __name__ == "__main__":
    sys.exit(main())

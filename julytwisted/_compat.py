# -*- test-case-name: tests.test_compat -*-
"""
Every private name of Twisted, autobahn and txredisapi the product reads,
one small function each, so that a release that renames one breaks here,
in one place, and in L{tests.test_compat}, which pins each against the real
library and names the name when it fails.

Checked on Twisted 26.10.0, autobahn 26.11.1 and txredisapi 1.6.0.

C{clients/python_proxy.py} imports C{twisted.web._newclient.RequestNotSent}
on its own: the client is one self-contained file that imports only treq,
Twisted and crochet.  tests/test_compat.py pins that name too.

This module imports the libraries only, never the product.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Callable
from typing import Any

import txredisapi
from autobahn.websocket.compress import PerMessageCompress, PerMessageDeflate
from twisted.internet.abstract import FileDescriptor
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger

_log = Logger()


def pending_method(channel: object) -> bytes:
    """
    The method of the request whose headers an C{HTTPChannel} is reading.

    Reads C{HTTPChannel._command}, set when the request line is parsed and
    deleted once the body is in.  No public way: the channel hands the
    method to its request only with the whole body (C{requestReceived}),
    too late for C{Request.gotLength}, where a body's limit and stream are
    chosen.

    @return: the method, or C{b""} outside that span.
    """
    method: bytes = getattr(channel, "_command", b"")
    return method


def pending_path(channel: object) -> bytes:
    """
    The path (and query) of the request whose headers an C{HTTPChannel} is
    reading.

    Reads C{HTTPChannel._path}; see L{pending_method}: no public way before
    the body is in.

    @return: the path, or C{b""} outside that span.
    """
    path: bytes = getattr(channel, "_path", b"")
    return path


def is_disconnected(request: object) -> bool:
    """
    Whether a C{twisted.web} request's connection is gone.

    Reads C{Request._disconnected}, set by C{Request.connectionLost}.  No
    public way: C{notifyFinish()} tells only the callers that asked before
    the connection went, and writing to a request whose connection is gone
    raises.

    @return: L{False} for a request that is not a C{twisted.web.http.Request}.
    """
    return bool(getattr(request, "_disconnected", False))


queued_writes: Callable[[FileDescriptor], int] = operator.attrgetter("_tempDataLen")
"""
How many bytes written to a transport wait in its list of writes, not yet
joined into C{dataBuffer}.

Reads C{FileDescriptor._tempDataLen}.  No public way: a transport's buffered
bytes are C{dataBuffer} plus this list, and only the sum's effect (pausing a
producer) is public.  An C{attrgetter}, not a function: the live feed asks
it of every watcher it writes to, thousands a pass.
"""


def per_message_compress(protocol: Any) -> PerMessageCompress | None:
    """
    The compression (permessage-deflate) an autobahn websocket protocol
    agreed in its opening handshake, if any.

    Reads C{WebSocketProtocol._perMessageCompress}, set by the handshake.
    No public way to ask: C{websocket_extensions_in_use} lists it among
    other extensions, and is no more documented.

    @return: the extension's processor, or L{None} without compression.
    """
    found: PerMessageCompress | None = protocol._perMessageCompress
    return found


class LevelledDeflate(PerMessageDeflate):
    """
    A server's permessage-deflate compressing at C{compress_level}, where
    autobahn always uses zlib's default level and has no option for another.

    Writes C{PerMessageDeflate._compressor}, the zlib compressor that
    C{start_compress_message} makes (again for each message without context
    takeover) and the other compress methods use.
    """

    compress_level: int = zlib.Z_DEFAULT_COMPRESSION

    def start_compress_message(self) -> None:
        if self._compressor is None or self.server_no_context_takeover:
            self._compressor = zlib.compressobj(
                self.compress_level,
                zlib.DEFLATED,
                -self.server_max_window_bits,
                self.mem_level,
            )


def deflate_at_level(deflate: object, level: int) -> bool:
    """
    Make the permessage-deflate a server agreed compress at zlib's C{level}
    from its first message on (call it before anything is compressed, in
    C{onOpen}).

    @param deflate: what L{per_message_compress} found.
    @return: whether it could: only for autobahn's own L{PerMessageDeflate}.
    """
    if type(deflate) is not PerMessageDeflate:
        return False
    deflate.__class__ = LevelledDeflate
    assert isinstance(deflate, LevelledDeflate)
    deflate.compress_level = level
    return True


class EagerLines:
    """
    A mixin for a txredisapi protocol that parses every reply in a read in
    the reactor turn the read arrives, as a pub/sub subscription must.

    txredisapi's C{LineReceiver}, after each bulk string, pauses the
    transport and hands the rest of the read to its own C{dataReceived} a
    reactor turn later (C{setLineMode(extra)}, C{callLater(0)}): a pub/sub
    message, three bulk strings, costs three turns, and ten in one read
    thirty.  This overrides C{setLineMode} and C{dataReceived} (named
    without an underscore, and documented nowhere) to queue that rest and
    parse it in a loop instead, without recursion.
    """

    line_mode: int
    #: The rest of the read being parsed, while C{dataReceived} runs.
    _rest: list[bytes] | None = None

    def setLineMode(self, extra: bytes = b"") -> None:
        if self._rest is None:
            txredisapi.LineReceiver.setLineMode(self, extra)
            return
        self.line_mode = 1
        if extra:
            self._rest.append(extra)

    def dataReceived(self, data: bytes, unpause: bool = False) -> Any:
        if self._rest is not None:
            self._rest.append(data)
            return None
        self._rest = [data]
        try:
            while self._rest:
                why = txredisapi.LineReceiver.dataReceived(
                    self, self._rest.pop(0), unpause
                )
                unpause = False
                if why:
                    return why
        finally:
            self._rest = None
        return None


class _EagerReplies(EagerLines):
    """
    L{EagerLines} for a command connection: before the replies of a read
    are parsed, its factory's C{before_replies} runs, if it has one.
    """

    factory: Any

    def dataReceived(self, data: bytes, unpause: bool = False) -> Any:
        if self._rest is None:
            before: Callable[[], object] | None = getattr(
                self.factory, "before_replies", None
            )
            if before is not None:
                before()
        return EagerLines.dataReceived(self, data, unpause)


class EagerRedisProtocol(_EagerReplies, txredisapi.RedisProtocol):  # type: ignore[misc]
    """
    txredisapi's command protocol, each read's replies parsed in the turn it
    arrives: a reply of N bulk strings (an C{HGETALL}, a board's page, the
    ingest script's answer) otherwise takes N reactor turns, each behind
    whatever else the reactor does then (a slice of a live feed pass).
    """


class EagerSentinelRedisProtocol(
    _EagerReplies,
    txredisapi.SentinelRedisProtocol,  # type: ignore[misc]
):
    """L{EagerRedisProtocol} for a connection to a Sentinel-found master."""


def read_waiting(protocol: Any) -> None:
    """
    Read now what waits in the socket of an L{EagerLines} connection, out
    of the reactor's order, as the reactor would (C{IReadDescriptor.doRead}
    of its transport): nothing when nothing waits.

    Not while it parses a read, nor while txredisapi has paused it (the
    C{paused} of Twisted's C{basic._PauseableMixin}, which its
    C{LineReceiver} is): it resumes itself a turn later.  Not over TLS,
    whose transport reads no socket of its own.  What a read returns other
    than L{None} (the connection ended, or failed) is left for the
    reactor: a socket at its end stays readable, and the reactor's next
    poll reads that end again and closes the connection itself.
    """
    if protocol._rest is not None or protocol.paused:
        return
    transport = protocol.transport
    do_read: Callable[[], object] | None = getattr(transport, "doRead", None)
    if do_read is None or not transport.connected or transport.disconnecting:
        return
    try:
        do_read()
    except Exception:
        # As the reactor does with a read that raises.
        _log.failure("reading {protocol!r} out of turn", protocol=protocol)
        transport.loseConnection()


def eager_protocol(factory: Any) -> None:
    """
    Make a txredisapi C{RedisFactory} (or C{SentinelConnectionFactory})
    build connections that parse each read at once (L{EagerLines}).
    """
    if isinstance(factory, txredisapi.SentinelConnectionFactory):
        factory.protocol = EagerSentinelRedisProtocol
    else:
        factory.protocol = EagerRedisProtocol


def sentinel_endpoint(factory: Any) -> IStreamClientEndpoint:
    """
    An endpoint that asks the Sentinels where the master of a
    C{txredisapi.SentinelConnectionFactory}'s service is before each
    connection, and drops the factory's pool when the master moves.

    Builds C{txredisapi._SentinelEndpoint}.  No public way: txredisapi's
    C{Sentinel.master_for} makes the factory, connects it at once and
    returns only its handler, while the service sets the factory's
    reconnection delays first and keeps the factory (the pool's size, its
    start and stop with the service).

    @param factory: a C{SentinelConnectionFactory}.
    """
    endpoint: IStreamClientEndpoint = txredisapi._SentinelEndpoint(factory)
    return endpoint


__all__ = [
    "EagerLines",
    "EagerRedisProtocol",
    "EagerSentinelRedisProtocol",
    "LevelledDeflate",
    "deflate_at_level",
    "eager_protocol",
    "is_disconnected",
    "pending_method",
    "pending_path",
    "per_message_compress",
    "queued_writes",
    "read_waiting",
    "sentinel_endpoint",
]

"""
Pins on the private names of Twisted, autobahn and txredisapi that the
product reads (L{julytwisted._compat}) and the one the Python client imports
itself: each test drives the real library and fails, naming the private
name, if a release removes it or changes what it means.
"""

from __future__ import annotations

import socket
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest_twisted
import txredisapi
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import (
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
)
from twisted.internet import reactor
from twisted.internet.abstract import FileDescriptor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web import _newclient
from twisted.web.http import HTTPChannel, Request
from twisted.web.http_headers import Headers

from julytwisted._compat import (
    EagerLines,
    EagerRedisProtocol,
    EagerSentinelRedisProtocol,
    LevelledDeflate,
    deflate_at_level,
    eager_protocol,
    is_disconnected,
    pending_method,
    pending_path,
    per_message_compress,
    queued_writes,
    read_waiting,
    sentinel_endpoint,
)

CHANGED = "{name} changed: julytwisted._compat.{function} must follow it"


class _Recorder(Request):
    """A request that records what the channel shows while its headers end."""

    seen: list[tuple[bytes, bytes]] = []
    made: list[Request] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made.append(self)

    def gotLength(self, length: int | None) -> None:
        self.seen.append((pending_method(self.channel), pending_path(self.channel)))
        super().gotLength(length)


def _channel() -> tuple[HTTPChannel, StringTransport]:
    """@return: a real HTTPChannel making L{_Recorder}s, on a string transport."""
    _Recorder.seen, _Recorder.made = [], []
    channel = HTTPChannel()
    channel.requestFactory = _Recorder  # type: ignore[assignment]
    channel.timeOut = None
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport


def test_pending_request_line() -> None:
    """
    C{HTTPChannel._command} and C{_path} hold the request line when the
    request's C{gotLength} runs, before the body.
    """
    channel, _ = _channel()
    channel.dataReceived(
        b"POST /upload/?csrf=t0ken HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
    )
    assert _Recorder.seen == [(b"POST", b"/upload/?csrf=t0ken")], CHANGED.format(
        name="twisted.web.http.HTTPChannel._command or _path",
        function="pending_method or pending_path",
    )


def test_disconnected_request() -> None:
    """C{Request._disconnected} turns true when the connection is lost."""
    channel, _ = _channel()
    channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    [request] = _Recorder.made
    assert not is_disconnected(request)
    channel.connectionLost(Failure(ConnectionDone()))
    assert is_disconnected(request), CHANGED.format(
        name="twisted.web.http.Request._disconnected", function="is_disconnected"
    )
    assert not is_disconnected(object())


class _Unsent(FileDescriptor):
    """A transport that never reaches its socket until told to write."""

    connected = 1

    def startWriting(self) -> None:
        pass

    def stopWriting(self) -> None:
        pass

    def writeSomeData(self, data: bytes) -> int:
        return len(data)


def test_queued_writes() -> None:
    """
    C{FileDescriptor._tempDataLen} counts the bytes written and not yet
    joined into C{dataBuffer}, which alone would look empty.
    """
    transport = _Unsent()
    assert queued_writes(transport) == 0
    transport.write(b"abc")
    transport.writeSequence([b"de", b"f"])
    message = CHANGED.format(
        name="twisted.internet.abstract.FileDescriptor._tempDataLen",
        function="queued_writes",
    )
    assert (transport.dataBuffer, queued_writes(transport)) == (b"", 6), message
    transport.doWrite()
    assert queued_writes(transport) == 0, message


class _Opened(WebSocketServerProtocol):
    def onOpen(self) -> None:
        self.factory.opened.append(per_message_compress(self))


def _handshake(extensions: bytes) -> tuple[WebSocketServerProtocol, list[Any]]:
    """
    Open a real autobahn server protocol in memory with a client's
    C{Sec-WebSocket-Extensions}; @return: it, and what L{per_message_compress}
    found in its C{onOpen}.
    """

    def accept(offers: list[Any]) -> PerMessageDeflateOfferAccept | None:
        for offer in offers:
            if isinstance(offer, PerMessageDeflateOffer):
                return PerMessageDeflateOfferAccept(offer)
        return None

    factory = WebSocketServerFactory("ws://localhost")
    factory.protocol = _Opened
    factory.setProtocolOptions(
        perMessageCompressionAccept=accept,
        openHandshakeTimeout=0,
        closeHandshakeTimeout=0,
    )
    factory.opened = []  # type: ignore[attr-defined]
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 4321))
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n" + extensions + b"\r\n"
    )
    return protocol, factory.opened  # type: ignore[attr-defined]


def test_per_message_compress() -> None:
    """
    C{WebSocketProtocol._perMessageCompress} is, by C{onOpen}, the
    permessage-deflate the handshake agreed, or None without one.
    """
    protocol, opened = _handshake(b"Sec-WebSocket-Extensions: permessage-deflate\r\n")
    message = CHANGED.format(
        name="autobahn's WebSocketProtocol._perMessageCompress",
        function="per_message_compress",
    )
    assert len(opened) == 1 and isinstance(opened[0], PerMessageDeflate), message
    assert opened[0] in protocol.websocket_extensions_in_use, message
    protocol.connectionLost(Failure(ConnectionDone()))
    plain, opened = _handshake(b"")
    assert opened == [None], message
    plain.connectionLost(Failure(ConnectionDone()))


def _compressed(deflate: PerMessageDeflate, payload: bytes) -> bytes:
    deflate.start_compress_message()
    data: bytes = deflate.compress_message_data(payload)
    return data + deflate.end_compress_message()


def test_deflate_at_level() -> None:
    """
    A server's permessage-deflate, its class swapped, compresses with a
    C{PerMessageDeflate._compressor} at the level asked: its output is
    zlib's at that level, not autobahn's default.
    """
    payload = b"".join(
        b'{"hash":"%040x","message":"commit %d"}' % (i, i) for i in range(200)
    )
    deflate = PerMessageDeflate(True, False, False, 15, 15, 8)
    assert deflate_at_level(deflate, 1)
    assert type(deflate) is LevelledDeflate
    level1 = zlib.compressobj(1, zlib.DEFLATED, -15, 8)
    expected = (level1.compress(payload) + level1.flush(zlib.Z_SYNC_FLUSH))[:-4]
    message = CHANGED.format(
        name="autobahn's PerMessageDeflate._compressor", function="LevelledDeflate"
    )
    assert _compressed(deflate, payload) == expected, message
    assert _compressed(PerMessageDeflate(True, False, False, 15, 15, 8), payload) != (
        expected
    )
    assert not deflate_at_level(None, 1)
    assert not deflate_at_level(deflate, 1), "swapped twice"


class _Sentinels:
    """Stands for C{txredisapi.Sentinel}: the master is where it is told."""

    def __init__(self, master: tuple[str, int] | None) -> None:
        self.master = master
        self.asked: list[str] = []

    def discover_master(self, service: str) -> Deferred[tuple[str, int]]:
        self.asked.append(service)
        if self.master is None:
            return fail(txredisapi.MasterNotFoundError("no master"))
        return succeed(self.master)


@pytest_twisted.ensureDeferred
async def test_sentinel_endpoint() -> None:
    """
    C{txredisapi._SentinelEndpoint} asks the factory's Sentinels for the
    master of its service at each connection, and connects there.
    """
    listening = reactor.listenTCP(
        0, Factory.forProtocol(Protocol), interface="127.0.0.1"
    )
    address = ("127.0.0.1", listening.getHost().port)
    sentinels = _Sentinels(address)
    factory = txredisapi.SentinelConnectionFactory(
        sentinels, "mymaster", True, None, None, 1, isLazy=True
    )
    message = CHANGED.format(
        name="txredisapi._SentinelEndpoint", function="sentinel_endpoint"
    )
    try:
        endpoint = sentinel_endpoint(factory)
        assert IStreamClientEndpoint.providedBy(endpoint), message
        connected = await endpoint.connect(Factory.forProtocol(Protocol))
        assert sentinels.asked == ["mymaster"], message
        assert connected.transport.getPeer().port == address[1], message
        connected.transport.loseConnection()
        sentinels.master = None
        lost = endpoint.connect(Factory.forProtocol(Protocol))
        failures: list[Failure] = []
        lost.addErrback(failures.append)
        assert sentinels.asked == ["mymaster", "mymaster"], message
        assert failures and failures[0].check(txredisapi.MasterNotFoundError), message
    finally:
        await listening.stopListening()


def test_request_not_sent_for_the_python_client() -> None:
    """
    C{clients/python_proxy.py} cannot import C{julytwisted._compat} (it is one
    file importing only treq, Twisted and crochet), so it imports
    C{twisted.web._newclient.RequestNotSent} itself: the error of a request
    on a pooled connection that closed before the request left, which the
    client sends again even for a POST.
    """
    clients = str(Path(__file__).parent.parent / "clients")
    if clients not in sys.path:
        sys.path.insert(0, clients)
    import python_proxy

    message = CHANGED.format(
        name="twisted.web._newclient.RequestNotSent",
        function="(none: clients/python_proxy.py imports it)",
    )
    protocol = _newclient.HTTP11ClientProtocol()
    protocol.makeConnection(StringTransport())
    protocol.connectionLost(Failure(ConnectionDone()))
    request = _newclient.Request(b"POST", b"/json/", Headers(), None)
    failures: list[Failure] = []
    protocol.request(request).addErrback(failures.append)
    assert failures and failures[0].check(_newclient.RequestNotSent), message
    assert python_proxy.RequestNotSent is _newclient.RequestNotSent, message
    assert python_proxy._worth_retrying(b"POST", failures[0].value)


def _published(count: int) -> bytes:
    """@return: C{count} pub/sub messages on C{j:live}, as Redis sends them."""
    out = b""
    for i in range(count):
        payload = b"entry %d" % i
        out += b"*3\r\n$7\r\nmessage\r\n$6\r\nj:live\r\n"
        out += b"$%d\r\n%s\r\n" % (len(payload), payload)
    return out


class _Listener(txredisapi.SubscriberProtocol):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.got: list[str] = []
        self.transport = StringTransport()

    def messageReceived(self, pattern: Any, channel: str, message: str) -> None:
        self.got.append(message)


class _Eager(EagerLines, _Listener):
    pass


def test_eager_lines() -> None:
    """
    txredisapi's C{LineReceiver} leaves the rest of a read after a bulk
    string to a later reactor turn (C{setLineMode}); L{EagerLines} parses
    all of it at once, whatever the reads' boundaries, in order.
    """
    stream = _published(5)
    lazy = _Listener()
    lazy.dataReceived(stream)
    assert len(lazy.got) < 5, (
        "txredisapi's LineReceiver no longer defers after a bulk string: "
        "julytwisted._compat.EagerLines may go"
    )
    eager = _Eager()
    for at in range(0, len(stream), 37):
        eager.dataReceived(stream[at : at + 37])
    assert eager.got == [f"entry {i}" for i in range(5)], CHANGED.format(
        name="txredisapi.LineReceiver.setLineMode or dataReceived",
        function="EagerLines",
    )


def test_read_waiting() -> None:
    """
    L{read_waiting} reads what waits in a connection's socket at once,
    without a reactor turn (its transport's C{doRead}); not while
    txredisapi has paused it (C{paused}, of Twisted's
    C{basic._PauseableMixin}), nor while it parses a read; nothing, and
    no error, when nothing waits.
    """
    message = CHANGED.format(
        name="FileDescriptor.doRead or basic._PauseableMixin.paused",
        function="read_waiting",
    )
    made: list[_Eager] = []

    class Made(Factory):
        protocol = _Eager

        def buildProtocol(self, addr: Any) -> Any:
            made.append(_Eager())
            return made[-1]

    ours, theirs = socket.socketpair()
    reactor.adoptStreamConnection(ours.fileno(), socket.AF_UNIX, Made())
    ours.close()
    subscription = made[0]
    try:
        # No reactor turn between a send and the read: the test never awaits.
        theirs.sendall(_published(2))
        read_waiting(subscription)
        assert subscription.got == ["entry 0", "entry 1"], message
        subscription.pauseProducing()
        theirs.sendall(_published(3)[len(_published(2)) :])
        read_waiting(subscription)
        assert subscription.paused and len(subscription.got) == 2, message
        subscription.resumeProducing()
        subscription._rest = []
        read_waiting(subscription)
        assert len(subscription.got) == 2, "read while it parsed a read"
        subscription._rest = None
        read_waiting(subscription)
        assert subscription.got[2:] == ["entry 2"], message
        read_waiting(subscription)
        assert len(subscription.got) == 3
    finally:
        subscription.transport.loseConnection()
        theirs.close()


def _connected(kind: type[Any]) -> Any:
    """@return: a command protocol of C{kind} on a L{StringTransport}."""
    protocol = kind(convertNumbers=False)
    # The lazy parser's later turns go to a clock nobody turns.
    protocol.callLater = Clock().callLater
    protocol.makeConnection(StringTransport())
    return protocol


def test_eager_commands() -> None:
    """
    A command's reply of many bulk strings (an C{HGETALL}) is parsed in the
    read that brought it: txredisapi's own protocol takes a reactor turn for
    each string after the first.
    """
    fields = [(f"f{i}", f"v{i}") for i in range(50)]
    reply = b"*%d\r\n" % (2 * len(fields))
    for name, value in fields:
        for word in (name, value):
            reply += b"$%d\r\n%s\r\n" % (len(word), word.encode())
    lazy = _connected(txredisapi.RedisProtocol)
    lazy_got: list[Any] = []
    lazy.hgetall("h").addCallback(lazy_got.append)
    lazy.dataReceived(reply)
    assert not lazy_got, (
        "txredisapi's command protocol no longer defers after a bulk string: "
        "julytwisted._compat.EagerRedisProtocol may go"
    )
    eager = _connected(EagerRedisProtocol)
    got: list[Any] = []
    eager.hgetall("h").addCallback(got.append)
    for at in range(0, len(reply), 41):
        eager.dataReceived(reply[at : at + 41])
    assert got == [dict(fields)], CHANGED.format(
        name="txredisapi.BaseRedisProtocol's parser", function="EagerRedisProtocol"
    )


def test_eager_protocol_for_each_factory() -> None:
    """
    The store's connections, plain or found through Sentinel, parse each
    read at once.
    """
    plain = txredisapi.RedisFactory("unix:/nowhere", None, 1, isLazy=True)
    eager_protocol(plain)
    assert plain.protocol is EagerRedisProtocol
    # Its Sentinels are asked only when it connects.
    sentinel = txredisapi.SentinelConnectionFactory(
        None, "mymaster", True, None, None, 1, isLazy=True
    )
    eager_protocol(sentinel)
    assert sentinel.protocol is EagerSentinelRedisProtocol
    assert issubclass(EagerSentinelRedisProtocol, txredisapi.SentinelRedisProtocol)

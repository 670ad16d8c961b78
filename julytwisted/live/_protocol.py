# -*- test-case-name: tests.live.test_live -*-
"""
One watcher of the live feed: an autobahn server protocol that chooses its
channels, replays what it missed, and is sent its share of the feed in frames
coalesced per reactor turn, closed with 1013 when it cannot keep up.

A watcher is written to only once its transport has sent everything written
before: until then what arrives waits in its outbox, and goes out in one
send when the transport drains.  A watcher that keeps up is sent each
flush's frames, shared with every watcher of the same channels, at once.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageCompress, PerMessageDeflate
from twisted.internet import tcp
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPullProducer, IPushProducer
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from julytwisted._compat import (
    deflate_at_level,
    per_message_compress,
    queued_writes,
)
from julytwisted.config import LiveSettings
from julytwisted.live._frames import (
    Deflate,
    Fanout,
    FramesKey,
    Render,
    accept_deflate,
    frames,
)
from julytwisted.store.feed import FeedEntry, parse_id

log = Logger()

#: Replayed when a watcher connects without C{since}.
REPLAY_TAIL = 30

#: The most channels one watcher may follow.
MAX_CHANNELS = 100

#: Close code for a watcher that cannot keep up (RFC 6455 "try again later").
TRY_AGAIN_LATER = 1013

#: Each watcher's socket send buffer in the kernel, bytes (Linux doubles it).
KERNEL_SEND_BUFFER = 64 * 1024

#: Close code for watchers of a node that is stopping.
GOING_AWAY = 1001

#: Close code (of those RFC 6455 leaves to applications) for the watchers of
#: a private board whose members or read token changed: admitted when they
#: connected, they connect again (with C{since}, missing nothing) and are
#: let in only if they still may.
ADMIT_AGAIN = 4001

#: zlib's level for what autobahn compresses for one watcher alone (the
#: echo of conformance runs): on JSON, level 1 costs half of zlib's default
#: (6) for about 7 % more bytes.
DEFLATE_LEVEL = 1

_CHANNEL = re.compile(
    r"global|(player|project|location|team):[a-z0-9][a-z0-9_.-]{0,99}"
    r"|board:[a-z2-7]{10}"
)

#: The prefix of a private board's channel, which only its members and its
#: token's holders may watch: chosen when connecting, where they prove it.
BOARD_PREFIX = "board:"

#: The most distinct channels and compressions whose frames' keys a
#: process shares between watchers (see L{LiveFactory.frames_key}).
MAX_FRAMES_KEYS = 10_000

#: What L{LiveProtocol.take} did with a flush's entries.
NOTHING, SENT, QUEUED = 0, 1, 2

Frames = dict[tuple[tuple[int, ...], Deflate | None], tuple[list[bytes], bytes]]
"""
Frames made in one flush from watchers' outboxes, by their messages'
identities and compression, each with those messages.
"""

_OPEN = WebSocketServerProtocol.STATE_OPEN

Replayed = tuple[list[FeedEntry], Render]
"""A replay's entries, oldest first, and the renderer its watchers share."""


class Hub(Protocol):
    """What a watcher needs of the process's live bridge."""

    #: How many times private boards' watchers were told to be admitted again.
    revocations: int

    def attach(self, watcher: LiveProtocol) -> None: ...
    def detach(self, watcher: LiveProtocol) -> None: ...
    def mark(self, watcher: LiveProtocol) -> None: ...
    async def replay(self, channels: Sequence[str], since: str | None) -> Replayed: ...


def render_entry(entry: FeedEntry, channel: str) -> bytes:
    """
    @return: the message for C{entry} as seen on C{channel}:
        C{{"type", "id", "channel", <type>: data}}, its data spliced in as
        the store wrote it.
    """
    return (
        f'{{"type":"{entry.type}","id":"{entry.id}","channel":'
        f'{json.dumps(channel)},"{entry.type}":{entry.data}}}'
    ).encode()


def check_channels(names: object) -> list[str]:
    """
    @param names: what a client sent as a list of channels.
    @return: the channels.
    @raise ValueError: naming the first bad one.
    """
    if not isinstance(names, list) or not names:
        raise ValueError("channels must be a non-empty list of strings")
    if len(names) > MAX_CHANNELS:
        raise ValueError(f"at most {MAX_CHANNELS} channels")
    for name in names:
        if not isinstance(name, str) or not _CHANNEL.fullmatch(name):
            raise ValueError(
                f"bad channel {name!r}: use global, player:<username>, "
                "project:<slug>, location:<slug>, team:<slug> or board:<id>"
            )
    return names


@implementer(IPushProducer, IPullProducer)
class _Backpressure:
    """
    Tells a watcher when its transport has sent all it held.

    On TCP it is a pull producer, resumed each time the transport's buffer
    drains; the watcher pauses itself whenever the socket did not take all
    it wrote.  On another transport (TLS) it is a streaming producer, paused
    when the transport's buffer is full.
    """

    def __init__(self, watcher: LiveProtocol) -> None:
        self._watcher = watcher

    def pauseProducing(self) -> None:
        self._watcher.paused = True

    def resumeProducing(self) -> None:
        transport: Any = self._watcher.transport
        if transport is not None and transport.disconnecting:
            # A closing transport resumes its pull producer instead of
            # closing: without one, it closes.
            transport.unregisterProducer()
            return
        self._watcher.paused = False
        self._watcher.flush()

    def stopProducing(self) -> None:
        self._watcher.paused = True


class Seat:
    """
    What the bridge's pass reads and writes of one watcher, in a slotted
    object of its own.  A watcher's own attributes share one dictionary
    with some hundred of autobahn's, and each read of one after a send has
    cooled the caches cost the pass more than a field read here; the pass
    over 10,000 watchers is as long as the latency at 10,000.
    """

    __slots__ = ("frames_key", "last", "seen", "send", "steady", "watcher")

    #: The key of a flush's shared frames for the watcher's channels and
    #: compression (see L{LiveFactory.frames_key}); set on connecting.
    frames_key: FramesKey

    def __init__(self, watcher: LiveProtocol) -> None:
        self.watcher = watcher
        #: The key of the newest entry the bridge has handed the watcher.
        self.seen: tuple[int, int] | None = None
        #: The key of the newest entry the watcher has been sent or queued.
        self.last: tuple[int, int] | None = None
        #: Whether the bridge may write the frames of the entries after
        #: L{seen} straight to the watcher's socket (L{send}), checking
        #: nothing: it has been sent every entry up to L{seen} (none waits
        #: for a replay or in its outbox), it is open and not closing, and
        #: its TCP transport holds nothing.  Set by L{LiveProtocol.take} when
        #: it finds all that true; cleared by whatever may make one of them
        #: false: a write the socket did not take whole, any of autobahn's
        #: writes (a ping, a pong, a close, our own messages), a dropped
        #: connection, being detached.
        self.steady = False
        #: The C{send} of the watcher's TCP socket, written to at once when
        #: the transport holds nothing (see L{LiveProtocol._put}); L{None} on
        #: another transport, where the watcher is never steady.
        self.send: Callable[[bytes], int] | None = None

    def write(self, data: bytes) -> bool:
        """
        Write to the socket of a watcher whose transport holds nothing (a
        L{steady} one); what the socket does not take waits in the transport.

        @return: whether the socket took it all.
        """
        try:
            sent = self.send(data)  # type: ignore[misc]
        except OSError:
            # Full (EAGAIN), or broken: the transport's own write finds out.
            sent = 0
        if sent == len(data):
            return True
        self.watcher.write_later(data[sent:])
        return False


class LiveProtocol(WebSocketServerProtocol):
    """
    A watcher: C{?channels=a,b} (default C{global}) and C{?since=ID} on
    connect; C{{"subscribe": [...]}} and C{{"unsubscribe": [...]}} after.

    @ivar channels: the channels followed now.
    @ivar paused: whether the transport holds bytes not sent yet.
    @ivar seat: what the bridge's pass reads and writes of the watcher
        (what it has been handed and sent, whether it is steady, its frames
        key), kept there alone.
    """

    factory: LiveFactory
    paused = False
    #: The client's address as the resource judged it (behind a trusted
    #: proxy, the forwarded one); the peer's when L{None}.
    client: str | None = None
    #: The compression agreed in the handshake, once open; L{None} without.
    _compression: PerMessageCompress | None = None
    #: The settings the feed's frames are compressed with; L{None} without.
    _deflate: Deflate | None = None
    #: Whether the transport resumes the watcher each time it drains.
    _pull = False
    #: The hub's L{Hub.revocations} when the resource checked that this
    #: watcher may watch the private boards it asks for; L{None} for none.
    admitted_at: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.seat = Seat(self)

    def connectionMade(self) -> None:
        self._follow({"global"})
        self._since: str | None = None
        self._echo = False
        self._pending: list[FeedEntry] | None = []
        self._outbox: list[bytes] = []
        self._queued = 0
        self._closing = False
        self._errors: list[str] = []
        transport: Any = self.transport
        self._ip = self.client or str(getattr(transport.getPeer(), "host", ""))
        self.factory.connections[self._ip] += 1
        WebSocketServerProtocol.connectionMade(self)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.factory.connections[self._ip] -= 1
        if not self.factory.connections[self._ip]:
            del self.factory.connections[self._ip]
        self.factory.hub.detach(self)
        WebSocketServerProtocol.connectionLost(self, reason)

    def onConnect(self, request: Any) -> None:
        params: dict[str, list[str]] = request.params
        if self.factory.settings.echo and params.get("echo") == ["1"]:
            self._echo = True
            return
        if "channels" in params:
            names = ",".join(params["channels"]).split(",")
            try:
                self._follow(set(check_channels(names)))
            except ValueError as e:
                self._errors.append(str(e))
        if "since" in params:
            since = params["since"][-1]
            if parse_id(since) is None:
                self._errors.append(f"since {since!r} is not a feed id")
            else:
                self._since = since

    def _follow(self, channels: set[str]) -> None:
        self.channels = channels
        self.seat.frames_key = self.factory.frames_key(
            frozenset(channels), self._deflate
        )

    def onOpen(self) -> None:
        self._compression = per_message_compress(self)
        # Nothing is compressed before onOpen.
        deflate_at_level(self._compression, DEFLATE_LEVEL)
        if self._echo:
            return
        if isinstance(self._compression, PerMessageDeflate):
            compression = self._compression
            self._deflate = (compression.server_max_window_bits, compression.mem_level)
            self._follow(self.channels)
        # Behind WebSocketResource the HTTP channel is still the transport's
        # producer; the watcher's backpressure replaces it.
        transport: Any = self.transport
        transport.unregisterProducer()
        self._pull = isinstance(transport, tcp.Connection)
        transport.registerProducer(_Backpressure(self), not self._pull)
        if self._pull:
            self.seat.send = transport.socket.send
            # Linux grows a socket's send buffer up to megabytes for a peer
            # that does not read; a fixed one keeps the send limit honest.
            transport.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER
            )
        for error in self._errors:
            self.send_now({"type": "error", "error": error})
        self.send_now({"type": "subscribed", "channels": sorted(self.channels)})
        self.factory.hub.attach(self)
        if (
            self.admitted_at is not None
            and self.admitted_at != self.factory.hub.revocations
        ):
            # A board changed between its check and now: check again.
            self.admit_again()
            return
        self._replay()

    def _replay(self) -> None:
        replay = self.factory.hub.replay(sorted(self.channels), self._since)
        d = Deferred.fromCoroutine(replay)
        d.addCallback(self._replayed)
        d.addErrback(self._replay_failed)

    def _replayed(self, replayed: Replayed) -> None:
        if self.state != WebSocketServerProtocol.STATE_OPEN:
            return  # It left while its replay was read.
        entries, render = replayed
        if self._since is not None:
            self.seat.last = parse_id(self._since)
        pending, self._pending = self._pending or [], None
        self.offer(entries, render)
        self.offer(pending, render)

    def _replay_failed(self, failure: Failure) -> None:
        log.info("replay failed: {error}", error=failure.getErrorMessage())
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            self.send_now(
                {"type": "error", "error": "replay unavailable: Redis is away"}
            )
            self._replayed(([], render_entry))

    def offer(self, entries: Iterable[FeedEntry], render: Render) -> None:
        """
        Queue the entries on this watcher's channels that it has not had,
        to be sent at the end of the reactor turn.

        @param render: makes an entry's message; the bridge's caches them.
        """
        if self._pending is not None:
            self._pending.extend(entries)
            return
        seat = self.seat
        for entry in entries:
            key = entry.key
            if seat.last is not None and key <= seat.last:
                continue
            channel = next((c for c in entry.channels if c in self.channels), None)
            if channel is None:
                continue
            seat.last = key
            self._enqueue(render(entry, channel))

    def take(self, fanout: Fanout) -> int:
        """
        Take a flush's new entries.  A watcher that nothing waits for is
        sent them at once, in the frames made once for every watcher of the
        same channels and compression; another queues them, chosen once for
        those watchers: the bridge's fan-out costs one step per watcher, not
        one per watcher and entry.

        @return: L{SENT}, L{QUEUED} (to be flushed) or L{NOTHING}.
        """
        seat = self.seat
        seat.seen = fanout.last
        if self._pending is not None or (
            seat.last is not None and seat.last >= fanout.first
        ):
            # Replaying, or just done: pick entry by entry.
            before = len(self._outbox)
            self.offer(fanout.entries, fanout.render)
            return QUEUED if len(self._outbox) > before else NOTHING
        seat.last = fanout.last
        if self._closing or self.state != _OPEN:
            return NOTHING
        if not (self.paused or self._outbox):
            data = fanout.frames(seat.frames_key)
            if not data:
                return NOTHING
            seat.steady = self._put(data)
            return SENT
        messages, size = fanout.messages(seat.frames_key[0])
        if not messages:
            return NOTHING
        self._outbox.extend(messages)
        self._queued += size
        if self._queued > self.factory.settings.send_limit:
            self._too_slow()
            return NOTHING
        return QUEUED

    def _enqueue(self, message: bytes) -> None:
        if self._closing:
            return
        self.seat.steady = False
        self._outbox.append(message)
        self._queued += len(message)
        if self._queued > self.factory.settings.send_limit:
            self._too_slow()
            return
        self.factory.hub.mark(self)

    def flush(self, made: Frames | None = None) -> bool:
        """
        Send what is queued, unless the transport still holds bytes: several
        messages to a frame as a JSON array, in one send.

        @param made: frames already made in this flush, keyed by their
            messages' identities: watchers sent the same messages share
            them, made once.
        @return: whether anything was sent.
        """
        if self.paused or self._closing or not self._outbox or self.state != _OPEN:
            return False
        outbox, self._outbox, self._queued = self._outbox, [], 0
        key = (tuple(map(id, outbox)), self._deflate)
        found = None if made is None else made.get(key)
        if found is None:
            # Kept with its frames, the outbox keeps its messages' ids unique.
            found = (outbox, frames(outbox, self._deflate))
            if made is not None:
                made[key] = found
        self._put(found[1])
        return True

    def _put(self, data: bytes) -> bool:
        """
        Write, and wait for the transport to send it all before the next.

        On TCP, when the transport holds nothing, the socket is written to
        at once: C{transport.write} buffers, and sends on the reactor's
        next poll, two epoll changes and a dispatch per socket, which cost
        as much as the send itself when one message goes to thousands of
        watchers.  What the socket does not take waits in the transport.

        @return: whether the socket took it all at once.
        """
        transport: Any = self.transport
        if (
            self.seat.send is not None
            and not (transport.dataBuffer or queued_writes(transport))
            and transport.connected
            and not transport.disconnecting
        ):
            return self.seat.write(data)
        self.write_later(data)
        return False

    def write_later(self, data: bytes) -> None:
        """Leave C{data} to the transport, and wait for it to be sent."""
        self.seat.steady = False
        self.transport.write(data)  # type: ignore[union-attr]
        if self._pull:
            self.paused = True

    def sendData(
        self, data: bytes, sync: bool = False, chopsize: int | None = None
    ) -> None:
        # Every write of autobahn's own (the handshake, our own messages,
        # pings, pongs, closes) goes through the transport.
        self.seat.steady = False
        WebSocketServerProtocol.sendData(self, data, sync, chopsize)

    def dropConnection(self, abort: bool = False) -> None:
        self.seat.steady = False
        WebSocketServerProtocol.dropConnection(self, abort)

    def _too_slow(self) -> None:
        self._closing = True
        self._outbox, self._queued = [], 0
        self.factory.hub.detach(self)
        log.info("closing a live watcher at {ip} that cannot keep up", ip=self._ip)
        # sendClose refuses codes below 3000; 1013 is meant for servers.
        self.sendCloseFrame(TRY_AGAIN_LATER, b"too slow: try again later")

    def admit_again(self) -> None:
        """
        Close with L{ADMIT_AGAIN}, sending nothing more: who watches may
        no longer be allowed to.
        """
        self._closing = True
        self._outbox, self._queued = [], 0
        self.factory.hub.detach(self)
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            self.sendCloseFrame(ADMIT_AGAIN, b"the board changed: connect again")

    def going_away(self) -> None:
        """Close with 1001: this node is stopping."""
        self._closing = True
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            self.sendCloseFrame(GOING_AWAY, b"server stopping")

    def send_now(self, message: dict[str, Any]) -> None:
        """Send one message of our own at once (errors, acknowledgements)."""
        # Uncompressed: no watcher holds a compressor for a few short
        # messages of its own.
        self.sendMessage(
            json.dumps(message).encode(), isBinary=False, doNotCompress=True
        )

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self._echo:
            self.sendMessage(payload, isBinary)
            return
        try:
            self._command(payload, isBinary)
        except ValueError as e:
            self.send_now({"type": "error", "error": str(e)})

    def _command(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            raise ValueError("send JSON text frames, not binary")
        try:
            message = json.loads(payload)
        except ValueError:
            raise ValueError("malformed JSON") from None
        if not isinstance(message, dict) or len(message) != 1:
            raise ValueError(
                'send {"subscribe": [channels]} or {"unsubscribe": [channels]}'
            )
        ((verb, names),) = message.items()
        if verb not in ("subscribe", "unsubscribe"):
            raise ValueError(f"unknown command {verb!r}")
        chosen = set(check_channels(names))
        if verb == "subscribe" and any(c.startswith(BOARD_PREFIX) for c in chosen):
            raise ValueError(
                "a private board's channel is chosen when connecting:"
                " /live?channels=board:<id> (with ?token= unless signed in)"
            )
        if verb == "subscribe":
            if len(self.channels | chosen) > MAX_CHANNELS:
                raise ValueError(f"at most {MAX_CHANNELS} channels")
            self._follow(self.channels | chosen)
        else:
            self._follow(self.channels - chosen)
        self.send_now({"type": "subscribed", "channels": sorted(self.channels)})


class LiveFactory(WebSocketServerFactory):
    """
    The websocket side of the live feed in one process.

    @ivar connections: open websockets per client IP address.
    """

    protocol = LiveProtocol  # type: ignore[assignment]

    def __init__(self, hub: Hub, settings: LiveSettings, reactor: Any) -> None:
        """
        @param hub: the process's live bridge.
        @param settings: the limits.
        @param reactor: what autobahn's timers run on.
        """
        WebSocketServerFactory.__init__(self, reactor=reactor)
        self.hub = hub
        self.settings = settings
        self.connections: Counter[str] = Counter()
        self._frames_keys: dict[FramesKey, FramesKey] = {}
        # Echo runs (conformance) send large messages on purpose, and count
        # an unasked-for ping as a failure.
        size = 16 * 1024 * 1024 if settings.echo else settings.max_message
        ping = 0 if settings.echo else settings.ping_interval
        self.setProtocolOptions(
            maxFramePayloadSize=size,
            maxMessagePayloadSize=size,
            autoPingInterval=ping,
            autoPingTimeout=ping,
            openHandshakeTimeout=10,
            closeHandshakeTimeout=5,
            perMessageCompressionAccept=accept_deflate if settings.deflate else None,
        )

    def frames_key(
        self, channels: frozenset[str], deflate: Deflate | None
    ) -> FramesKey:
        """
        @return: the key of a flush's frames for watchers of C{channels}
            with C{deflate}, the same object for all of them: the bridge
            tells watchers sent the same frames apart by identity alone.
        """
        key = (channels, deflate)
        found = self._frames_keys.get(key)
        if found is None:
            if len(self._frames_keys) >= MAX_FRAMES_KEYS:
                # Those in use go on working, each a key of its own.
                self._frames_keys.clear()
            found = self._frames_keys[key] = key
        return found

    def over_limit(self, ip: str) -> bool:
        """@return: whether C{ip} holds as many websockets as it may."""
        return self.connections[ip] >= self.settings.ip_limit


__all__ = [
    "BOARD_PREFIX",
    "REPLAY_TAIL",
    "TRY_AGAIN_LATER",
    "Hub",
    "LiveFactory",
    "LiveProtocol",
    "check_channels",
    "render_entry",
]

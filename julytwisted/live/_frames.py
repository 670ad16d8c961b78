# -*- test-case-name: tests.live.test_live_pacing,tests.live.test_live_conformance -*-
"""
The feed's websocket frames, made once for every watcher sent the same ones,
compressed (permessage-deflate) once for all that agreed the same settings.

A message compressed without context takeover, by a compressor fresh for it,
is the same bytes for every watcher with the same window and memory level:
so the server agrees C{server_no_context_takeover} in every handshake, and
no watcher holds a compressor of its own (about 256 KiB each at zlib's
defaults).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
)

from julytwisted.store.feed import FeedEntry

#: The most messages one coalesced frame carries.
FRAME_BATCH = 100

#: zlib's level for the feed's shared frames: compressed once per flush for
#: all the watchers they go to, so the default's better ratio costs little.
FEED_DEFLATE_LEVEL = 6

Deflate = tuple[int, int]
"""
What a compressed frame's bytes depend on: the window (C{bits}) and memory
level agreed with a watcher.
"""

FramesKey = tuple[frozenset[str], Deflate | None]
"""What a flush's shared frames depend on: the channels and compression."""

Render = Callable[[FeedEntry, str], bytes]
"""Turns an entry, on one of its channels, into a message's JSON bytes."""

_FIN_TEXT = 0x81
_RSV1 = 0x40


def deflate(payload: bytes, settings: Deflate) -> bytes:
    """
    @return: C{payload} compressed as one permessage-deflate message without
        context takeover (RFC 7692, 7.2.1: the final empty block's four
        bytes left off).
    """
    bits, mem_level = settings
    compressor = zlib.compressobj(FEED_DEFLATE_LEVEL, zlib.DEFLATED, -bits, mem_level)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


def text_frame(payload: bytes, settings: Deflate | None) -> bytes:
    """
    @param settings: compress with these, or send as it is when L{None}.
    @return: one final, unmasked (a server's) text frame of C{payload}.
    """
    first = _FIN_TEXT
    if settings is not None:
        payload = deflate(payload, settings)
        first |= _RSV1
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 126, size)
    else:
        head = struct.pack("!BBQ", first, 127, size)
    return head + payload


def frames(messages: Sequence[bytes], settings: Deflate | None) -> bytes:
    """
    @return: C{messages} as frames of up to L{FRAME_BATCH} each, a JSON
        array (one message alone goes as itself), joined for one send.
    """
    made = []
    for start in range(0, len(messages), FRAME_BATCH):
        batch = messages[start : start + FRAME_BATCH]
        payload = batch[0] if len(batch) == 1 else b"[" + b",".join(batch) + b"]"
        made.append(text_frame(payload, settings))
    return b"".join(made)


class Fanout:
    """
    One flush's new entries as each set of channels sees them, and their
    frames for each compression, each made once, on first demand.

    @ivar first: the oldest entry's key.
    @ivar last: the newest entry's key.
    @ivar render: makes an entry's message, caching it.
    """

    def __init__(self, entries: Sequence[FeedEntry], render: Render) -> None:
        """
        @param entries: newer than any delivered before, oldest first; at
            least one.
        @param render: makes an entry's message, caching it.
        """
        self.entries = entries
        self.first = entries[0].key
        self.last = entries[-1].key
        self.render = render
        self._messages: dict[frozenset[str], tuple[list[bytes], int]] = {}
        #: The frames made, by channels and compression.
        self.made: dict[FramesKey, bytes] = {}

    def messages(self, channels: frozenset[str]) -> tuple[list[bytes], int]:
        """
        @return: the messages a watcher of C{channels} is sent (each entry on
            the first of its channels the watcher follows), and their size.
        """
        found = self._messages.get(channels)
        if found is None:
            chosen = []
            for entry in self.entries:
                channel = next((c for c in entry.channels if c in channels), None)
                if channel is not None:
                    chosen.append(self.render(entry, channel))
            found = self._messages[channels] = (chosen, sum(map(len, chosen)))
        return found

    def frames(self, key: FramesKey) -> bytes:
        """
        @param key: a watcher's channels and compression.
        @return: L{messages} framed for one send, C{b""} when none.
        """
        found = self.made.get(key)
        if found is None:
            channels, settings = key
            messages, _ = self.messages(channels)
            found = self.made[key] = frames(messages, settings)
        return found


class _NoTakeoverAccept(PerMessageDeflateOfferAccept):
    """
    An acceptance that always says C{server_no_context_takeover}, which a
    server may add to a response whose offer did not ask it (RFC 7692,
    7.1.1.1): the client then keeps no window for what we send either.
    """

    def get_extension_string(self) -> str:
        agreed: str = PerMessageDeflateOfferAccept.get_extension_string(self)
        if "server_no_context_takeover" not in agreed:
            name = self.EXTENSION_NAME
            agreed = agreed.replace(name, f"{name}; server_no_context_takeover", 1)
        return agreed


def accept_deflate(offers: Sequence[Any]) -> PerMessageDeflateOfferAccept | None:
    """
    Accept the first permessage-deflate offer, without context takeover on
    our side, and with zlib's hash table no larger than the window the
    client allows us.

    zlib sizes its hash table by memory level alone (2 ** (level + 7)
    entries, 32768 by default) and sweeps all of it each time the window
    slides: with a 512-byte window (C{server_max_window_bits=9}) that is
    every 512 bytes, and compressing took 30 times as long as with the
    default window.  A level of C{bits - 7} keeps the table the window's size.
    """
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            bits = offer.request_max_window_bits or zlib.MAX_WBITS
            return _NoTakeoverAccept(
                offer, no_context_takeover=True, mem_level=max(1, bits - 7)
            )
    return None


__all__ = [
    "FEED_DEFLATE_LEVEL",
    "FRAME_BATCH",
    "Deflate",
    "Fanout",
    "FramesKey",
    "Render",
    "accept_deflate",
    "deflate",
    "frames",
    "text_frame",
]

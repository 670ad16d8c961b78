# -*- test-case-name: tests.store.test_store_feed -*-
"""
The live feed's entries as Python sees them: read from a channel's stream or
from the pub/sub message C{ingest.lua} publishes, and merged across channels;
and L{Feed}, which reads the streams for replay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store import _keys
from julytwisted.store.ingest import FEED_LENGTH

_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")


@attrs.frozen
class FeedEntry:
    """
    One entry of the feed: a scored commit or a change of rank on a board.

    @ivar id: the stream id, the same on every channel the entry is on.
    @ivar type: C{"commit"} or C{"board"}.
    @ivar channels: the channels it is on, C{"global"} first.
    @ivar data: the commit or the board change, as JSON text.
    """

    id: str
    type: str
    channels: tuple[str, ...]
    data: str

    @property
    def key(self) -> tuple[int, int]:
        """The id as a pair that orders entries as Redis does."""
        parsed = parse_id(self.id)
        assert parsed is not None
        return parsed


def parse_id(text: str) -> tuple[int, int] | None:
    """
    @param text: a stream id, C{"MS-SEQ"} or C{"MS"}.
    @return: C{(MS, SEQ)}, or L{None} when the text is no stream id.
    """
    found = _ID.fullmatch(text)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


def entry_from_stream(item: list[Any]) -> FeedEntry:
    """@param item: one C{[id, [field, value, ...]]} of an XRANGE reply."""
    ident, flat = item
    fields = dict(zip(flat[0::2], flat[1::2], strict=True))
    return FeedEntry(
        ident, fields["type"], tuple(json.loads(fields["channels"])), fields["data"]
    )


def entries_from_message(message: str) -> list[FeedEntry]:
    """@param message: what C{ingest.lua} publishes: a JSON array of entries."""
    decoded = json.loads(message)
    return [
        FeedEntry(e["id"], e["type"], tuple(e["channels"]), e["data"]) for e in decoded
    ]


def revoked_channel(message: str) -> str | None:
    """
    @param message: what came on the live feed's pub/sub channel.
    @return: the channel whose watchers must be admitted again, when the
        message is C{private_board.lua}'s word that a board's members or
        read token changed (C{{"revoke": channel}}); L{None} for entries.
    @raise ValueError: for a revocation without a channel.
    """
    if not message.startswith("{"):
        return None
    channel = json.loads(message).get("revoke")
    if not isinstance(channel, str):
        raise ValueError("a revocation names no channel")
    return channel


def merge_entries(replies: Iterable[list[Any]]) -> list[FeedEntry]:
    """
    @param replies: XRANGE replies of several channels, each oldest first.
    @return: their entries, oldest first, each once.
    """
    seen: dict[str, FeedEntry] = {}
    for reply in replies:
        for item in reply:
            if item[0] not in seen:
                seen[item[0]] = entry_from_stream(item)
    return sorted(seen.values(), key=lambda e: e.key)


class Feed:
    """
    The feed's streams, one per channel, as C{ingest.lua} appends to them.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def feed_after(
        self, channels: Sequence[str], since: str, count: int = FEED_LENGTH
    ) -> list[FeedEntry]:
        """
        What the feed's channels got after an entry, oldest first, each entry
        once however many of the channels it is on.

        @param since: a feed entry's id (C{"1751974200000-0"}).
        @param count: the most entries to read from each channel.
        """
        replies = await all_of(
            [
                self._redis.execute(
                    "XRANGE", _keys.feed(c), "(" + since, "+", "COUNT", count
                )
                for c in channels
            ]
        )
        return merge_entries(replies)

    async def feed_tail(self, channels: Sequence[str], count: int) -> list[FeedEntry]:
        """
        The last C{count} entries of the feed's channels together, oldest
        first.
        """
        replies = await all_of(
            [
                self._redis.execute(
                    "XREVRANGE", _keys.feed(c), "+", "-", "COUNT", count
                )
                for c in channels
            ]
        )
        return merge_entries([list(reversed(r)) for r in replies])[-count:]


__all__ = [
    "Feed",
    "FeedEntry",
    "entries_from_message",
    "entry_from_stream",
    "merge_entries",
    "revoked_channel",
]

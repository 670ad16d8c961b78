"""The feed's entries: stream ids, replies merged across channels; pure."""

from __future__ import annotations

import json

import pytest

from julytwisted.store.feed import (
    entries_from_message,
    merge_entries,
    parse_id,
    revoked_channel,
)


def item(ident: str, *channels: str) -> list[object]:
    fields = ["type", "commit", "data", "{}", "channels", json.dumps(channels)]
    return [ident, fields]


def test_parse_id() -> None:
    """Stream ids order as pairs of numbers; anything else is no id."""
    assert parse_id("1700000000000-12") == (1700000000000, 12)
    assert parse_id("5") == (5, 0)
    for bad in ("", "-1", "1-", "a-1", "1-2-3", "1 -2", "9" * 21):
        assert parse_id(bad) is None


def test_merge_orders_by_id_and_keeps_each_entry_once() -> None:
    """An entry on two channels' replies comes once, in id order."""
    global_ = [item("9-0", "global"), item("10-1", "global", "player:ada")]
    player = [item("2-0", "global", "player:ada"), item("10-1", "global", "player:ada")]
    merged = merge_entries([global_, player])
    assert [e.id for e in merged] == ["2-0", "9-0", "10-1"]
    assert merged[2].channels == ("global", "player:ada")


def test_entries_from_message() -> None:
    """The published message is a JSON array of entries, data left as text."""
    message = json.dumps(
        [{"id": "1-0", "type": "commit", "channels": ["global"], "data": '{"a":1}'}]
    )
    [entry] = entries_from_message(message)
    assert entry.data == '{"a":1}' and entry.key == (1, 0)


def test_revoked_channel() -> None:
    """
    A board's word that its watchers must be admitted again names its
    channel; entries are no such word; a word without a channel is an error.
    """
    assert revoked_channel('{"revoke": "board:abcdefghij"}') == "board:abcdefghij"
    assert revoked_channel('[{"id": "1-0"}]') is None
    with pytest.raises(ValueError):
        revoked_channel('{"revoke": 5}')
    with pytest.raises(ValueError):
        revoked_channel("{nope")

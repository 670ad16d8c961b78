"""
The live feed over real websockets: a listening Site with /live, its bridge
subscribed to a real redis-server, pushes posted over HTTP, and watchers
using autobahn's client or the C{websockets} library.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest_twisted
from twisted.internet import threads
from twisted.internet.defer import Deferred, gatherResults
from websockets.sync.client import connect

from julytwisted.live import check_channels
from julytwisted.live._protocol import render_entry
from julytwisted.redis_service import RedisService, all_of
from julytwisted.store.feed import FeedEntry
from tests.builders import github_payload
from tests.live_clients import flatten, settle, watch, ws_url
from tests.web.test_web import add_ada, post_github

Live = tuple[str, Any]


async def push(server: str, *seeds: str, **kwargs: Any) -> list[str]:
    code, answer, _ = await post_github(server, github_payload(*seeds, **kwargs))
    assert code == 201, answer
    hashes: list[str] = answer["commits"]
    return hashes


def test_render_entry_splices_the_stored_json() -> None:
    """A message is the entry's JSON with its type, id and channel around it."""
    entry = FeedEntry("1-2", "commit", ("global",), '{"hash":"ab"}')
    assert json.loads(render_entry(entry, 'pla"yer')) == {
        "type": "commit",
        "id": "1-2",
        "channel": 'pla"yer',
        "commit": {"hash": "ab"},
    }


def test_check_channels() -> None:
    """Channel names are global or kind:slug; anything else is refused."""
    assert check_channels(["global", "player:ada", "team:x-1"]) == [
        "global",
        "player:ada",
        "team:x-1",
    ]
    for bad in ([], ["nope"], ["player:"], ["player:A B"], [1], "global"):
        try:
            check_channels(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


@pytest_twisted.ensureDeferred
async def test_push_reaches_the_right_channels_only(live_server: Live) -> None:
    """
    A push by ada reaches watchers of global, player:ada, project and
    location, with the commit's fields, and no watcher of another player.
    """
    server, _ = live_server
    await add_ada(server)
    query = {
        "global": "channels=global",
        "player": "channels=player:ada",
        "project": "channels=project:gh-ada-engine",
        "location": "channels=location:austin-tx",
        "other": "channels=player:bob,project:gh-bob-x",
    }
    watchers = {k: await watch(server, q) for k, q in query.items()}
    for w in watchers.values():
        await w.wait_for("subscribed", 1)
    [h] = await push(server, "one", message="fix it\n\nlong body")
    for kind in ("global", "player", "project", "location"):
        await watchers[kind].wait_for("commit", 1)
        [message] = watchers[kind].of("commit")
        assert message["channel"] == query[kind].split("=")[1]
        commit = message["commit"]
        assert commit["hash"] == h and commit["message"] == "fix it"
        assert commit["username"] == "ada" and commit["points"] == 11
        assert commit["project"]["slug"] == "gh-ada-engine"
        assert {"url", "timestamp", "picture_url"} <= set(commit)
    await settle()
    assert watchers["other"].of("commit") == []
    for w in watchers.values():
        w.close()


@pytest_twisted.ensureDeferred
async def test_board_message_when_a_top_ten_rank_changes(live_server: Live) -> None:
    """ada's first commit puts her first on the people board: a board message."""
    server, _ = live_server
    await add_ada(server)
    w = await watch(server, "channels=player:ada")
    await w.wait_for("subscribed", 1)
    await push(server, "first")
    await w.wait_for("board", 1)
    [board] = [m["board"] for m in w.of("board") if m["board"]["board"] == "people"]
    assert board["member"] == "ada" and board["rank"] == 1
    assert board["previous"] is None and board["points"] == 11
    w.close()


@pytest_twisted.ensureDeferred
async def test_last_30_of_global_without_since(live_server: Live) -> None:
    """A new watcher without since is sent the last 30 global entries first."""
    server, _ = live_server
    hashes = await push(server, *[f"old{i}" for i in range(35)], email="x@y.org")
    w = await watch(server)
    await w.wait_for("commit", 30)
    await settle()
    assert [m["commit"]["hash"] for m in w.of("commit")] == hashes[-30:]
    w.close()


@pytest_twisted.ensureDeferred
async def test_since_replays_exactly_what_was_missed(live_server: Live) -> None:
    """
    A watcher that drops off and misses three commits reconnects with since:
    it is sent exactly those three, then live ones, none twice.
    """
    server, _ = live_server
    first = await watch(server)
    await push(server, "a", email="x@y.org")
    await first.wait_for("commit", 1)
    last_id = first.of("commit")[-1]["id"]
    first.close()
    await first.closed
    missed = await push(server, "b", "c", "d", email="x@y.org")
    again = await watch(server, f"since={last_id}")
    live = await push(server, "e", email="x@y.org")
    await again.wait_for("commit", 4)
    await settle()
    assert [m["commit"]["hash"] for m in again.of("commit")] == missed + live
    again.close()


async def calls(redis: RedisService, command: str) -> int:
    """@return: how many times Redis ran C{command} since its stats were reset."""
    info: str = await redis.client.execute("INFO", "commandstats")
    found = re.search(rf"cmdstat_{command}:calls=(\d+)", info)
    return int(found.group(1)) if found else 0


@pytest_twisted.ensureDeferred
async def test_replays_asked_together_are_read_once(
    live_server: Live, redis: RedisService
) -> None:
    """
    Ten watchers asking for the same replay at once cost two reads: the
    first asker's, and one sent after it for the nine that asked while it
    was in flight.  All get the same entries, rendered once.
    """
    server, bridge = live_server
    hashes = await push(server, *[f"r{i}" for i in range(5)], email="x@y.org")
    await redis.client.execute("CONFIG", "RESETSTAT")
    tails = await all_of([bridge.replay(["global"], None) for _ in range(10)])
    since = [e for e in tails[0][0] if e.type == "commit"][1].id
    afters = await all_of([bridge.replay(["global"], since) for _ in range(10)])
    assert (await calls(redis, "xrevrange"), await calls(redis, "xrange")) == (2, 2)
    for replays, wanted in ((tails, hashes), (afters, hashes[2:])):
        for entries, _ in replays:
            commits = [e for e in entries if e.type == "commit"]
            assert [json.loads(e.data)["hash"] for e in commits] == wanted
    (entries, render), (_, shared) = tails[1], tails[2]
    assert render(entries[0], "global") is shared(entries[0], "global")


@pytest_twisted.ensureDeferred
async def test_watchers_connecting_together(live_server: Live) -> None:
    """
    Twenty watchers connecting at once, their replays read together, each
    get the last 30 entries and then a live one, none twice.
    """
    server, _ = live_server
    old = await push(server, *[f"old{i}" for i in range(32)], email="x@y.org")
    watchers = await gatherResults(
        [Deferred.fromCoroutine(watch(server)) for _ in range(20)]
    )
    for w in watchers:
        await w.wait_for("commit", 30)
    new = await push(server, "new", email="x@y.org")
    for w in watchers:
        await w.wait_for("commit", 31)
    await settle()
    for w in watchers:
        assert [m["commit"]["hash"] for m in w.of("commit")] == old[-30:] + new
        w.close()


def _blocking_watch(url: str, wanted: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    with connect(url, open_timeout=10) as ws:
        while len([m for m in got if m["type"] == "commit"]) < wanted:
            got.extend(flatten(ws.recv(timeout=10)))
    return got


@pytest_twisted.ensureDeferred
async def test_websockets_library_client(live_server: Live) -> None:
    """An independent client (websockets) receives pushes as JSON text frames."""
    server, bridge = live_server
    seen = threads.deferToThread(
        _blocking_watch, ws_url(server, "channels=project:gh-ada-engine"), 2
    )
    while not bridge.watchers:
        await settle(0.02)
    hashes = await push(server, "w1", "w2")
    got = await seen
    assert [m["commit"]["hash"] for m in got if m["type"] == "commit"] == hashes


@pytest_twisted.ensureDeferred
async def test_subscribe_and_unsubscribe_messages(live_server: Live) -> None:
    """Channels change with subscribe and unsubscribe messages, acknowledged."""
    server, _ = live_server
    w = await watch(server, "channels=player:nobody")
    await w.wait_for("subscribed", 1)
    w.send({"subscribe": ["project:gh-ada-engine"]})
    await w.wait_for("subscribed", 2)
    assert w.of("subscribed")[-1]["channels"] == [
        "player:nobody",
        "project:gh-ada-engine",
    ]
    [h] = await push(server, "s1", email="x@y.org")
    await w.wait_for("commit", 1)
    assert w.of("commit")[0]["commit"]["hash"] == h
    w.send({"unsubscribe": ["project:gh-ada-engine"]})
    await w.wait_for("subscribed", 3)
    await push(server, "s2", email="x@y.org")
    await settle()
    assert len(w.of("commit")) == 1
    w.close()


@pytest_twisted.ensureDeferred
async def test_malformed_client_messages_get_error_frames(live_server: Live) -> None:
    """
    Bad JSON, unknown commands, bad channels and binary frames each get an
    error frame; the connection stays open and still receives the feed.
    """
    server, _ = live_server
    w = await watch(server, "channels=global,bad%20channel&since=xyz")
    await w.wait_for("error", 2)
    for bad in (
        b"{not json",
        {"dance": ["global"]},
        {"subscribe": "global"},
        {"subscribe": ["player:"]},
        [1, 2],
        {"subscribe": ["global"], "unsubscribe": ["global"]},
    ):
        w.send(bad)
    assert w.protocol is not None
    w.protocol.sendMessage(b"\x00\x01", isBinary=True)
    await w.wait_for("error", 9)
    assert all(isinstance(e["error"], str) for e in w.of("error"))
    [h] = await push(server, "after", email="x@y.org")
    await w.wait_for("commit", 1)
    assert w.of("commit")[-1]["commit"]["hash"] == h
    w.close()


@pytest_twisted.ensureDeferred
async def test_coalesced_frames_under_load(live_server: Live) -> None:
    """A push of many commits arrives in a few frames, each a JSON array."""
    server, _ = live_server
    w = await watch(server)
    await w.wait_for("subscribed", 1)
    frames = w.frames
    await push(server, *[f"many{i}" for i in range(50)], email="x@y.org")
    await w.wait_for("commit", 50)
    assert w.frames - frames < 5
    w.close()


@pytest_twisted.ensureDeferred
async def test_commit_message_is_json_escaped(live_server: Live) -> None:
    """Markup and quotes in a message arrive as the same text."""
    server, _ = live_server
    w = await watch(server)
    text = '<img src=x onerror="alert(1)"> \\ \u00e9'
    await push(server, "markup", message=text, email="x@y.org")
    await w.wait_for("commit", 1)
    assert w.of("commit")[-1]["commit"]["message"] == text
    w.close()


@pytest_twisted.ensureDeferred
async def test_page_and_redirect(live_server: Live) -> None:
    """GET /live is sent to /live/, which serves the page."""
    import treq

    server, _ = live_server
    r = await treq.get(server + "/live", allow_redirects=False)
    assert r.code == 302 and r.headers.getRawHeaders("location") == ["/live/"]
    r = await treq.get(server + "/live/")
    assert r.code == 200 and b"live.js" in await r.content()


@pytest_twisted.ensureDeferred
async def test_oversized_client_message_drops_that_connection(
    live_server: Live,
) -> None:
    """
    A client message over the size limit ends that connection (autobahn
    drops it, as it does on every protocol error); the server goes on.
    """
    server, _ = live_server
    w = await watch(server)
    await w.wait_for("subscribed", 1)
    w.send(b'{"subscribe": ["' + b"x" * (65 * 1024) + b'"]}')
    assert await w.closed in (1006, 1009)
    other = await watch(server)
    await other.wait_for("subscribed", 1)
    other.close()

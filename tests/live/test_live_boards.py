"""
A private board's live channel, C{board:<id>}, over real websockets: a
member's commit inside the board's dates reaches its watchers, nothing else
does, and only members and the holders of its read token may watch it, for
as long as they are (a board's change closes its watchers, to be admitted
again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor

from julytwisted.config import Config
from julytwisted.jobs.queue import Queue
from julytwisted.live import ADMIT_AGAIN, LiveBridge, LiveResource
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import IN_JULY, github_payload
from tests.live.test_live import push
from tests.live_clients import Watcher, settle, watch, ws_url
from tests.pages.test_accounts import Visitor
from tests.web.test_web import add_ada, post_github

Live = tuple[str, Any]

_UPGRADE = {
    "Upgrade": ["websocket"],
    "Connection": ["Upgrade"],
    "Sec-WebSocket-Version": ["13"],
    "Sec-WebSocket-Key": ["dGhlIHNhbXBsZSBub25jZQ=="],
}


async def upgrade(server: str, query: str, cookie: str = "") -> int:
    headers = dict(_UPGRADE)
    if cookie:
        headers["Cookie"] = [cookie]
    answer = await treq.get(f"{server}/live?{query}", headers=headers)
    code: int = answer.code
    await answer.content()
    return code


async def admitted(server: str, query: str, board_id: str, cookie: str = "") -> None:
    """Connect, and see the board's channel among those subscribed."""
    headers = {"Cookie": cookie} if cookie else None
    watcher = await Watcher(ws_url(server, query), headers).connect()
    await watcher.wait_for("subscribed", 1)
    assert f"board:{board_id}" in watcher.of("subscribed")[0]["channels"]
    watcher.close()


@pytest_twisted.ensureDeferred
async def test_board_channel_gets_members_commits(
    live_server: Live, store: Store
) -> None:
    """
    With the board's token, a watcher of board:<id> gets ada's commit inside
    its dates; a commit before them, and a stranger's, never come.
    """
    server, _ = live_server
    await add_ada(server)
    await store.create_player("bob", "Bob", ["bob@example.com"])
    start = datetime(2026, 7, 5, tzinfo=UTC)
    board = await store.private_boards.create("ada", "Sprint", store.game(), start)
    watcher = await watch(server, f"channels=board:{board.id}&token={board.token}")
    await watcher.wait_for("subscribed", 1)
    [inside] = await push(server, "in")
    await push(server, "early", when=datetime(2026, 7, 2, tzinfo=UTC))
    code, _, _ = await post_github(
        server,
        github_payload("bob1", email="bob@example.com", owner="bob", when=IN_JULY),
    )
    assert code == 201
    await watcher.wait_for("commit", 1)
    await settle()
    [message] = watcher.of("commit")
    assert message["channel"] == f"board:{board.id}"
    assert message["commit"]["hash"] == inside
    watcher.close()
    # A late watcher replays it from the board's own stream.
    late = await watch(server, f"channels=board:{board.id}&token={board.token}")
    await late.wait_for("commit", 1)
    assert [m["commit"]["hash"] for m in late.of("commit")] == [inside]
    late.close()


@pytest_twisted.ensureDeferred
async def test_only_members_and_token_holders_watch(
    live_server: Live, store: Store
) -> None:
    """
    Without the token, with a wrong or old one, or signed in as a stranger,
    the upgrade is refused with 403; a member signed in is let in; a board
    channel cannot be added after connecting.
    """
    server, _ = live_server
    await store.create_player("ada", "Ada", ["ada@example.com"])
    board = await store.private_boards.create("ada", "Sprint", store.game())
    channel = f"channels=global,board:{board.id}"
    assert await upgrade(server, channel) == 403
    assert await upgrade(server, f"{channel}&token=guess") == 403
    assert await upgrade(server, "channels=board:aaaaaaaaaa&token=x") == 403
    await admitted(server, f"{channel}&token={board.token}", board.id)
    await store.private_boards.rotate_token("ada", board.id)
    assert await upgrade(server, f"{channel}&token={board.token}") == 403
    bob = Visitor(server)
    await bob.sign_up("bob")
    cookie = "; ".join(f"{k}={v}" for k, v in bob.cookies.items())
    assert await upgrade(server, channel, cookie) == 403
    await store.private_boards.join("bob", board.code, store.now())
    await admitted(server, channel, board.id, cookie)
    plain = await watch(server, "channels=global")
    await plain.wait_for("subscribed", 1)
    plain.send({"subscribe": [f"board:{board.id}"]})
    await plain.wait_for("error", 1)
    assert "when connecting" in plain.of("error")[0]["error"]
    assert plain.of("subscribed")[-1]["channels"] == ["global"]
    plain.close()


async def closed(watcher: Watcher) -> int | None:
    """@return: the code the server closed a watcher with, within 10 seconds."""
    from twisted.internet import reactor

    return await watcher.closed.addTimeout(10, reactor)


async def watching(server: str, board_id: str, query: str, cookie: str) -> Watcher:
    """A watcher of the board's channel, admitted and subscribed."""
    url = ws_url(server, f"channels=board:{board_id}{query}")
    watcher = await Watcher(url, {"Cookie": cookie} if cookie else None).connect()
    await watcher.wait_for("subscribed", 1)
    return watcher


@pytest_twisted.ensureDeferred
async def test_watchers_are_let_go_when_a_board_changes(
    live_server: Live, store: Store
) -> None:
    """
    Admitted once is not admitted for ever: when a member is removed or
    leaves, or the read token changes, the board's watchers are closed
    (L{ADMIT_AGAIN}), so that a removed member's open socket gets none of
    the board's later commits; those still allowed connect again, and are
    let in; those no longer are refused.
    """
    server, _ = live_server
    await add_ada(server)
    bob = Visitor(server)
    await bob.sign_up("bob")
    cookie = "; ".join(f"{k}={v}" for k, v in bob.cookies.items())
    board = await store.private_boards.create("ada", "Sprint", store.game())
    await store.private_boards.join("bob", board.code, store.now())
    member = await watching(server, board.id, "", cookie)
    holder = await watching(server, board.id, f"&token={board.token}", "")
    await store.private_boards.remove_member("ada", board.id, "bob")
    assert await closed(member) == ADMIT_AGAIN
    assert await closed(holder) == ADMIT_AGAIN
    await push(server, "after")
    await settle()
    assert member.of("commit") == [] and holder.of("commit") == []
    assert await upgrade(server, f"channels=board:{board.id}", cookie) == 403
    holder = await watching(server, board.id, f"&token={board.token}", "")
    await store.private_boards.rotate_token("ada", board.id)
    assert await closed(holder) == ADMIT_AGAIN
    assert (
        await upgrade(server, f"channels=board:{board.id}&token={board.token}") == 403
    )
    await store.private_boards.join("bob", board.code, store.now())
    member = await watching(server, board.id, "", cookie)
    await store.private_boards.leave("bob", board.id)
    assert await closed(member) == ADMIT_AGAIN
    assert await upgrade(server, f"channels=board:{board.id}", cookie) == 403


@pytest_twisted.ensureDeferred
async def test_board_watchers_admitted_again_after_an_outage(
    live_server: Live, store: Store
) -> None:
    """
    Word that a board changed, published while a node's subscription was
    down, is lost to it: once subscribed again, it closes its boards'
    watchers (L{ADMIT_AGAIN}) so that each is checked anew; the others stay.
    """
    server, bridge = live_server
    await store.create_player("ada", "Ada", ["ada@example.com"])
    board = await store.private_boards.create("ada", "Sprint", store.game())
    holder = await watching(server, board.id, f"&token={board.token}", "")
    plain = await watch(server, "channels=global")
    await plain.wait_for("subscribed", 1)
    bridge._connection.transport.loseConnection()
    while bridge.live:
        await settle(0.02)
    await store.private_boards.rotate_token("ada", board.id)
    assert await closed(holder) == ADMIT_AGAIN
    assert bridge.live and plain.close_code is None
    plain.close()


@pytest_twisted.async_yield_fixture
async def slow_check_server(
    store: Store, config: Config, queue: Queue, redis: RedisService
) -> AsyncIterator[tuple[str, LiveBridge, LiveResource]]:
    """A Site whose live feed's board check the test replaces."""
    from julytwisted.live import build_live
    from julytwisted.service import build_site

    bridge, live = build_live(store, redis.subscriber, config.live, reactor)
    bridge.startService()
    site = build_site(store, config, queue, live=live)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    while not bridge.live:
        await settle(0.02)
    yield f"http://127.0.0.1:{port.getHost().port}", bridge, live
    await port.stopListening()
    bridge.stopService()


@pytest_twisted.ensureDeferred
async def test_a_change_during_the_check_admits_again(
    slow_check_server: tuple[str, LiveBridge, LiveResource], store: Store
) -> None:
    """
    The check that a watcher may watch a board reads Redis; word that the
    board changed, arriving while it reads, must not be lost to the watcher
    it then lets in: the socket opens, and is closed at once (L{ADMIT_AGAIN})
    to be checked again, with none of the board's entries.  (The token
    holder's check here answers yes, and the token is rotated meanwhile.)
    """
    server, bridge, live = slow_check_server
    await store.create_player("ada", "Ada", ["ada@example.com"])
    board = await store.private_boards.create("ada", "Sprint", store.game())

    async def stale_yes(request: object, board_id: str) -> bool:
        seen = bridge.revocations
        await store.private_boards.rotate_token("ada", board.id)
        while bridge.revocations == seen:
            await settle(0.02)
        return True

    live.use_board_check(stale_yes)
    url = ws_url(server, f"channels=board:{board.id}&token={board.token}")
    watcher = await Watcher(url).connect()
    assert await closed(watcher) == ADMIT_AGAIN
    await push(server, "after")
    await settle()
    assert watcher.of("commit") == []

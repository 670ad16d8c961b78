"""
A private board's live channel, C{board:<id>}, over real websockets: a
member's commit inside the board's dates reaches its watchers, nothing else
does, and only members and the holders of its read token may watch it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest_twisted
import treq

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

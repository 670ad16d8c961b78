"""
A node that answers webhooks and serves watchers both, as built for
C{twistd -n julython}: a message on the feed's subscription is read before
the reply of the command that published it, when both arrive together;
otherwise the code awaiting the reply (a webhook's, hundreds of
microseconds) runs before the watchers are sent the commit.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest_twisted
from twisted.internet import reactor

from julytwisted.config import Config, RedisAddress
from julytwisted.live import LiveBridge
from julytwisted.service import build
from julytwisted.store import LIVE_PUBSUB, Store
from tests.live_clients import settle, watch

#: Publishes its argument on its key's channel after 20 ms of Redis's time,
#: then answers: the reactor, asleep meanwhile, finds both when it wakes.
_LATE_PUBLISH = """
local began = redis.call('TIME')
local now
repeat
  now = redis.call('TIME')
until (now[1] - began[1]) * 1000000 + (now[2] - began[2]) >= 20000
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
"""


class Node(NamedTuple):
    url: str
    bridge: LiveBridge
    store: Store


@pytest_twisted.async_yield_fixture
async def node(redis_socket: Path, tmp_path: Path) -> AsyncIterator[Node]:
    """A whole process, as L{build} makes it, on the session's Redis."""
    config = Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        listen=(),
        workers=0,
        redis=RedisAddress(None, None, str(redis_socket), 0, None),
    )
    top, store, site = build(config, reactor)
    top.startService()
    bridge = top.getServiceNamed("live-bridge")
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    for _ in range(500):
        if bridge.live:
            break
        await settle(0.02)
    yield Node(f"http://127.0.0.1:{port.getHost().port}", bridge, store)
    await port.stopListening()
    await top.stopService()


async def _order(node: Node) -> list[str]:
    """
    Run a script that publishes on the feed's channel while the reactor
    sleeps, so that its reply and its message wait together.

    @return: C{"message"} and C{"reply"}, in the order the node read them.
    """
    order: list[str] = []
    published = node.bridge.published

    def heard(message: str) -> None:
        order.append("message")
        published(message)

    node.bridge.published = heard  # type: ignore[method-assign]
    # An empty list of entries: nothing to deliver, nothing to warn of.
    d: Any = node.store.redis.execute("EVAL", _LATE_PUBLISH, 1, LIVE_PUBSUB, "[]")
    d.addCallback(lambda _: order.append("reply"))
    # Sent by the next turn; asleep while Redis runs the script and after.
    reactor.callLater(0.005, time.sleep, 0.3)
    await d
    for _ in range(100):
        if len(order) == 2:
            break
        await settle(0.01)
    node.bridge.published = published  # type: ignore[method-assign]
    return order


@pytest_twisted.ensureDeferred
async def test_a_message_is_read_before_the_reply_of_its_command(node: Node) -> None:
    """
    With a watcher served, the message goes first: the reply's read first
    reads what waits on the subscription.
    """
    watcher = await watch(node.url)
    await watcher.wait_for("subscribed", 1)
    assert await _order(node) == ["message", "reply"]
    watcher.close()


@pytest_twisted.ensureDeferred
async def test_no_watcher_no_read_out_of_turn(node: Node) -> None:
    """
    With no watcher, nobody waits for the message, and the reactor's order
    stands: the reply, written first by Redis, is read first.  (So the
    test above meets both waiting together, or it could not tell.)
    """
    assert node.bridge.watchers == 0
    assert await _order(node) == ["reply", "message"]

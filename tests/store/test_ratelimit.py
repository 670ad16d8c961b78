"""
Rate limits: GCRA in Redis against a real redis-server, then through a real
Site: webhooks per address, JSON-RPC per token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.task import deferLater
from twisted.python.usage import UsageError
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.config import Config, Limit, Options, RedisAddress, parse_limit
from julytwisted.errors import NotFound
from julytwisted.jobs.queue import Queue
from julytwisted.redis_service import RedisService
from julytwisted.service import build_site
from julytwisted.store import Store
from julytwisted.store.ratelimit import ClientAddress, RateLimiter
from tests.builders import body, github_payload
from tests.test_metrics import samples, value
from tests.web.test_web import call

HOOK = {"Content-Type": "application/json", "X-GitHub-Event": "push"}


@pytest_twisted.ensureDeferred
async def test_burst_then_steady_rate(redis: RedisService) -> None:
    """
    Three at once, then the fourth waits about a third of a second; another
    client is not held back; after the wait, one more goes through.
    """
    limiter = RateLimiter(redis.client, {"rpc": Limit(3, 1.0)})
    for _ in range(3):
        assert (await limiter.check("rpc", "a")).allowed
    refused = await limiter.check("rpc", "a")
    assert not refused.allowed and 0 < refused.retry_after <= 0.34
    assert (await limiter.check("rpc", "b")).allowed
    await deferLater(reactor, refused.retry_after + 0.02, lambda: None)
    assert (await limiter.check("rpc", "a")).allowed
    assert not (await limiter.check("rpc", "a")).allowed


@pytest_twisted.ensureDeferred
async def test_unlimited_names_and_redis_away(tmp_path: Path) -> None:
    """
    A limit that is off lets everything through; so does any limit while
    Redis does not answer (the limiter must not take the service down).
    """
    dead = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    dead.client.timeout = 0.2
    dead.startService()
    try:
        limiter = RateLimiter(dead.client, {"rpc": Limit(1, 60.0), "login": None})
        for name in ("rpc", "rpc", "login", "other"):
            assert (await limiter.check(name, "a")).allowed
    finally:
        await dead.stopService()


def _request(peer: str, forwarded: str | None = None) -> DummyRequest:
    request = DummyRequest([b""])
    request.client = IPv4Address("TCP", peer, 4321)
    if forwarded is not None:
        request.requestHeaders.addRawHeader(b"X-Forwarded-For", forwarded.encode())
    return request


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        # Not from the proxy: the header is the client's own word, ignored.
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        # A client's forged first hop is not believed: the proxy's is.
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", "198.51.100.7"),
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_client_address_behind_a_trusted_proxy(
    peer: str, forwarded: str | None, client: str
) -> None:
    """X-Forwarded-For counts only when a trusted proxy sent it."""
    assert ClientAddress(["10.0.0.0/8"])(_request(peer, forwarded)) == client


def test_rate_limit_options() -> None:
    """--rate-limit NAME=COUNT/PERIOD or NAME=off; bad ones are refused."""
    assert parse_limit("rpc=600/m") == ("rpc", Limit(600, 60.0))
    assert parse_limit("login=5/10m") == ("login", Limit(5, 600.0))
    assert parse_limit("webhooks=off") == ("webhooks", None)
    options = Options(environ={})
    options.parseOptions(["--rate-limit", "login=5/s", "--trusted-proxy", "10.0.0.0/8"])
    assert options.config.rate_limits["login"] == Limit(5, 1.0)
    assert options.config.rate_limits["rpc"] == Limit(600, 60.0)
    assert options.config.trusted_proxies == ("10.0.0.0/8",)
    for bad in ["rpc=0/m", "rpc=5", "rpc=5/0s", "live=5/x", "rpc=five/m", "rpc=5/d"]:
        with pytest.raises(UsageError, match="--rate-limit"):
            Options(environ={}).parseOptions(["--rate-limit", bad])
    with pytest.raises(UsageError, match="--trusted-proxy"):
        Options(environ={}).parseOptions(["--trusted-proxy", "nginx"])


@pytest_twisted.async_yield_fixture
async def limited(
    store: Store, config: Config, queue: Queue
) -> AsyncIterator[tuple[str, Any]]:
    """
    A Site allowing 2 webhook posts, 3 JSON-RPC requests and 2 sign-ups or
    sign-ins a minute.
    """
    limits = {
        "webhooks": Limit(2, 60.0),
        "rpc": Limit(3, 60.0),
        "login": Limit(2, 60.0),
    }
    site = build_site(store, attrs.evolve(config, rate_limits=limits), queue)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}", store
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_webhooks_over_the_limit_get_429(limited: tuple[str, Store]) -> None:
    """
    The third post in a minute from one address gets 429 with Retry-After
    and a JSON error, and stores nothing; the two before it keep their
    commits.
    """
    server, store = limited
    for seed in ("one", "two"):
        code, _, _ = await call(
            "POST",
            server + "/api/v1/github",
            data=body(github_payload(seed)),
            headers=HOOK,
        )
        assert code == 201
    code, answer, headers = await call(
        "POST",
        server + "/api/v1/github",
        data=body(github_payload("three")),
        headers=HOOK,
    )
    assert code == 429 and "retry" in answer["error"]
    assert 1 <= int(headers.getRawHeaders("Retry-After")[0]) <= 30
    stored = (await store.commits(limit=10)).models
    assert sorted(c.summary for c in stored) == ["commit one", "commit two"]
    scrape = samples(await (await treq.get(server + "/metrics")).text())
    assert value(scrape, "julython_rate_limited_total", limit="webhooks") == 1


async def rpc_call(server: str, payload: object, auth: str | None) -> Any:
    """POST C{payload} to /json/ with an C{Authorization} header if given."""
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    data = json.dumps(payload).encode()
    return await call("POST", server + "/json/", data=data, headers=headers)


LIST = {"jsonrpc": "2.0", "id": 1, "method": "system.listMethods"}


@pytest_twisted.ensureDeferred
async def test_json_rpc_limited_per_player(limited: tuple[str, Store]) -> None:
    """
    The fourth request with one player's token gets HTTP 429, Retry-After
    and error 429 with retry_after; a batch counts once; another player's
    token and anonymous callers have their own allowance.
    """
    server, store = limited
    tokens = {}
    for name in ("ada", "bob"):
        await store.create_player(name, name, [f"{name}@example.com"])
        tokens[name] = "Bearer " + await store.create_token(name)
    for payload in (LIST, [LIST, LIST, LIST, LIST], LIST):
        code, _, _ = await rpc_call(server, payload, tokens["ada"])
        assert code == 200
    code, answer, headers = await rpc_call(server, LIST, tokens["ada"])
    assert code == 429
    assert answer["error"]["code"] == 429 and answer["error"]["data"]["retry_after"] > 0
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    assert (await rpc_call(server, LIST, tokens["bob"]))[0] == 200
    assert (await rpc_call(server, LIST, None))[0] == 200


@pytest_twisted.ensureDeferred
async def test_junk_authorization_buys_no_allowance(
    limited: tuple[str, Store],
) -> None:
    """
    Each request with another made-up Authorization header (an unknown
    token, a wrong password, a malformed header, another scheme) counts
    against its address's allowance, as an anonymous one does: the fourth
    is 429 from the rpc limit.  Before, the limit was keyed on the header's
    whole value, so every new header was a new allowance.
    """
    server, _ = limited
    junk = [
        "Bearer made-up",
        "Basic " + base64.b64encode(b"nobody:wrong horse").decode(),
        "Basic !!!",
        "Digest whatever",
    ]
    codes = [(await rpc_call(server, LIST, header))[0] for header in junk]
    assert codes == [200, 200, 200, 429]
    assert (await rpc_call(server, LIST, None))[0] == 429
    scrape = samples(await (await treq.get(server + "/metrics")).text())
    assert value(scrape, "julython_rate_limited_total", limit="rpc") == 2


@pytest_twisted.ensureDeferred
async def test_sign_ups_and_sign_ins_limited_per_address(
    limited: tuple[str, Store],
) -> None:
    """
    The third sign-up or sign-in from one address in a minute gets the form
    again with 429 and Retry-After, and creates no player.
    """
    from tests.pages.test_accounts import Visitor

    server, store = limited
    visitor = Visitor(server)
    await visitor.sign_up("ada")
    code, _, _ = await visitor.post("/login", {"username": "ada", "password": "x"})
    assert code == 401
    fields = {"username": "bob", "password": "correct horse", "email": "b@b.org"}
    code, page, headers = await visitor.post("/signup", fields)
    assert code == 429 and b"Too many attempts" in page
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    with pytest.raises(NotFound):
        await store.player("bob")

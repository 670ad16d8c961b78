"""
Bitbucket Data Center's private repositories, over real HTTP against its
listening stub: the owner gives an HTTP access token when adding the
repository (the C{/projects/add} form, C{julython.addRepository}'s
C{token}); the server must say it reads the repository, else it is refused
and nothing is kept; it is kept sealed (never in Redis, a page, an answer or
the log in clear), the job reads the commits with it, a new one replaces
it, and the repository's removal drops it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.logger import formatEvent, globalLogPublisher

from julytwisted.jobs.queue import Queue
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, _keys
from tests.hosts.stub_bitbucket_server import BitbucketServerStub
from tests.htmlcheck import check_page, hidden_field
from tests.pages.test_accounts import Visitor
from tests.test_methods import rpc
from tests.web.data_center import HISTORY, post, refs_changed, settled, signature

ADD = "/projects/add"
#: Tokens as Data Center makes them: 44 characters of base64.
TOKEN = "NjU0MzIxOTg3NjU0Olx7mQ2vTz8kq0Rj3Yb5Wc1Hn9Ue"
NEW_TOKEN = "MTIzNDU2Nzg5MDEyOnW4bP7sLx2Ae6Gd0Tk5Rq8Zm3Vy"


@pytest.fixture
def private(server_host: BitbucketServerStub) -> BitbucketServerStub:
    """The stub, its repository private and readable by Ada's tokens."""
    engine = server_host.repositories["ADA/engine"]
    engine.private, engine.readers = True, {"ada"}
    server_host.add_token(TOKEN, "ada")
    server_host.add_token(NEW_TOKEN, "ada")
    server_host.add_token("pat-bob", "bob")
    return server_host


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """Every event logged meanwhile, formatted."""
    seen: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        seen.append(f"{formatEvent(event)} {event!r}")

    globalLogPublisher.addObserver(observe)
    yield seen
    globalLogPublisher.removeObserver(observe)


def page_of(stub: BitbucketServerStub) -> str:
    """The repository's page at the stub, as its owner pastes it."""
    return f"{stub.url}/projects/ADA/repos/engine/browse"


async def form(visitor: Visitor, path: str, fields: dict[str, str]) -> tuple[int, Any]:
    """Post one of C{/projects/add}'s forms; the answer and its page."""
    _, page, _ = await visitor.get(ADD)
    code, body, _ = await visitor.post(path, fields, hidden_field(page, "csrf"))
    return code, body


def text_of(body: bytes) -> str:
    return " ".join(" ".join(check_page(body).itertext()).split())


async def everything(redis: RedisService) -> str:
    """Every key Redis holds and its value, whatever its type, as text."""
    read = {
        "string": ("GET",),
        "hash": ("HGETALL",),
        "set": ("SMEMBERS",),
        "list": ("LRANGE", 0, -1),
        "zset": ("ZRANGE", 0, -1, "WITHSCORES"),
        "stream": ("XRANGE", "-", "+"),
    }
    held: dict[str, object] = {}
    cursor = "0"
    while True:
        cursor, keys = await redis.client.execute("SCAN", cursor, "COUNT", 1000)
        for key in keys:
            kind = await redis.client.execute("TYPE", key)
            command, *args = read[kind]
            held[key] = await redis.client.execute(command, key, *args)
        if cursor == "0":
            return repr(held)


def assert_nowhere(token: str, *texts: str) -> None:
    """Neither C{token} nor its base64 is in any of C{texts}."""
    encoded = base64.b64encode(token.encode()).decode()
    for text in texts:
        assert token not in text and encoded not in text


async def kept(store: Store, username: str = "ada") -> str:
    """The sealed token of the player's one repository."""
    [registration] = await store.repositories.of_player(username)
    return registration.token


@pytest_twisted.ensureDeferred
async def test_private_repository_lands_with_the_token_given(
    site: Callable[..., str],
    store: Store,
    queue: Queue,
    redis: RedisService,
    worker: None,
    private: BitbucketServerStub,
    logged: list[str],
) -> None:
    """
    Ada adds her private repository at /projects/add with a token that
    reads it: the server is asked with it, the page shows the secret to
    paste but never the token, and her signed push lands, its commits read
    with the token.  Redis, the pages, the JSON-RPC answers and the log
    hold the token nowhere in clear.
    """
    url = site()
    visitor = Visitor(url)
    await visitor.sign_up("ada")
    _, page, _ = await visitor.get(ADD)
    box = check_page(page).find(".//input[@name='token']")
    assert box is not None and box.get("type") == "password"
    code, body = await form(visitor, ADD, {"url": page_of(private), "token": TOKEN})
    assert code == 200, text_of(body)
    assert "Its commits are read with the token you gave" in text_of(body)
    secret = check_page(body).findtext(".//code[@class='secret']")
    assert secret
    [checked] = private.asked_for("GET", "/rest/api/1.0/projects/ADA/repos/engine")
    assert checked.headers["authorization"] == f"Bearer {TOKEN}"

    data = refs_changed(private, HISTORY[1], HISTORY[5])
    code, answer = await post(url, data, signature(secret, data))
    assert code == 202, answer
    status = await settled(queue, answer["jobs"][0])
    assert status["result"]["new"] == HISTORY[2:6]
    assert private.asked[-1].path.endswith("/commits")
    assert private.asked[-1].headers["authorization"] == f"Bearer {TOKEN}"

    auth = f"Bearer {await store.create_token('ada')}"
    _, listed = await rpc(url, "julython.listRepositories", None, auth)
    [mine] = listed["result"]
    assert mine["token_kept"] is True
    _, again, _ = await visitor.get(ADD)
    assert await kept(store)
    dump = await everything(redis)
    assert_nowhere(TOKEN, dump, body.decode(), again.decode(), json.dumps(listed))
    assert_nowhere(TOKEN, *logged)


@pytest_twisted.ensureDeferred
async def test_a_token_that_does_not_read_it_is_refused(
    site: Callable[..., str],
    store: Store,
    redis: RedisService,
    private: BitbucketServerStub,
    logged: list[str],
) -> None:
    """
    A mistyped token, or one of an account that may not read the
    repository, is refused at adding (403 saying what token to give), over
    the form and JSON-RPC alike; nothing is kept, and the typed token is
    not put back in the form.  Text that is no token is refused as invalid
    params, and so is a token for another host's repository.  No refused
    token is logged.
    """
    url = site()
    visitor = Visitor(url)
    await visitor.sign_up("ada")
    for wrong in ("pat-guess", "pat-bob"):
        code, body = await form(visitor, ADD, {"url": page_of(private), "token": wrong})
        assert code == 403, text_of(body)
        assert "refused the token" in text_of(body)
        assert "HTTP access token with repository read permission" in text_of(body)
        assert wrong not in body.decode()
    auth = f"Bearer {await store.create_token('ada')}"
    _, refused = await rpc(
        url, "julython.addRepository", [page_of(private), "pat-guess"], auth
    )
    assert refused["error"]["code"] == 403, refused
    _, spaced = await rpc(
        url, "julython.addRepository", [page_of(private), "pat ada"], auth
    )
    assert spaced["error"]["code"] == -32602, spaced
    assert "which has no spaces" in spaced["error"]["message"]
    _, elsewhere = await rpc(
        url,
        "julython.addRepository",
        {"url": "https://github.com/ada/engine", "token": TOKEN},
        auth,
    )
    assert elsewhere["error"]["code"] == -32602, elsewhere
    assert "Bitbucket Data Center repositories only" in elsewhere["error"]["message"]
    assert await store.repositories.of_player("ada") == []
    assert "pat-guess" not in await everything(redis)
    assert_nowhere("pat-guess", *logged)
    assert_nowhere("pat-bob", *logged)


@pytest_twisted.ensureDeferred
async def test_a_token_is_replaced_and_removed_with_its_repository(
    site: Callable[..., str],
    store: Store,
    queue: Queue,
    redis: RedisService,
    worker: None,
    private: BitbucketServerStub,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    Added over JSON-RPC with a token that is revoked later, the job fails
    saying the kept token no longer reads it.  A wrong replacement is
    refused and keeps the kept one; the "replace" form keeps a good one,
    and the next push is read with it; adding again with a token replaces
    it too, without one is 409.  Removing the repository drops the token.
    """
    url = site()
    visitor = Visitor(url)
    await visitor.sign_up("ada")
    auth = f"Bearer {await store.create_token('ada')}"
    _, added = await rpc(
        url, "julython.addRepository", {"url": page_of(private), "token": TOKEN}, auth
    )
    result = added["result"]
    assert (result["status"], result["token_kept"]) == ("pending", True)
    assert_nowhere(TOKEN, json.dumps(added))
    del private.tokens[TOKEN]
    data = refs_changed(private, HISTORY[1], HISTORY[3])
    _, answer = await post(url, data, signature(result["secret"], data))
    status = await settled(queue, answer["jobs"][0])
    assert "the token kept for" in status["error"]
    assert "no longer reads it" in status["error"]
    no_logged_errors.clear()

    sealed = await kept(store)
    replace = {"url": result["url"], "token": "pat-bob"}
    code, body = await form(visitor, f"{ADD}/token", replace)
    assert code == 403, text_of(body)
    assert await kept(store) == sealed
    code, body = await form(visitor, f"{ADD}/token", replace | {"token": NEW_TOKEN})
    assert code == 200, text_of(body)
    assert "Replaced the token" in text_of(body)
    assert await kept(store) not in ("", sealed)
    data = refs_changed(private, HISTORY[3], HISTORY[4])
    _, answer = await post(url, data, signature(result["secret"], data))
    status = await settled(queue, answer["jobs"][0])
    assert status["result"]["new"] == [HISTORY[4]]
    assert private.asked[-1].headers["authorization"] == f"Bearer {NEW_TOKEN}"

    private.add_token(TOKEN, "ada")
    _, again = await rpc(url, "julython.addRepository", [page_of(private), TOKEN], auth)
    assert "Replaced the token" in again["result"]["note"], again
    assert again["result"]["secret"] == result["secret"]
    _, twice = await rpc(url, "julython.addRepository", [page_of(private)], auth)
    assert twice["error"]["code"] == 409

    [registration] = await store.repositories.of_player("ada")
    _, removed = await rpc(url, "julython.removeRepository", [result["url"]], auth)
    assert "Removed" in removed["result"]["message"]
    record = _keys.repository(registration.key)
    assert await redis.client.execute("EXISTS", record) == 0
    dump = await everything(redis)
    assert registration.token not in dump
    assert_nowhere(TOKEN, dump)
    assert_nowhere(NEW_TOKEN, dump)

"""
What the tests of Bitbucket Data Center share: a push of the stub's
repository, signed with a secret, posted to a Site; following its jobs;
the commits stored; adding the repository by hand as C{/projects/add} does.
The fixtures that start the stub, the Site and the worker are in
C{tests/web/conftest.py}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import attrs
import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.web.client import Agent, HTTPConnectionPool

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.repositories import Registrar
from julytwisted.auth.webhooks import SecretBox
from julytwisted.hosts import Http
from julytwisted.jobs.queue import Queue
from julytwisted.store import Store, _keys
from tests.hosts.stub import sha
from tests.hosts.stub_bitbucket_server import BitbucketServerStub

SESSION_SECRET = "data-center-session-secret"
SITE_SECRET = "the-site-secret"
PAYLOADS = Path(__file__).parent.parent / "payloads"
HISTORY = [sha(f"c{i}") for i in range(6)]


def host_client() -> Http:
    """A client of the code hosts over the reactor, as a node makes one."""
    pool = HTTPConnectionPool(reactor, persistent=False)
    return Http(HTTPClient(Agent(reactor, pool=pool)), reactor, timeout=5.0)


def refs_changed(stub: BitbucketServerStub, before: str, after: str) -> bytes:
    """A push of ADA/engine at the stub, from C{before} to C{after}."""
    payload = json.loads((PAYLOADS / "bitbucket_server_refs_changed.json").read_text())
    href = f"{stub.url}/projects/ADA/repos/engine/browse"
    payload["repository"]["links"]["self"] = [{"href": href}]
    payload["changes"][0] |= {"fromHash": before, "toHash": after}
    return json.dumps(payload).encode()


def signature(secret: str, data: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}"}


async def post(
    url: str, data: bytes, headers: dict[str, str], event: str = "repo:refs_changed"
) -> tuple[int, Any]:
    answer = await treq.post(
        f"{url}/api/v1/bitbucket-server",
        data=data,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Event-Key": event,
            "X-Request-Id": "b1f3e8a2-5c4d-4e6f-8a9b-0c1d2e3f4a5b",
            **headers,
        },
    )
    return answer.code, json.loads(await answer.content())


async def settled(queue: Queue, job: str) -> dict[str, Any]:
    """Wait until a job is done, or has failed once; its status as JSON."""
    for _ in range(200):
        status = await queue.status(job)
        if status.state == "done" or isinstance(status.error, str):
            return attrs.asdict(status)
        await deferLater(reactor, 0.05, lambda: None)
    raise AssertionError("the job never ran")


async def stored(store: Store) -> list[str]:
    return [h for h in HISTORY if await store.redis.execute("EXISTS", _keys.commit(h))]


async def add_by_hand(store: Store, stub: BitbucketServerStub) -> tuple[str, str]:
    """
    Ada adds the repository by hand, as /projects/add does, pasting any
    page of it; @return: its payload URL and secret.
    """
    registrar = Registrar(
        store,
        SecretBox(SESSION_SECRET.encode()),
        TokenBox(SESSION_SECRET.encode()),
        host_client(),
        {"bitbucket-server": stub.host},
        {},
    )
    added = await registrar.add(
        "ada", f"{stub.url}/projects/ADA/repos/engine/browse?at=main", "http://site"
    )
    assert added.status == "pending"
    assert added.url == "https://127.0.0.1/projects/ada/repos/engine"
    assert added.secret is not None
    return added.payload_url, added.secret


__all__ = [
    "HISTORY",
    "PAYLOADS",
    "SESSION_SECRET",
    "SITE_SECRET",
    "add_by_hand",
    "host_client",
    "post",
    "refs_changed",
    "settled",
    "signature",
    "stored",
]

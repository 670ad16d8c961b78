"""
Bitbucket Data Center over real HTTP: its pushes (C{repo:refs_changed})
name each branch's hashes and no commits, so C{/api/v1/bitbucket-server}
answers 202 with a job per branch, and the job fetches the commits from the
server's REST API (a listening stub) and ingests them once, however often
the push is delivered.  Its deliveries are signed as Bitbucket Cloud's are
(C{X-Hub-Signature}), with the secret of a repository added by hand, or
the site secret in an open event; its connection test (C{diagnostics:ping})
is answered; its other events are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.web.client import Agent, HTTPConnectionPool

from julytwisted.auth.data_center import DataCenterCommitReader
from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.repositories import Registrar
from julytwisted.auth.webhooks import SecretBox
from julytwisted.config import Config
from julytwisted.game.repositories import RepositoryRef
from julytwisted.hosts import Http, Token
from julytwisted.jobs import build_jobs
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.jobs.worker import WorkerService
from julytwisted.models import Host, Job
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, _keys
from tests.hosts.stub import Commit, StubRepository, listen, sha
from tests.hosts.stub_bitbucket_server import BitbucketServerStub

SESSION_SECRET = "data-center-session-secret"
SITE_SECRET = "the-site-secret"
PAYLOADS = Path(__file__).parent.parent / "payloads"
HISTORY = [sha(f"c{i}") for i in range(6)]


def _http() -> Http:
    pool = HTTPConnectionPool(reactor, persistent=False)
    return Http(HTTPClient(Agent(reactor, pool=pool)), reactor, timeout=5.0)


@pytest_twisted.async_yield_fixture
async def server_host() -> AsyncIterator[BitbucketServerStub]:
    """A Data Center with one repository of six commits made in July."""
    stub = BitbucketServerStub(reactor.seconds)
    port = listen(reactor, stub)
    stub.add_repository(
        StubRepository(
            84,
            "ADA/engine",
            commits=[
                Commit(HISTORY[i], f"step {i}", "Ada", "ada@example.com")
                for i in range(6)
            ],
        )
    )
    yield stub
    await port.stopListening()


@pytest.fixture
def dc_config(config: Config, server_host: BitbucketServerStub) -> Config:
    return attrs.evolve(
        config,
        open_repositories=False,
        session_secret=SESSION_SECRET,
        code_hosts={"bitbucket-server": server_host.host},
    )


@pytest_twisted.async_yield_fixture
async def worker(
    store: Store,
    queue: Queue,
    redis: RedisService,
    dc_config: Config,
    server_host: BitbucketServerStub,
) -> AsyncIterator[None]:
    """A job worker with the Data Center job, reading from the stub."""
    jobs = build_jobs(store, treq.post)
    reader = DataCenterCommitReader(
        store, TokenBox(SESSION_SECRET.encode()), _http(), server_host.host
    )
    from julytwisted.jobs.product import register_data_center_jobs

    register_data_center_jobs(jobs, store, reader)
    service = WorkerService(queue, redis.dedicated_client(), jobs, reactor, poll=0.1)
    service.startService()
    yield None
    await service.stopService()


@pytest.fixture
def site(server_with: Callable[[Config], str], dc_config: Config) -> Callable[..., str]:
    def start(open_repositories: bool = False, secret: str | None = None) -> str:
        changed = attrs.evolve(
            dc_config, open_repositories=open_repositories, webhook_secret=secret
        )
        return server_with(changed)

    return start


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
        _http(),
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


@pytest_twisted.ensureDeferred
async def test_push_is_completed_from_the_server(
    site: Callable[..., str],
    store: Store,
    queue: Queue,
    worker: None,
    server_host: BitbucketServerStub,
) -> None:
    """
    A repository added by hand; its push signed with its secret is 202 with
    one job, which reads the commits between the push's hashes from the
    server and ingests them: the repository is proven, its project made
    and the four commits stored and scored.  Three redeliveries queue
    nothing new and store nothing more.
    """
    payload_url, secret = await add_by_hand(store, server_host)
    assert payload_url == "http://site/api/v1/bitbucket-server"
    url = site()
    data = refs_changed(server_host, HISTORY[1], HISTORY[5])
    code, answer = await post(url, data, signature("guess", data))
    assert code == 401
    code, answer = await post(url, data, signature(secret, data))
    assert code == 202, answer
    [job] = answer["jobs"]
    status = await settled(queue, job)
    assert status["result"]["new"] == HISTORY[2:6]
    assert status["result"]["project"] == "bbs-ada-engine"
    for _ in range(3):
        code, again = await post(url, data, signature(secret, data))
        assert (code, again) == (202, answer)
    assert await stored(store) == HISTORY[2:6]
    project = await store.detail("projects", "bbs-ada-engine", None)
    assert (project.commits, project.points) == (4, 14)
    asked = server_host.asked_for(
        "GET", "/rest/api/1.0/projects/ADA/repos/engine/commits"
    )
    assert len(asked) == 1
    assert (asked[0].arg("since"), asked[0].arg("until")) == (HISTORY[1], HISTORY[5])
    found = await store.repositories.lookup(
        RepositoryRef(Host.BITBUCKET_SERVER, "84", project.url)
    )
    assert found is not None and (found.id, found.proof) == ("84", "push")


@pytest_twisted.ensureDeferred
async def test_open_event_takes_the_site_secret(
    site: Callable[..., str],
    store: Store,
    queue: Queue,
    worker: None,
    server_host: BitbucketServerStub,
) -> None:
    """
    In an open event, a repository nobody added is checked with the site
    secret, and its public commits are read without a token; a new branch
    (no before) reads every ancestor of its head.
    """
    url = site(open_repositories=True, secret=SITE_SECRET)
    data = refs_changed(server_host, "0" * 40, HISTORY[2])
    code, _ = await post(url, data, {})
    assert code == 401
    code, answer = await post(url, data, signature(SITE_SECRET, data))
    assert code == 202
    status = await settled(queue, answer["jobs"][0])
    assert status["result"]["new"] == HISTORY[:3]
    [asked] = server_host.asked
    assert "since" not in asked.query and "authorization" not in asked.headers


@pytest_twisted.ensureDeferred
async def test_private_repository_reads_with_the_owners_token(
    site: Callable[..., str],
    store: Store,
    queue: Queue,
    worker: None,
    server_host: BitbucketServerStub,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    A private repository's commits need a token: without one the job fails
    saying so (and is tried again); with the token its owner keeps, they
    are read.
    """
    engine = server_host.repositories["ADA/engine"]
    engine.private, engine.readers = True, {"ada"}
    _, secret = await add_by_hand(store, server_host)
    url = site()
    data = refs_changed(server_host, HISTORY[3], HISTORY[4])
    code, answer = await post(url, data, signature(secret, data))
    assert code == 202
    status = await settled(queue, answer["jobs"][0])
    assert "only a public repository's commits can be read" in status["error"]
    assert await stored(store) == []
    server_host.add_token("pat-ada", "ada")
    sealed = TokenBox(SESSION_SECRET.encode()).seal(Token("pat-ada"))
    await store.host_accounts.keep_token("ada", "bitbucket-server", sealed)
    data = refs_changed(server_host, HISTORY[4], HISTORY[5])
    _, answer = await post(url, data, signature(secret, data))
    status = await settled(queue, answer["jobs"][0])
    assert status["result"]["new"] == [HISTORY[5]]
    assert server_host.asked[-1].headers["authorization"] == "Bearer pat-ada"
    no_logged_errors.clear()


@pytest_twisted.ensureDeferred
async def test_ping_and_other_events(
    site: Callable[..., str], store: Store, server_host: BitbucketServerStub
) -> None:
    """
    The connection test names no repository: 200 pong (in an open event,
    checked with the site secret).  A pull request of an added repository,
    signed, is ignored; unsigned, 401.  A push of tags and deleted branches
    only has nothing to fetch.
    """
    ping = (PAYLOADS / "bitbucket_server_ping.json").read_bytes()
    code, answer = await post(site(), ping, {}, "diagnostics:ping")
    assert (code, answer) == (200, {"message": "pong"})
    opened = site(open_repositories=True, secret=SITE_SECRET)
    code, _ = await post(opened, ping, {}, "diagnostics:ping")
    assert code == 401
    code, answer = await post(
        opened, ping, signature(SITE_SECRET, ping), "diagnostics:ping"
    )
    assert (code, answer) == (200, {"message": "pong"})
    _, secret = await add_by_hand(store, server_host)
    pr = json.loads((PAYLOADS / "bitbucket_server_pr_opened.json").read_text())
    href = f"{server_host.url}/projects/ADA/repos/engine/browse"
    pr["repository"]["links"]["self"] = [{"href": href}]
    data = json.dumps(pr).encode()
    url = site()
    code, _ = await post(url, data, {}, "pr:opened")
    assert code == 401
    code, answer = await post(url, data, signature(secret, data), "pr:opened")
    assert (code, answer) == (202, {"ignored": "pr:opened"})
    data = refs_changed(server_host, HISTORY[1], "0" * 40)
    code, answer = await post(url, data, signature(secret, data))
    assert (code, answer) == (200, {"commits": []})


@pytest_twisted.ensureDeferred
async def test_unconfigured_data_center_is_refused(
    server_with: Callable[[Config], str],
    config: Config,
    server_host: BitbucketServerStub,
) -> None:
    """Without --provider-url bitbucket-server, its pushes are 400 saying so."""
    url = server_with(attrs.evolve(config, webhook_secret=SITE_SECRET))
    data = refs_changed(server_host, HISTORY[1], HISTORY[2])
    code, answer = await post(url, data, signature(SITE_SECRET, data))
    assert code == 400
    assert "--provider-url bitbucket-server=URL" in answer["error"]


@pytest_twisted.ensureDeferred
async def test_forms_are_refused(site: Callable[..., str]) -> None:
    """
    Data Center sends JSON only: the form GitHub and Bitbucket once sent is
    415 here (schemathesis found an empty form's payload answered 400).
    """
    answer = await treq.post(
        f"{site()}/api/v1/bitbucket-server",
        data=b"payload=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.code == 415
    assert "expected application/json" in (await answer.json())["error"]


def test_service_registers_the_job(store: Store, dc_config: Config) -> None:
    """A node's worker runs the Data Center job (service.with_data_center)."""
    from julytwisted.service import with_data_center

    jobs = with_data_center(JobRegistry(), store, dc_config)
    assert Job.DATA_CENTER_COMMITS in jobs.functions

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

import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest_twisted
import treq

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.repositories import Registrar
from julytwisted.auth.webhooks import SecretBox
from julytwisted.config import Config
from julytwisted.game.repositories import RepositoryRef
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.models import Host, Job
from julytwisted.store import Store
from tests.hosts.stub_bitbucket_server import BitbucketServerStub
from tests.web.data_center import (
    HISTORY,
    PAYLOADS,
    SESSION_SECRET,
    SITE_SECRET,
    add_by_hand,
    host_client,
    post,
    refs_changed,
    settled,
    signature,
    stored,
)


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
    saying so (and is tried again), and nothing is stored; once its owner
    gives a token that reads it, they are read with it.
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
    assert (
        "none is kept for https://127.0.0.1/projects/ada/repos/engine"
        in (status["error"])
    )
    assert await stored(store) == []
    server_host.add_token("pat-ada", "ada")
    registrar = Registrar(
        store,
        SecretBox(SESSION_SECRET.encode()),
        TokenBox(SESSION_SECRET.encode()),
        host_client(),
        {"bitbucket-server": server_host.host},
        {},
    )
    said = await registrar.replace_token(
        "ada", f"{server_host.url}/projects/ADA/repos/engine", "pat-ada"
    )
    assert "Replaced the token" in said
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

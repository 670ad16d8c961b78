"""
Adding repositories, over HTTP, against a real listening stub of each host
and a real Site and Redis: a player signed in with the host (webhook access
granted) adds a repository they administer at C{/projects/add}, the hook is
made at the host with a secret of the repository's own, the host's test
delivery and real pushes signed with it land, ping and remove reach the
host.  Without a host sign-in the page shows the payload URL and the secret
to paste, and the first push signed with it proves the repository.  The
same through JSON-RPC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import Clock

from julytwisted.config import Config
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import WorkerService
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import body, github_payload, sha
from tests.hosts.stub import StubHost, StubRepository, listen
from tests.htmlcheck import check_page, hidden_field
from tests.pages.test_accounts import Visitor
from tests.pages.test_oauth import APP, STUBS, Site, account, at_host, back
from tests.test_methods import rpc

ADD = "/projects/add"
#: Each stub on a site of its own, as the hosts are.
INTERFACES = {"github": "127.0.0.1", "gitlab": "127.0.0.2", "bitbucket": "127.0.0.3"}


@pytest_twisted.async_yield_fixture
async def site(
    store: Store, queue: Queue, redis: RedisService, clock: Clock, tmp_path: Path
) -> AsyncIterator[Site]:
    """
    A Site (not an open event) signing in with a stub of each host, each
    stub on its own loopback address, and its job worker.
    """
    from julytwisted.jobs import build_jobs
    from julytwisted.service import build_site

    stubs = {name: kind(reactor.seconds) for name, kind in STUBS.items()}
    ports = [listen(reactor, stub, INTERFACES[name]) for name, stub in stubs.items()]
    config = Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        oauth={name: APP for name in stubs},
        code_hosts={name: stub.host for name, stub in stubs.items()},
    )
    worker = WorkerService(
        queue, redis.dedicated_client(), build_jobs(store, treq.post), reactor, poll=0.2
    )
    worker.startService()
    port = reactor.listenTCP(
        0, build_site(store, config, queue, clock=clock), interface="127.0.0.1"
    )
    url = f"http://127.0.0.1:{port.getHost().port}"
    for stub in stubs.values():
        stub.register_app(APP.client_id, APP.client_secret, url + "/login/")
    yield Site(url, stubs, config)
    await port.stopListening()
    for listening in ports:
        await listening.stopListening()
    await worker.stopService()


async def grant_hooks(visitor: Visitor, site: Site, provider: str) -> None:
    """Sign in with C{provider} granting webhook access, back to the page."""
    stub = site.stubs[provider]
    stub.browser = stub.add_user(account(provider))
    code, _, headers = await visitor.get(f"/login/{provider}?repositories=1")
    assert code == 303
    callback = await at_host(headers.getRawHeaders("Location")[0])
    code, _, headers = await back(visitor, callback)
    assert code == 303
    assert headers.getRawHeaders("Location") == [ADD]


async def add(visitor: Visitor, url: str) -> tuple[int, Any]:
    _, page, _ = await visitor.get(ADD)
    code, page, _ = await visitor.post(ADD, {"url": url}, hidden_field(page, "csrf"))
    return code, check_page(page)


async def act(visitor: Visitor, what: str, url: str) -> tuple[int, Any]:
    _, page, _ = await visitor.get(ADD)
    csrf = hidden_field(page, "csrf")
    code, page, _ = await visitor.post(f"{ADD}/{what}", {"url": url}, csrf)
    return code, check_page(page)


def notice(tree: Any) -> str:
    found = tree.find(".//p[@role='alert']")
    if found is None:
        found = tree.find(".//p[@role='status']")
    return "" if found is None else "".join(found.itertext())


def engine(stub: StubHost) -> StubRepository:
    """The repository Octo-Cat administers at C{stub}."""
    return stub.add_repository(
        StubRepository(583, "octo-cat/engine", admins={"Octo-Cat"}, description="V8")
    )


async def push(to: Site, stub: StubHost, secret: str, *seeds: str) -> int:
    """A GitHub push of the stub's repository, signed with C{secret}."""
    payload = github_payload(*seeds, email="octo@example.com")
    payload["repository"].update(
        id=583,
        html_url=f"{stub.url}/octo-cat/engine",
        url=f"{stub.url}/octo-cat/engine",
    )
    data = body(payload)
    digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    answer = await treq.post(
        f"{to.url}/api/v1/github",
        data=data,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": f"sha256={digest}",
        },
    )
    await answer.content()
    return int(answer.code)


@pytest_twisted.ensureDeferred
async def test_the_hook_is_made_pinged_and_deleted(
    site: Site,
    store: Store,
) -> None:
    """
    Signed in with GitHub and webhook access granted, the player adds a
    repository they administer: the hook is made at the host, delivering
    to this site with the repository's own secret; its pushes land; ping
    and remove reach the host; removed, its pushes are refused.
    """
    github = site.stubs["github"]
    repo = engine(github)
    visitor = Visitor(site.url)
    await grant_hooks(visitor, site, "github")
    code, tree = await add(visitor, f"{github.url}/Octo-Cat/engine.git")
    assert code == 200, notice(tree)
    [(hook_id, hook)] = repo.hooks.items()
    assert hook["config"]["url"] == f"{site.url}/api/v1/github"
    secret = repo.secrets[hook_id]
    assert len(secret) >= 43
    assert tree.find(".//code[@class='secret']") is None
    project = await store.project("gh-octo-cat-engine")
    assert (project.name, project.url) == (
        "engine",
        "https://127.0.0.1/octo-cat/engine",
    )
    assert await push(site, github, secret, "a") == 201
    assert await push(site, github, "guess", "b") == 401

    code, tree = await act(visitor, "ping", f"{github.url}/octo-cat/engine")
    assert code == 200, notice(tree)
    pings = github.asked_for(
        "POST", f"/api/v3/repos/octo-cat/engine/hooks/{hook_id}/pings"
    )
    assert len(pings) == 1

    code, tree = await act(visitor, "remove", f"{github.url}/octo-cat/engine")
    assert code == 200, notice(tree)
    assert "its webhook" in notice(tree)
    assert repo.hooks == {}
    assert await push(site, github, secret, "c") == 403
    assert await store.commit(sha("a"))


@pytest_twisted.ensureDeferred
async def test_only_an_administrator_adds(
    site: Site,
    store: Store,
) -> None:
    """
    A repository the host says the player does not administer is refused
    (403), and nothing is added or made at the host.
    """
    github = site.stubs["github"]
    repo = github.add_repository(StubRepository(9, "someone/else", admins={"x"}))
    visitor = Visitor(site.url)
    await grant_hooks(visitor, site, "github")
    code, tree = await add(visitor, f"{github.url}/someone/else")
    assert code == 403
    assert "does not administer" in notice(tree)
    assert repo.hooks == {}
    assert await store.repositories.of_player("octo-cat") == []


@pytest.mark.parametrize("provider", ["gitlab", "bitbucket"])
@pytest_twisted.ensureDeferred
async def test_gitlab_and_bitbucket_hooks(
    site: Site,
    store: Store,
    provider: str,
) -> None:
    """GitLab and Bitbucket hooks are made with the repository's own secret."""
    stub = site.stubs[provider]
    ident = 42 if provider == "gitlab" else "{aa11}"
    repo = stub.add_repository(
        StubRepository(ident, "octo-cat/lab", admins={"Octo-Cat"})
    )
    visitor = Visitor(site.url)
    await grant_hooks(visitor, site, provider)
    code, tree = await add(visitor, f"{stub.url}/octo-cat/lab")
    assert code == 200, notice(tree)
    assert len(repo.hooks) == 1, notice(tree)
    [(hook_id, _)] = repo.hooks.items()
    [added] = await store.repositories.of_player("octo-cat")
    assert (added.hook, added.id, added.proof) == (hook_id, str(ident), "host")
    assert repo.secrets[hook_id]
    await act(visitor, "remove", f"{stub.url}/octo-cat/lab")
    assert repo.hooks == {}


@pytest_twisted.ensureDeferred
async def test_by_hand_shows_the_secret_and_a_push_proves_it(
    site: Site,
    store: Store,
) -> None:
    """
    A player not signed in with the host adds a repository by hand: the
    page shows the payload URL and the secret to paste; a second player is
    refused (409); the first push signed with the secret proves it.
    """
    github = site.stubs["github"]
    visitor = Visitor(site.url)
    await visitor.sign_up("ada")
    code, tree = await add(visitor, f"{github.url}/octo-cat/engine")
    assert code == 200, notice(tree)
    secret = tree.findtext(".//code[@class='secret']")
    codes = [c.text for c in tree.findall(".//dd/code")]
    assert f"{site.url}/api/v1/github" in codes
    assert secret and len(secret) >= 43
    assert "waiting for a signed push" in "".join(tree.itertext())

    other = Visitor(site.url)
    await other.sign_up("bob")
    code, tree = await add(other, f"{github.url}/octo-cat/engine")
    assert code == 409, notice(tree)

    assert await push(site, github, secret, "a") == 201
    [proven] = await store.repositories.of_player("ada")
    assert (proven.id, proven.proof, proven.project) == (
        "583",
        "push",
        "gh-octo-cat-engine",
    )


@pytest_twisted.ensureDeferred
async def test_signed_out_goes_to_sign_in(site: Site) -> None:
    """The page is for signed-in players: others are sent to sign in."""
    code, _, headers = await Visitor(site.url).get(ADD)
    assert code == 303
    assert headers.getRawHeaders("Location") == ["/login"]


@pytest_twisted.ensureDeferred
async def test_json_rpc_methods(
    site: Site,
    store: Store,
) -> None:
    """
    julython.addRepository, listRepositories, pingRepository and
    removeRepository do what the page does, for the token's player.
    """
    gitlab = site.stubs["gitlab"]
    repo = gitlab.add_repository(
        StubRepository(42, "octo-cat/lab", admins={"Octo-Cat"})
    )
    visitor = Visitor(site.url)
    await grant_hooks(visitor, site, "gitlab")
    auth = f"Bearer {await store.create_token('octo-cat')}"
    url = f"{gitlab.url}/octo-cat/lab"
    code, answer = await rpc(site.url, "julython.addRepository", [url], auth)
    assert code == 200, answer
    added = answer["result"]
    assert (added["status"], added["secret"], added["project"]) == (
        "hooked",
        None,
        "gl-octo-cat-lab",
    )
    assert added["payload_url"] == f"{site.url}/api/v1/gitlab"
    _, again = await rpc(site.url, "julython.addRepository", [url], auth)
    assert again["error"]["code"] == 409
    _, listed = await rpc(site.url, "julython.listRepositories", None, auth)
    assert [r["url"] for r in listed["result"]] == ["https://127.0.0.2/octo-cat/lab"]
    _, pinged = await rpc(site.url, "julython.pingRepository", [url], auth)
    assert "test delivery" in pinged["result"]["message"]
    _, removed = await rpc(site.url, "julython.removeRepository", [url], auth)
    assert "its webhook" in removed["result"]["message"], removed
    assert repo.hooks == {}
    _, missing = await rpc(site.url, "julython.removeRepository", [url], auth)
    assert missing["error"]["code"] == 404
    _, anonymous = await rpc(site.url, "julython.listRepositories")
    assert anonymous["error"]["code"] in (401, 403), json.dumps(anonymous)

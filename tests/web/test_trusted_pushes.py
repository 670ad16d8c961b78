"""
Trusted pushes over real HTTP: a listening Site and a real Redis, with
repositories added to the registry as the service adds them (a secret of
their own, sealed).  Each delivery is checked with the secret of the
repository it names; a repository nobody added is refused unless the event
is open; the site-wide secret never opens an added repository.

The attacks: a push signed with another repository's secret, one signed
with the site secret for an added repository, one for a repository nobody
added (without --open-repositories), one naming an added repository's
address under another id.  Each must leave nothing stored.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq

from julytwisted.auth.webhooks import SecretBox
from julytwisted.config import Config
from julytwisted.game.repositories import RepositoryRef
from julytwisted.models import Host
from julytwisted.store import Listing, Store, _keys
from tests.builders import body, github_payload, sha

SESSION_SECRET = "trusted-pushes-session-secret"
SITE_SECRET = "the-site-secret"
PAYLOADS = Path(__file__).parent.parent / "payloads"


@attrs.frozen
class Added:
    """A repository added for a player, and its secret in clear."""

    ref: RepositoryRef
    secret: str


def github(owner: str, name: str, ident: int, *seeds: str) -> bytes:
    """A GitHub push of C{owner/name} with the host id C{ident}."""
    payload = github_payload(*seeds, owner=owner, name=name)
    payload["repository"]["id"] = ident
    return body(payload)


def signed(
    secret: str, data: bytes, header: str = "X-Hub-Signature-256"
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    return {header: f"sha256={digest}"}


async def post(
    url: str, service: str, data: bytes, headers: dict[str, str], event: str = "push"
) -> tuple[int, Any]:
    events = {
        "github": {"X-GitHub-Event": event},
        "gitlab": {"X-Gitlab-Event": "Push Hook"},
        "bitbucket": {"X-Event-Key": "repo:push"},
    }
    answer = await treq.post(
        f"{url}/api/v1/{service}",
        data=data,
        headers={"Content-Type": "application/json", **events[service], **headers},
    )
    return answer.code, json.loads(await answer.content())


async def add(
    store: Store, owner: str, ref: RepositoryRef, proven: bool = True
) -> Added:
    """Add C{ref} for C{owner} as the service does: a sealed secret of its own."""
    clear, sealed = SecretBox(SESSION_SECRET.encode()).new()
    listing = Listing(ref.url.rsplit("/", 1)[-1]) if proven else None
    path = ref.url.split("/", 3)[3]
    await store.repositories.add(owner, ref, path, sealed, listing)
    return Added(ref, clear)


@pytest.fixture
def site(server_with: Callable[[Config], str], config: Config) -> Callable[..., str]:
    """Starts Sites with added repositories; open events only when asked."""

    def start(open_repositories: bool = False, secret: str | None = None) -> str:
        return server_with(
            attrs.evolve(
                config,
                open_repositories=open_repositories,
                webhook_secret=secret,
                session_secret=SESSION_SECRET,
            )
        )

    return start


ENGINE = RepositoryRef(Host.GITHUB, "101", "https://github.com/ada/engine")
WHEEL = RepositoryRef(Host.GITHUB, "202", "https://github.com/bob/wheel")


async def stored(store: Store, *seeds: str) -> list[bool]:
    return [
        bool(await store.redis.execute("EXISTS", _keys.commit(sha(s)))) for s in seeds
    ]


@pytest_twisted.ensureDeferred
async def test_own_secret_lands(site: Callable[..., str], store: Store) -> None:
    """A push signed with its repository's own secret is stored and scores."""
    engine = await add(store, "ada", ENGINE)
    data = github("ada", "engine", 101, "a")
    code, answer = await post(site(), "github", data, signed(engine.secret, data))
    assert (code, answer) == (201, {"commits": [sha("a")]})


@pytest_twisted.ensureDeferred
async def test_another_repositorys_secret_is_refused(
    site: Callable[..., str], store: Store
) -> None:
    """
    Attack: Bob signs a push of Ada's repository with his own repository's
    secret.  401, and nothing of it is stored.
    """
    await add(store, "ada", ENGINE)
    wheel = await add(store, "bob", WHEEL)
    data = github("ada", "engine", 101, "forged")
    code, answer = await post(site(), "github", data, signed(wheel.secret, data))
    assert code == 401, answer
    assert await stored(store, "forged") == [False]


@pytest_twisted.ensureDeferred
async def test_site_secret_does_not_open_an_added_repository(
    site: Callable[..., str], store: Store
) -> None:
    """
    Attack: in an open event, a holder of the site secret signs a push of a
    repository its owner added.  401: only its own secret opens it, by id
    or by address alone.
    """
    await add(store, "ada", ENGINE)
    url = site(open_repositories=True, secret=SITE_SECRET)
    data = github("ada", "engine", 101, "forged")
    code, _ = await post(url, "github", data, signed(SITE_SECRET, data))
    assert code == 401
    old_format = github_payload("forged2", owner="ada", name="engine")
    del old_format["repository"]["id"]
    data = body(old_format)
    code, _ = await post(url, "github", data, signed(SITE_SECRET, data))
    assert code == 401
    assert await stored(store, "forged", "forged2") == [False, False]


@pytest_twisted.ensureDeferred
async def test_unknown_repository_is_refused(
    site: Callable[..., str], store: Store
) -> None:
    """
    Attack: without --open-repositories, a push of a repository nobody
    added is 403, even signed with the site secret, and says where to add
    it.
    """
    url = site(secret=SITE_SECRET)
    data = github("eve", "anything", 303, "x")
    code, answer = await post(url, "github", data, signed(SITE_SECRET, data))
    assert code == 403
    assert f"{url}/projects/add" in answer["error"]
    assert await stored(store, "x") == [False]


@pytest_twisted.ensureDeferred
async def test_open_event_takes_the_site_secret(
    site: Callable[..., str], store: Store
) -> None:
    """With --open-repositories, a repository nobody added needs the site secret."""
    url = site(open_repositories=True, secret=SITE_SECRET)
    data = github("eve", "anything", 303, "x")
    code, _ = await post(url, "github", data, {})
    assert code == 401
    code, _ = await post(url, "github", data, signed(SITE_SECRET, data))
    assert code == 201


@pytest_twisted.ensureDeferred
async def test_address_under_another_id_is_refused(
    site: Callable[..., str], store: Store
) -> None:
    """
    Attack: a push names an added repository's address with another id (a
    repository nobody added), in an open event, signed with the site
    secret.  403: the address is the added repository's.
    """
    await add(store, "ada", ENGINE)
    url = site(open_repositories=True, secret=SITE_SECRET)
    data = github("ada", "engine", 999, "forged")
    code, _ = await post(url, "github", data, signed(SITE_SECRET, data))
    assert code == 403
    assert await stored(store, "forged") == [False]


@pytest_twisted.ensureDeferred
async def test_github_ping_takes_the_secret(
    site: Callable[..., str], store: Store
) -> None:
    """GitHub's ping of an added repository is checked with its own secret."""
    engine = await add(store, "ada", ENGINE)
    ping = json.loads((PAYLOADS / "github_ping.json").read_text())
    ping["repository"].update(id=101, html_url=ENGINE.url, url=ENGINE.url)
    data = body(ping)
    url = site()
    code, _ = await post(url, "github", data, signed("guess", data), "ping")
    assert code == 401
    code, answer = await post(url, "github", data, signed(engine.secret, data), "ping")
    assert (code, answer) == (200, {"message": "pong"})


@pytest_twisted.ensureDeferred
async def test_hand_added_is_proven_by_its_first_signed_push(
    site: Callable[..., str], store: Store
) -> None:
    """
    A repository added by hand (no id known) is proven by the first push
    signed with its secret: it takes the push's id and its project.
    """
    by_hand = RepositoryRef(Host.GITHUB, "", ENGINE.url)
    engine = await add(store, "ada", by_hand, proven=False)
    url = site()
    data = github("ada", "engine", 101, "a")
    code, _ = await post(url, "github", data, signed("guess", data))
    assert code == 401
    code, _ = await post(url, "github", data, signed(engine.secret, data))
    assert code == 201
    found = await store.repositories.lookup(ENGINE)
    assert found is not None and (found.id, found.proof) == ("101", "push")
    assert found.project == "gh-ada-engine"


def _gitlab(ident: int, url: str) -> bytes:
    payload = json.loads((PAYLOADS / "gitlab_push.json").read_text())
    payload["project"].update(id=ident, web_url=url)
    payload["project_id"] = ident
    for c in payload["commits"]:
        c["timestamp"] = "2026-07-10T10:00:00Z"
    return body(payload)


def _bitbucket(uuid: str, url: str) -> bytes:
    payload = json.loads((PAYLOADS / "bitbucket_push.json").read_text())
    payload["repository"]["uuid"] = uuid
    payload["repository"]["links"]["html"]["href"] = url
    payload = copy.deepcopy(payload)
    return body(payload)


@pytest_twisted.ensureDeferred
async def test_gitlab_and_bitbucket_take_their_own_secret(
    site: Callable[..., str], store: Store
) -> None:
    """
    GitLab's token and Bitbucket's signature are checked with the
    repository's own secret; another repository's is refused.
    """
    lab = await add(
        store, "ada", RepositoryRef(Host.GITLAB, "15", "https://gitlab.com/ada/lab")
    )
    bucket = await add(
        store,
        "bob",
        RepositoryRef(Host.BITBUCKET, "{b0}", "https://bitbucket.org/bob/bucket"),
    )
    url = site()
    data = _gitlab(15, "https://gitlab.com/ada/lab")
    code, _ = await post(url, "gitlab", data, {"X-Gitlab-Token": bucket.secret})
    assert code == 401
    code, _ = await post(url, "gitlab", data, {"X-Gitlab-Token": lab.secret})
    assert code in (200, 201)
    data = _bitbucket("{B0}", "https://bitbucket.org/bob/bucket")
    code, _ = await post(
        url, "bitbucket", data, signed(lab.secret, data, "X-Hub-Signature")
    )
    assert code == 401
    header = signed(bucket.secret, data, "X-Hub-Signature")
    code, _ = await post(url, "bitbucket", data, header)
    assert code in (200, 201)


@pytest.mark.parametrize(
    ("secret", "holders"),
    [("s", "every holder of --webhook-secret"), (None, "anyone at all")],
)
def test_start_up_log_names_who_is_trusted(
    config: Config, secret: str | None, holders: str
) -> None:
    """An open event says at start whom it trusts: the site secret's holders."""
    from twisted.logger import formatEvent, globalLogPublisher

    from julytwisted.service import warn_open_repositories

    said: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        said.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    try:
        warn_open_repositories(attrs.evolve(config, webhook_secret=secret))
        warn_open_repositories(attrs.evolve(config, open_repositories=False))
    finally:
        globalLogPublisher.removeObserver(observe)
    [line] = [s for s in said if "--open-repositories" in s]
    assert holders in line

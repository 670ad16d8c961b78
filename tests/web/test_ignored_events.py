"""
Events that are not pushes, over real HTTP: a hook subscribed to more than
pushes (issues, merge requests, stars, forks) delivers them all to the one
URL, and the hosts count any 4xx as a failed delivery (and disable a hook
that keeps failing).  Once its signature checks out, such an event is
answered 202 C{{"ignored": EVENT}} and changes nothing; unsigned, wrongly
signed or for a repository nobody added, it is refused as any delivery is;
a malformed push stays 400.

The payloads are the hosts' documented examples, in tests/payloads/.
"""

from __future__ import annotations

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
from tests.web.test_trusted_pushes import signed

SESSION_SECRET = "ignored-events-session-secret"
SITE_SECRET = "the-site-secret"
PAYLOADS = Path(__file__).parent.parent / "payloads"

GITHUB = RepositoryRef(
    Host.GITHUB, "186853002", "https://github.com/codertocat/Hello-World"
)
GITLAB = RepositoryRef(Host.GITLAB, "1", "https://gitlab.com/gitlabhq/gitlab-test")
BITBUCKET = RepositoryRef(
    Host.BITBUCKET,
    "{0d8e6b2f-7f42-4d1e-9c63-3b1a2e9f8c11}",
    "https://bitbucket.org/team_name/repo_name",
)

#: Each event: its host, its repository, its event header and payload, and
#: the name the answer gives it.
EVENTS = [
    (GITHUB, "X-GitHub-Event", "issues", "github_issues.json", "issues"),
    (GITHUB, "X-GitHub-Event", "pull_request", "github_pull_request.json", None),
    (GITHUB, "X-GitHub-Event", "star", "github_star.json", None),
    (GITHUB, "X-GitHub-Event", "watch", "github_star.json", None),
    (GITLAB, "X-Gitlab-Event", "Issue Hook", "gitlab_issue.json", None),
    (GITLAB, "X-Gitlab-Event", "Merge Request Hook", "gitlab_merge_request.json", None),
    (GITLAB, "X-Gitlab-Event", "Note Hook", "gitlab_note.json", None),
    (BITBUCKET, "X-Event-Key", "pullrequest:created",
     "bitbucket_pullrequest_created.json", None),
    (BITBUCKET, "X-Event-Key", "repo:fork", "bitbucket_repo_fork.json", None),
]  # fmt: skip


def _data(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def _sign(ref: RepositoryRef, secret: str, data: bytes) -> dict[str, str]:
    """The header with which C{ref}'s host would sign C{data}."""
    if ref.host == Host.GITLAB:
        return {"X-Gitlab-Token": secret}
    header = "X-Hub-Signature-256" if ref.host == Host.GITHUB else "X-Hub-Signature"
    return signed(secret, data, header)


async def post(
    url: str, ref: RepositoryRef, data: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    answer = await treq.post(
        f"{url}/api/v1/{ref.host}",
        data=data,
        headers={"Content-Type": "application/json", **headers},
    )
    return answer.code, json.loads(await answer.content())


async def add(store: Store, owner: str, ref: RepositoryRef) -> str:
    """Add C{ref} for C{owner} with a secret of its own; @return: the secret."""
    clear, sealed = SecretBox(SESSION_SECRET.encode()).new()
    path = ref.url.split("/", 3)[3]
    listing = Listing(ref.url.rsplit("/", 1)[-1])
    await store.repositories.add(owner, ref, path, sealed, listing)
    return clear


@pytest.fixture
def site(server_with: Callable[[Config], str], config: Config) -> Callable[..., str]:
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


async def commits(store: Store) -> int:
    """How many commits the store holds: an ignored event adds none."""
    return len(await store.redis.execute("KEYS", _keys.commit("*")))


@pytest.mark.parametrize(("ref", "header", "event", "payload", "name"), EVENTS)
@pytest_twisted.ensureDeferred
async def test_signed_event_is_ignored(
    site: Callable[..., str],
    store: Store,
    ref: RepositoryRef,
    header: str,
    event: str,
    payload: str,
    name: str | None,
) -> None:
    """
    An event that is not a push, signed with its repository's own secret,
    is 202 naming the event (it was 400, a failed delivery at the host),
    and stores no commit.
    """
    secret = await add(store, "ada", ref)
    data = _data(payload)
    headers = {header: event, **_sign(ref, secret, data)}
    code, answer = await post(site(), ref, data, headers)
    assert (code, answer) == (202, {"ignored": name or event})
    assert await commits(store) == 0


@pytest.mark.parametrize(("ref", "header", "event", "payload", "name"), EVENTS)
@pytest_twisted.ensureDeferred
async def test_unsigned_or_forged_event_is_refused(
    site: Callable[..., str],
    store: Store,
    ref: RepositoryRef,
    header: str,
    event: str,
    payload: str,
    name: str | None,
) -> None:
    """
    Such an event without a signature, or signed with another secret, is
    401 as any delivery: being ignored tells nobody whether a secret is
    right.
    """
    await add(store, "ada", ref)
    data = _data(payload)
    url = site()
    code, _ = await post(url, ref, data, {header: event})
    assert code == 401
    code, _ = await post(url, ref, data, {header: event, **_sign(ref, "guess", data)})
    assert code == 401


@pytest_twisted.ensureDeferred
async def test_event_of_a_repository_nobody_added_is_refused(
    site: Callable[..., str], store: Store
) -> None:
    """Outside an open event, an issue of a repository nobody added is 403."""
    data = _data("github_issues.json")
    headers = {"X-GitHub-Event": "issues", **signed(SITE_SECRET, data)}
    code, answer = await post(site(secret=SITE_SECRET), GITHUB, data, headers)
    assert code == 403, answer


@pytest_twisted.ensureDeferred
async def test_open_event_ignores_with_the_site_secret(
    site: Callable[..., str], store: Store
) -> None:
    """
    In an open event, an ignored event is checked with the site secret:
    202 signed with it, 401 without.
    """
    url = site(open_repositories=True, secret=SITE_SECRET)
    data = _data("gitlab_issue.json")
    code, _ = await post(url, GITLAB, data, {"X-Gitlab-Event": "Issue Hook"})
    assert code == 401
    headers = {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": SITE_SECRET}
    code, answer = await post(url, GITLAB, data, headers)
    assert (code, answer) == (202, {"ignored": "Issue Hook"})
    assert await commits(store) == 0


@pytest_twisted.ensureDeferred
async def test_gitlab_kind_without_a_header_is_ignored(
    site: Callable[..., str], store: Store
) -> None:
    """GitLab's body names its kind: a merge request without a header is 202."""
    secret = await add(store, "ada", GITLAB)
    data = _data("gitlab_merge_request.json")
    code, answer = await post(site(), GITLAB, data, {"X-Gitlab-Token": secret})
    assert (code, answer) == (202, {"ignored": "merge_request"})


@pytest_twisted.ensureDeferred
async def test_malformed_push_stays_400(site: Callable[..., str], store: Store) -> None:
    """
    A push event whose commits are wrong is still 400 naming the field, and
    stores nothing: only events that are not pushes are ignored.
    """
    secret = await add(store, "ada", GITHUB)
    payload = json.loads(_data("github_issues.json"))
    payload |= {"ref": "refs/heads/main", "commits": "none"}
    data = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": "push", **signed(secret, data)}
    code, answer = await post(site(), GITHUB, data, headers)
    assert code == 400
    assert "commits" in answer["error"]
    assert await commits(store) == 0


@pytest.mark.parametrize("body", [b"-13259", b"[]", b'"issues"'])
@pytest_twisted.ensureDeferred
async def test_body_that_is_no_object_is_not_ignored(
    site: Callable[..., str], body: bytes
) -> None:
    """
    Found by schemathesis: in an open event without a secret, a body that is
    no JSON object under an event header was 202 ignored; it is no event of
    any host, so 400.
    """
    url = site(open_repositories=True)
    code, answer = await post(url, GITLAB, body, {"X-Gitlab-Event": "Issue Hook"})
    assert code == 400, answer

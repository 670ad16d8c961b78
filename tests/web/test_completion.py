"""
Completing truncated pushes and verifying commits (issue 16), over the real
endpoints: a listening Site, a real Redis, a job worker, and a stub of each
host serving its compare and commit calls in its documented shape.  The
repository is added by its owner, who holds a token of the host, as a
sign-in with it leaves one.

The attacks and losses: a GitLab push announcing 25 commits with 20 in its
body, delivered four times, must end with 25 stored, once; a Bitbucket push
cut short likewise; a commit posted under an added repository that its
host does not know must never score with --verify-commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.webhooks import SecretBox
from julytwisted.config import Config
from julytwisted.game.events import ProjectInfo, Push
from julytwisted.game.repositories import RepositoryRef, canonical_url
from julytwisted.hosts import Token
from julytwisted.jobs import build_jobs
from julytwisted.jobs.product import queue_completion
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import Backoff, WorkerService
from julytwisted.models import Host
from julytwisted.redis_service import RedisService
from julytwisted.service import build_push_checks
from julytwisted.store import Listing, Store
from tests.hosts.stub import Commit, Issued, StubHost, StubRepository, User, listen, sha
from tests.hosts.stub_bitbucket import BitbucketStub
from tests.hosts.stub_github import GitHubStub
from tests.hosts.stub_gitlab import GitLabStub
from tests.jobs.test_queue import settle

SESSION_SECRET = "completion-session-secret"
ADA = User(7, "ada", "Ada", [])
#: Each stub on a site of its own, as the hosts are.
STUBS: dict[str, tuple[type[StubHost], str]] = {
    "github": (GitHubStub, "127.0.0.1"),
    "gitlab": (GitLabStub, "127.0.0.2"),
    "bitbucket": (BitbucketStub, "127.0.0.3"),
}
#: The scopes a sign-in that may read repositories grants.
SCOPES = {"github": ("repo",), "gitlab": ("api",), "bitbucket": ("repository",)}


def history(seed: str, count: int) -> list[Commit]:
    """C{count} commits made during Julython 2026, oldest first."""
    return [
        Commit(sha(f"{seed}{i}"), f"change {i}", "Ada", "ada@example.com")
        for i in range(count)
    ]


@attrs.frozen
class Site:
    """A listening Site, its stubs, and its configuration."""

    url: str
    stubs: dict[str, StubHost]
    config: Config


@pytest_twisted.async_yield_fixture
async def stubs() -> AsyncIterator[dict[str, StubHost]]:
    made = {name: kind(reactor.seconds) for name, (kind, _) in STUBS.items()}
    ports = [listen(reactor, stub, STUBS[name][1]) for name, stub in made.items()]
    yield made
    for port in ports:
        await port.stopListening()


@pytest_twisted.async_yield_fixture
async def site(
    stubs: dict[str, StubHost],
    server_with: Callable[[Config], str],
    store: Store,
    queue: Queue,
    redis: RedisService,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Site]]:
    """
    Starts Sites (not open events unless asked) whose code hosts are the
    stubs, each with a job worker running the product's jobs.
    """
    workers: list[WorkerService] = []

    def start(**options: Any) -> Site:
        config = Config(
            data_dir=tmp_path,
            session_secret=SESSION_SECRET,
            code_hosts={name: stub.host for name, stub in stubs.items()},
            **options,
        )
        checks = build_push_checks(store, config)
        worker = WorkerService(
            queue,
            redis.dedicated_client(),
            build_jobs(store, treq.post, None, checks),
            reactor,
            backoff=Backoff(base=0.05, cap=0.2),
            poll=0.2,
        )
        worker.startService()
        workers.append(worker)
        return Site(server_with(config), stubs, config)

    yield start
    for worker in workers:
        await worker.stopService()


async def added(
    store: Store, stub: StubHost, repo: StubRepository, token: bool = True
) -> tuple[RepositoryRef, str]:
    """
    Ada adds C{repo} as the service does, proven by the host, and holds a
    token of it (unless not C{token}).

    @return: the repository as a push names it, and its secret in clear.
    """
    stub.add_user(ADA)
    stub.add_repository(repo)
    if token:
        stub.tokens["ada-token"] = Issued(ADA, SCOPES[stub.provider], None)
        box = TokenBox(SESSION_SECRET.encode())
        sealed = box.seal(Token("ada-token", frozenset(SCOPES[stub.provider])))
        await store.host_accounts.keep_token("ada", stub.provider, sealed)
    ref = RepositoryRef(
        Host(stub.provider), str(repo.id), canonical_url(f"{stub.url}/{repo.path}")
    )
    clear, sealed_secret = SecretBox(SESSION_SECRET.encode()).new()
    listing = Listing(repo.name)
    await store.repositories.add("ada", ref, repo.path, sealed_secret, listing)
    return ref, clear


def gitlab_push(
    stub: StubHost, repo: StubRepository, commits: list[Commit], before: str, total: int
) -> dict[str, Any]:
    """A GitLab push event listing C{commits} and announcing C{total}."""
    page = f"{stub.url}/{repo.path}"
    return {
        "object_kind": "push",
        "before": before,
        "after": commits[-1].sha,
        "ref": "refs/heads/main",
        "project_id": repo.id,
        "project": {"id": repo.id, "name": repo.name, "web_url": page},
        "commits": [
            {
                "id": c.sha,
                "message": c.message,
                "timestamp": c.date,
                "url": f"{page}/-/commit/{c.sha}",
                "author": {"name": c.author_name, "email": c.author_email},
                "added": ["main.py"],
                "modified": [],
                "removed": [],
            }
            for c in commits
        ],
        "total_commits_count": total,
    }


def bitbucket_push(
    stub: StubHost, repo: StubRepository, commits: list[Commit], before: str
) -> dict[str, Any]:
    """A Bitbucket repo:push whose one change lists C{commits}, cut short."""
    page = f"{stub.url}/{repo.path}"

    def target(hash: str) -> dict[str, Any]:
        return {"type": "commit", "hash": hash}

    return {
        "repository": {
            "type": "repository",
            "full_name": repo.path,
            "name": repo.name,
            "uuid": repo.id,
            "links": {"html": {"href": page}},
        },
        "push": {
            "changes": [
                {
                    "new": {
                        "type": "branch",
                        "name": "main",
                        "target": target(commits[-1].sha),
                    },
                    "old": {"type": "branch", "name": "main", "target": target(before)},
                    "truncated": True,
                    "commits": [
                        {
                            "hash": c.sha,
                            "author": {"raw": f"{c.author_name} <{c.author_email}>"},
                            "message": c.message,
                            "date": c.date,
                            "links": {"html": {"href": f"{page}/commits/{c.sha}"}},
                        }
                        for c in reversed(commits)
                    ],
                }
            ]
        },
    }


async def post(
    site: Site, host: str, payload: dict[str, Any], secret: str
) -> tuple[int, Any]:
    data = json.dumps(payload).encode()
    if host == "gitlab":
        headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret}
    else:
        digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        headers = {"X-Event-Key": "repo:push", "X-Hub-Signature": f"sha256={digest}"}
    answer = await treq.post(
        f"{site.url}/api/v1/{host}",
        data=data,
        headers={"Content-Type": "application/json", **headers},
    )
    return answer.code, json.loads(await answer.content())


async def job(site: Site, job_id: str) -> dict[str, Any]:
    """The job's status as GET /api/v1/jobs/<id> shows it, once it ended."""
    answer: dict[str, Any] = {}
    for _ in range(50):
        response = await treq.get(f"{site.url}/api/v1/jobs/{job_id}")
        answer = json.loads(await response.content())
        if answer["state"] in ("done", "failed"):
            break
        await deferLater(reactor, 0.1, lambda: None)
    return answer


async def project_commits(store: Store, slug: str) -> list[str]:
    hashes: list[str] = await store.redis.execute(
        "ZRANGE", f"j:project:{slug}:commits", 0, -1
    )
    return hashes


@pytest_twisted.ensureDeferred
async def test_gitlab_push_of_25_with_20_listed_ends_with_25_once(
    site: Callable[..., Site], stubs: dict[str, StubHost], store: Store, queue: Queue
) -> None:
    """
    Loss: GitLab lists the 20 newest commits of a push of 25; the other 5
    were never counted.  Now the answer names a completion job (the same
    one for each of three redeliveries), which fetches them through
    GitLab's compare with the owner's token: 25 stored and scored, once,
    and GitLab asked once.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    gitlab = stubs["gitlab"]
    line = history("g", 26)
    repo = StubRepository(77, "ada/engine", admins={"ada"}, commits=line)
    _, secret = await added(store, gitlab, repo)
    running = site()
    payload = gitlab_push(gitlab, repo, line[6:], line[0].sha, 25)
    answers = [await post(running, "gitlab", payload, secret) for _ in range(4)]
    assert [code for code, _ in answers] == [201, 200, 200, 200]
    assert answers[0][1]["commits"] == [c.sha for c in line[6:]]
    jobs = {answer["completion"] for _, answer in answers}
    assert len(jobs) == 1
    status = await settle(queue, jobs.pop())
    assert status.state == "done", status
    assert status.result == {
        "repository": repo_url(gitlab, repo),
        "fetched": 25,
        "new": [c.sha for c in line[1:6]],
        "reason": None,
    }
    stored = await project_commits(store, "gl-ada-engine")
    assert sorted(stored) == sorted(c.sha for c in line[1:])
    ada = await store.player("ada")
    assert (ada.commits, ada.points) == (25, 35)
    assert len(gitlab.asked_for("GET", "/api/v4/projects/77/repository/compare")) == 1
    assert (await store.recount("julython-2026")).repaired == ()


def repo_url(stub: StubHost, repo: StubRepository) -> str:
    return canonical_url(f"{stub.url}/{repo.path}")


@pytest_twisted.ensureDeferred
async def test_bitbucket_truncated_push_is_completed(
    site: Callable[..., Site], stubs: dict[str, StubHost], store: Store, queue: Queue
) -> None:
    """
    Loss: Bitbucket lists at most 5 commits of a change and marks it
    truncated.  The rest come from its commits list (include after, exclude
    before), once, redelivered or not.
    """
    bitbucket = stubs["bitbucket"]
    line = history("b", 13)
    repo = StubRepository("{b0b}", "ada/loom", admins={"ada"}, commits=line)
    _, secret = await added(store, bitbucket, repo)
    running = site()
    payload = bitbucket_push(bitbucket, repo, line[8:], line[0].sha)
    first = await post(running, "bitbucket", payload, secret)
    again = await post(running, "bitbucket", payload, secret)
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["completion"] == again[1]["completion"]
    status = await settle(queue, first[1]["completion"])
    assert status.state == "done", status
    assert status.result["new"] == [c.sha for c in line[1:8]]  # type: ignore[index,call-overload]
    stored = await project_commits(store, "bb-ada-loom")
    assert sorted(stored) == sorted(c.sha for c in line[1:])


@pytest_twisted.ensureDeferred
async def test_github_over_its_cap_through_the_job(
    stubs: dict[str, StubHost],
    site: Callable[..., Site],
    store: Store,
    queue: Queue,
) -> None:
    """
    GitHub lists 2048 commits at most: a push over the cap (posting one
    costs too much here) is completed by the job through GitHub's compare,
    page by page, as of the push's arrival.
    """
    github = stubs["github"]
    line = history("h", 140)
    repo = StubRepository(31, "ada/engine", admins={"ada"}, commits=line)
    ref, _ = await added(store, github, repo)
    site()
    push = Push(
        _project(ref), (), "refs/heads/main", line[0].sha, line[-1].sha, 2048, 2049
    )
    job_id = await queue_completion(queue, ref, push, store.now())
    status = await settle(queue, job_id)
    assert status.state == "done", status
    assert status.result["fetched"] == 139  # type: ignore[index,call-overload]
    assert sorted(await project_commits(store, "gh-ada-engine")) == sorted(
        c.sha for c in line[1:]
    )
    asked = github.asked_for(
        "GET", f"/api/v3/repos/ada/engine/compare/{line[0].sha}...{line[-1].sha}"
    )
    assert len(asked) == 2


@pytest_twisted.ensureDeferred
async def test_new_branch_is_compared_with_the_default_branch(
    stubs: dict[str, StubHost],
    site: Callable[..., Site],
    store: Store,
    queue: Queue,
) -> None:
    """
    A new branch has no before: its commits are those its head has and the
    default branch lacks.  A repository's first push, to its default branch,
    has nothing to compare with: the job says so and fetches nothing.
    """
    github = stubs["github"]
    line = history("n", 12)
    repo = StubRepository(
        32, "ada/fresh", admins={"ada"}, commits=line, branches={"main": line[4].sha}
    )
    ref, _ = await added(store, github, repo)
    site()
    branch = Push(_project(ref), (), "refs/heads/feature", "", line[-1].sha, 3, 7)
    status = await settle(
        queue, await queue_completion(queue, ref, branch, store.now())
    )
    assert status.result["new"] == [c.sha for c in line[5:]]  # type: ignore[index,call-overload]
    first = Push(_project(ref), (), "refs/heads/main", "", line[4].sha, 3, 5)
    status = await settle(queue, await queue_completion(queue, ref, first, store.now()))
    assert status.state == "done"
    assert "nothing to compare with" in status.result["reason"]  # type: ignore[index,call-overload]


def _project(ref: RepositoryRef) -> ProjectInfo:
    return ProjectInfo(Host(ref.host), ref.slug, "x", ref.url, host_id=ref.id)


@pytest_twisted.ensureDeferred
async def test_without_a_token_the_job_says_why(
    site: Callable[..., Site], stubs: dict[str, StubHost], store: Store, queue: Queue
) -> None:
    """
    An open event's repository, registered by nobody, has no token to fetch
    with; nor does a repository whose owner never signed in with its host.
    The job ends done, saying why at /api/v1/jobs/<id>; the listed commits
    stay, nothing else is fetched.
    """
    gitlab = stubs["gitlab"]
    line = history("o", 24)
    repo = StubRepository(78, "ada/nokey", admins={"ada"}, commits=line)
    _, secret = await added(store, gitlab, repo, token=False)
    running = site()
    payload = gitlab_push(gitlab, repo, line[3:], line[0].sha, 23)
    code, answer = await post(running, "gitlab", payload, secret)
    assert code == 201
    shown = await job(running, answer["completion"])
    assert shown["state"] == "done"
    assert "has not signed in with GitLab" in shown["result"]["reason"]
    assert len(await project_commits(store, "gl-ada-nokey")) == 21
    assert gitlab.asked_for("GET", "/api/v4/projects/78/repository/compare") == []

    line = history("p", 24)
    open_repo = StubRepository(79, "bob/open", commits=line)
    gitlab.add_repository(open_repo)
    event = site(open_repositories=True)
    payload = gitlab_push(gitlab, open_repo, line[3:], line[0].sha, 23)
    code, answer = await post(event, "gitlab", payload, "")
    assert code == 201, answer
    shown = await job(event, answer["completion"])
    assert "is not added here (an open event's repository)" in shown["result"]["reason"]


@pytest_twisted.ensureDeferred
async def test_verify_commits_scores_only_what_the_host_knows(
    site: Callable[..., Site], stubs: dict[str, StubHost], store: Store, queue: Queue
) -> None:
    """
    Attack: with the repository's secret, a commit its host never had is
    posted beside a real one.  With --verify-commits both wait (pending,
    scoring nothing); the job asks GitLab for each: the real one scores as
    the push would have, the forged one is rejected with the reason and
    never scores, however often the job runs.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    gitlab = stubs["gitlab"]
    line = history("v", 2)
    repo = StubRepository(80, "ada/checked", admins={"ada"}, commits=line)
    _, secret = await added(store, gitlab, repo)
    running = site(verify_commits=True)
    forged = Commit(sha("forged"), "forged", "Ada", "ada@example.com")
    payload = gitlab_push(gitlab, repo, [line[1], forged], line[0].sha, 2)
    code, answer = await post(running, "gitlab", payload, secret)
    assert code == 201 and "completion" not in answer
    status = await settle(queue, answer["verification"])
    assert status.state == "done", status
    assert status.result["verified"] == [line[1].sha]  # type: ignore[index,call-overload]
    assert status.result["rejected"] == [forged.sha]  # type: ignore[index,call-overload]
    response = await treq.get(f"{running.url}/api/v1/commits/{forged.sha}")
    shown = json.loads(await response.content())
    assert (shown["pending"], shown["games"]) == (False, [])
    assert "has no commit" in shown["rejected"]
    ada = await store.player("ada")
    assert (ada.points, ada.commits, ada.pending_points) == (11, 1, 0)
    again = await settle(queue, await _verify_again(queue, gitlab, repo))
    assert again.result["verified"] == []  # type: ignore[index,call-overload]
    assert (await store.player("ada")).points == 11
    assert (await store.recount("julython-2026")).repaired == ()


async def _verify_again(queue: Queue, stub: StubHost, repo: StubRepository) -> str:
    from julytwisted.jobs.product import queue_verification

    ref = RepositoryRef(Host(stub.provider), str(repo.id), repo_url(stub, repo))
    return await queue_verification(queue, ref)


@pytest_twisted.ensureDeferred
async def test_pending_until_the_host_answers(
    site: Callable[..., Site], stubs: dict[str, StubHost], store: Store
) -> None:
    """
    Until the job runs, a pending commit shows as such: in its record and
    as the player's and the project's pending points, scoring nothing.
    Without a token the job leaves them pending, saying why.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    gitlab = stubs["gitlab"]
    line = history("w", 3)
    repo = StubRepository(81, "ada/waiting", admins={"ada"}, commits=line)
    _, secret = await added(store, gitlab, repo, token=False)
    running = site(verify_commits=True)
    payload = gitlab_push(gitlab, repo, line[1:], line[0].sha, 2)
    code, answer = await post(running, "gitlab", payload, secret)
    assert code == 201
    shown = await job(running, answer["verification"])
    assert shown["result"]["pending"] == [c.sha for c in line[1:]]
    assert "has not signed in with GitLab" in shown["result"]["reason"]
    response = await treq.get(f"{running.url}/api/v1/people/ada")
    player = json.loads(await response.content())
    assert (player["points"], player["pending_points"]) == (0, 2)
    response = await treq.get(f"{running.url}/api/v1/commits/{line[1].sha}")
    assert json.loads(await response.content())["pending"] is True

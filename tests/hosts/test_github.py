"""
GitHub, driven over real HTTP against its stub (a GitHub Enterprise server
on 127.0.0.1): the whole sign-in, the account with only its verified
e-mails and its noreply addresses, and (issue 16) a repository, its hooks
and a comparison.
"""

from __future__ import annotations

import pytest
import pytest_twisted

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    HostNotFound,
    Http,
    StateMismatch,
    Token,
    TokenRejected,
    begin,
    compare,
    create_hook,
    delete_hook,
    exchange_code,
    fetch_account,
    fetch_commit,
    fetch_repository,
    list_hooks,
    ping_hook,
    read_callback,
)
from julytwisted.hosts._github import noreply_domain
from julytwisted.hosts.oauth import pkce_challenge
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in, visit
from tests.hosts.stub import Commit, Email, StubRepository, User, sha
from tests.hosts.stub_github import GitHubStub

OCTOCAT = User(
    583231,
    "Octocat",
    "The Octocat",
    [
        Email("octo@example.com", verified=True, primary=True),
        Email("OCTO@Example.com", verified=True),
        Email("spare@example.com", verified=False),
        Email("583231+Octocat@users.noreply.127.0.0.1", verified=True),
        Email("work@example.org", verified=True),
    ],
)


def _history(n: int) -> list[Commit]:
    return [
        Commit(sha(f"c{i}"), f"commit {i}\n\nbody", "Ada", f"ADA{i % 2}@example.com")
        for i in range(n)
    ]


@pytest_twisted.ensureDeferred
async def test_sign_in_reads_verified_emails(github: GitHubStub, http: Http) -> None:
    """
    The whole flow: the account's id, login and name, its verified addresses
    lower-cased and once each (the primary first), both noreply forms, and
    never the unverified one.
    """
    github.browser = github.add_user(OCTOCAT)
    _, token = await sign_in(http, github, APP, CALLBACK)
    assert token.scopes == {"read:user", "user:email"}
    assert token.expires_at is None and token.refresh_token is None
    account = await fetch_account(http, github.host, token)
    noreply = noreply_domain(github.host)
    assert (account.provider, account.id, account.login, account.name) == (
        "github",
        "583231",
        "Octocat",
        "The Octocat",
    )
    assert account.emails == (
        "octo@example.com",
        f"583231+octocat@{noreply}",
        "work@example.org",
        f"octocat@{noreply}",
    )


def test_noreply_domain_of_github_com() -> None:
    """github.com's users have their noreply addresses at GitHub's domain."""
    from julytwisted.hosts import default_host

    assert noreply_domain(default_host("github")) == "users.noreply.github.com"


@pytest_twisted.ensureDeferred
async def test_what_the_stub_was_asked(github: GitHubStub, http: Http) -> None:
    """
    The authorize request carries the S256 challenge of the verifier the
    token request sends, the scopes and the state; the token request asks
    for JSON and sends the app's credentials in the form.
    """
    github.browser = github.add_user(OCTOCAT)
    started, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    [authorize] = github.asked_for("GET", "/login/oauth/authorize")
    assert authorize.arg("code_challenge") == pkce_challenge(started.verifier)
    assert authorize.arg("code_challenge_method") == "S256"
    assert authorize.arg("scope") == "read:user user:email admin:repo_hook"
    assert authorize.arg("state") == started.state
    [exchange] = github.asked_for("POST", "/login/oauth/access_token")
    assert exchange.headers["accept"] == "application/json"
    form = exchange.form()
    assert form["code_verifier"] == started.verifier
    assert (form["client_id"], form["client_secret"]) == (
        "julython-client",
        "julython-secret",
    )
    assert form["redirect_uri"] == CALLBACK
    assert token.grants(["admin:repo_hook"])
    await fetch_account(http, github.host, token)
    [user] = github.asked_for("GET", "/api/v3/user")
    assert user.headers["authorization"] == f"Bearer {token.access_token}"
    assert user.headers["accept"] == "application/vnd.github+json"
    assert user.headers["x-github-api-version"] == "2022-11-28"
    assert user.headers["user-agent"] == "julytwisted"


@pytest_twisted.ensureDeferred
async def test_consent_denied(github: GitHubStub) -> None:
    """A player who declines comes back with access_denied: ConsentDenied."""
    github.browser = github.add_user(OCTOCAT)
    github.consent = False
    started = begin(github.host, APP, CALLBACK)
    callback = await visit(started.url)
    assert callback["error"] == "access_denied"
    with pytest.raises(ConsentDenied):
        read_callback(callback, started.state)


@pytest_twisted.ensureDeferred
async def test_callback_of_another_sign_in(github: GitHubStub) -> None:
    """
    A code meant for another browser's sign-in (its state) is refused
    before it is exchanged.
    """
    github.browser = github.add_user(OCTOCAT)
    mine, theirs = begin(github.host, APP, CALLBACK), begin(github.host, APP, CALLBACK)
    callback = await visit(theirs.url)
    with pytest.raises(StateMismatch):
        read_callback(callback, mine.state)
    assert github.asked_for("POST", "/login/oauth/access_token") == []


@pytest_twisted.ensureDeferred
async def test_code_used_twice(github: GitHubStub, http: Http) -> None:
    """GitHub refuses a code the second time: bad_verification_code."""
    github.browser = github.add_user(OCTOCAT)
    started = begin(github.host, APP, CALLBACK)
    code = read_callback(await visit(started.url), started.state)
    await exchange_code(http, github.host, APP, code, CALLBACK, started.verifier)
    with pytest.raises(CodeRejected) as caught:
        await exchange_code(http, github.host, APP, code, CALLBACK, started.verifier)
    assert caught.value.error == "bad_verification_code"


@pytest_twisted.ensureDeferred
async def test_wrong_verifier(github: GitHubStub, http: Http) -> None:
    """A code sent with another sign-in's verifier is refused."""
    github.browser = github.add_user(OCTOCAT)
    started, other = (
        begin(github.host, APP, CALLBACK),
        begin(github.host, APP, CALLBACK),
    )
    code = read_callback(await visit(started.url), started.state)
    with pytest.raises(CodeRejected):
        await exchange_code(http, github.host, APP, code, CALLBACK, other.verifier)


@pytest_twisted.ensureDeferred
async def test_many_emails_over_pages(github: GitHubStub, http: Http) -> None:
    """Addresses over several pages (Link: rel="next") are all read."""
    many = [Email(f"a{i}@example.com", verified=i % 3 != 0) for i in range(250)]
    github.browser = github.add_user(User(9, "many", "", many))
    _, token = await sign_in(http, github, APP, CALLBACK)
    account = await fetch_account(http, github.host, token)
    assert len(github.asked_for("GET", "/api/v3/user/emails")) == 3
    expected = {e.address for e in many if e.verified}
    assert (
        set(account.emails) - {e for e in account.emails if "noreply" in e} == expected
    )


@pytest_twisted.ensureDeferred
async def test_unknown_token(github: GitHubStub, http: Http) -> None:
    """A token GitHub does not know: TokenRejected (sign in again)."""
    with pytest.raises(TokenRejected, match="Bad credentials"):
        await fetch_account(http, github.host, Token("nonsense"))


@pytest_twisted.ensureDeferred
async def test_repository_and_its_hooks(github: GitHubStub, http: Http) -> None:
    """
    An administered repository: read with its id and page; a push hook made
    with its own secret, listed, pinged and deleted (twice: no error).
    """
    github.browser = github.add_user(OCTOCAT)
    stub_repo = github.add_repository(
        StubRepository(1296269, "Octocat/Hello-World", admins={"Octocat"})
    )
    _, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, github.host, token, "Octocat/Hello-World")
    assert (repo.id, repo.path, repo.admin, repo.watchers, repo.forks) == (
        "1296269",
        "Octocat/Hello-World",
        True,
        7,
        2,
    )
    assert repo.url == f"{github.url}/Octocat/Hello-World"
    hook = await create_hook(
        http,
        github.host,
        token,
        repo,
        "https://julython.example/api/v1/github",
        "s3cret",
    )
    assert (hook.url, hook.events, hook.active) == (
        "https://julython.example/api/v1/github",
        ("push",),
        True,
    )
    assert stub_repo.secrets == {hook.id: "s3cret"}
    [made] = github.asked_for("POST", "/api/v3/repos/Octocat/Hello-World/hooks")
    assert made.json()["config"]["content_type"] == "json"
    assert await list_hooks(http, github.host, token, repo) == (hook,)
    assert await ping_hook(http, github.host, token, repo, hook.id) is True
    assert await delete_hook(http, github.host, token, repo, hook.id) is True
    assert await delete_hook(http, github.host, token, repo, hook.id) is False
    assert await list_hooks(http, github.host, token, repo) == ()


@pytest_twisted.ensureDeferred
async def test_repository_of_someone_else(github: GitHubStub, http: Http) -> None:
    """A repository the player does not administer: admin False, no hooks."""
    github.browser = github.add_user(OCTOCAT)
    github.add_repository(StubRepository(77, "torvalds/linux", admins={"torvalds"}))
    _, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, github.host, token, "torvalds/linux")
    assert repo.admin is False
    with pytest.raises(HostNotFound):
        await create_hook(http, github.host, token, repo, "https://x.example/", "s")
    with pytest.raises(HostNotFound):
        await fetch_repository(http, github.host, token, "torvalds/nothing")


@pytest_twisted.ensureDeferred
async def test_compare(github: GitHubStub, http: Http) -> None:
    """
    The commits between two hashes, oldest first, over three pages; each
    a CommitEvent with its full hash, author, message, time and page.
    """
    github.browser = github.add_user(OCTOCAT)
    history = _history(260)
    github.add_repository(
        StubRepository(5, "Octocat/big", admins={"Octocat"}, commits=history)
    )
    _, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, github.host, token, "Octocat/big")
    base, head = history[3].sha, history[-1].sha
    events = await compare(http, github.host, token, repo, base, head)
    assert [e.hash for e in events] == [c.sha for c in history[4:]]
    first = events[0]
    assert (first.author_name, first.author_email, first.message) == (
        "Ada",
        "ada0@example.com",
        "commit 4\n\nbody",
    )
    assert first.timestamp.isoformat() == "2026-07-15T10:00:00+00:00"
    assert first.url == f"{github.url}/Octocat/big/commit/{history[4].sha}"
    path = f"/api/v3/repos/Octocat/big/compare/{base}...{head}"
    assert len(github.asked_for("GET", path)) == 3
    few = await compare(
        http, github.host, token, repo, history[0].sha, history[-1].sha, most=150
    )
    assert [e.hash for e in few] == [c.sha for c in history[1:151]]


@pytest_twisted.ensureDeferred
async def test_fetch_commit(github: GitHubStub, http: Http) -> None:
    """
    One commit by its hash, as GET /repos/{owner}/{repo}/commits/{ref}
    gives it; a hash the repository lacks (GitHub's 422) is HostNotFound.
    The repository's default branch comes with it.
    """
    github.browser = github.add_user(OCTOCAT)
    history = _history(3)
    github.add_repository(
        StubRepository(5, "Octocat/big", admins={"Octocat"}, commits=history)
    )
    _, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, github.host, token, "Octocat/big")
    assert repo.default_branch == "main"
    found = await fetch_commit(http, github.host, token, repo, history[1].sha)
    assert (found.hash, found.author_email) == (history[1].sha, "ada1@example.com")
    assert found.url == f"{github.url}/Octocat/big/commit/{history[1].sha}"
    with pytest.raises(HostNotFound, match="422: No commit found"):
        await fetch_commit(http, github.host, token, repo, sha("never"))

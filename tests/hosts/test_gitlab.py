"""
GitLab, driven over real HTTP against its stub (a self-managed install on
127.0.0.1): the sign-in with PKCE, expiring tokens and their refresh, the
account with its confirmed e-mails (the primary one from C{/user}, only
when confirmed), and (issue 16) a project, its hooks and a comparison.
"""

from __future__ import annotations

import pytest
import pytest_twisted

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    HostForbidden,
    HostNotFound,
    Http,
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
    refresh,
)
from julytwisted.hosts.oauth import pkce_challenge, utc
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in, visit
from tests.hosts.stub import Commit, Email, StubRepository, User, sha
from tests.hosts.stub_gitlab import GitLabStub


def _ada(confirmed: bool = True) -> User:
    return User(
        42,
        "ada",
        "Ada Lovelace",
        [
            Email("Ada@Example.com", primary=True),
            Email("ada@work.example", verified=True),
            Email("claimed@example.com", verified=False),
            Email("ada@example.com", verified=True),
        ],
        confirmed=confirmed,
    )


@pytest_twisted.ensureDeferred
async def test_sign_in_reads_confirmed_emails(gitlab: GitLabStub, http: Http) -> None:
    """
    The primary address comes from /user (which /user/emails leaves out);
    the others are those with a confirmed_at; none twice.
    """
    gitlab.browser = gitlab.add_user(_ada())
    started, token = await sign_in(http, gitlab, APP, CALLBACK)
    assert token.scopes == {"read_user"}
    assert token.refresh_token and token.expires_at is not None
    [authorize] = gitlab.asked_for("GET", "/oauth/authorize")
    assert authorize.arg("scope") == "read_user"
    assert authorize.arg("code_challenge") == pkce_challenge(started.verifier)
    [exchange] = gitlab.asked_for("POST", "/oauth/token")
    assert exchange.form()["grant_type"] == "authorization_code"
    assert exchange.form()["client_secret"] == APP.client_secret
    account = await fetch_account(http, gitlab.host, token)
    assert (account.id, account.login, account.name) == ("42", "ada", "Ada Lovelace")
    assert account.emails == ("ada@example.com", "ada@work.example")


@pytest_twisted.ensureDeferred
async def test_unconfirmed_user_primary_is_left_out(
    gitlab: GitLabStub, http: Http
) -> None:
    """A user whose account is not confirmed: /user's address does not count."""
    gitlab.browser = gitlab.add_user(_ada(confirmed=False))
    gitlab.browser.emails.pop()
    _, token = await sign_in(http, gitlab, APP, CALLBACK)
    account = await fetch_account(http, gitlab.host, token)
    assert account.emails == ("ada@work.example",)


@pytest_twisted.ensureDeferred
async def test_consent_denied(gitlab: GitLabStub) -> None:
    """access_denied from GitLab's authorize page: ConsentDenied."""
    gitlab.browser = gitlab.add_user(_ada())
    gitlab.consent = False
    started = begin(gitlab.host, APP, CALLBACK)
    with pytest.raises(ConsentDenied):
        read_callback(await visit(started.url), started.state)


@pytest_twisted.ensureDeferred
async def test_code_used_twice_and_wrong_verifier(
    gitlab: GitLabStub, http: Http
) -> None:
    """invalid_grant for a code used twice, and for a wrong verifier."""
    gitlab.browser = gitlab.add_user(_ada())
    started = begin(gitlab.host, APP, CALLBACK)
    code = read_callback(await visit(started.url), started.state)
    with pytest.raises(CodeRejected) as caught:
        await exchange_code(http, gitlab.host, APP, code, CALLBACK, "x" * 43)
    assert caught.value.error == "invalid_grant"
    with pytest.raises(CodeRejected):
        await exchange_code(http, gitlab.host, APP, code, CALLBACK, started.verifier)


@pytest_twisted.ensureDeferred
async def test_expired_token_is_refreshed(gitlab: GitLabStub, http: Http) -> None:
    """
    An expired token is refused (TokenRejected); its refresh token gets a
    new one, once: the old refresh token is spent.
    """
    gitlab.browser = gitlab.add_user(_ada())
    _, token = await sign_in(http, gitlab, APP, CALLBACK)
    assert token.expires_within(utc(http.clock.seconds()), 7300)
    gitlab.expire(token.access_token)
    with pytest.raises(TokenRejected):
        await fetch_account(http, gitlab.host, token)
    renewed = await refresh(http, gitlab.host, APP, token, CALLBACK)
    assert renewed.access_token != token.access_token
    assert renewed.refresh_token not in (None, token.refresh_token)
    assert renewed.scopes == token.scopes
    [asked] = gitlab.asked_for("POST", "/oauth/token")[1:]
    assert asked.form()["grant_type"] == "refresh_token"
    assert asked.form()["redirect_uri"] == CALLBACK
    assert (await fetch_account(http, gitlab.host, renewed)).login == "ada"
    with pytest.raises(TokenRejected):
        await refresh(http, gitlab.host, APP, token)


@pytest_twisted.ensureDeferred
async def test_project_and_its_hooks(gitlab: GitLabStub, http: Http) -> None:
    """
    A project read by its path (one URL-encoded segment), administered at
    Maintainer level; a push hook carrying its token, listed, tested and
    deleted.
    """
    gitlab.browser = gitlab.add_user(_ada())
    stub_repo = gitlab.add_repository(
        StubRepository(3, "team/sub/julython", admins={"ada"}, description="A game")
    )
    _, token = await sign_in(http, gitlab, APP, CALLBACK, repositories=True)
    assert token.scopes == {"read_user", "api"}
    repo = await fetch_repository(http, gitlab.host, token, "team/sub/julython")
    assert gitlab.asked_for("GET", "/api/v4/projects/team%2Fsub%2Fjulython")
    assert (repo.id, repo.path, repo.admin, repo.description) == (
        "3",
        "team/sub/julython",
        True,
        "A game",
    )
    hook = await create_hook(
        http, gitlab.host, token, repo, "https://j.example/", "t0k"
    )
    assert stub_repo.secrets == {hook.id: "t0k"}
    assert hook.events == ("push_events",) and hook.active
    made = gitlab.asked_for("POST", "/api/v4/projects/3/hooks")[0].json()
    assert made["push_events"] is True and made["enable_ssl_verification"] is True
    assert await list_hooks(http, gitlab.host, token, repo) == (hook,)
    assert await ping_hook(http, gitlab.host, token, repo, hook.id) is True
    assert await delete_hook(http, gitlab.host, token, repo, hook.id) is True
    assert await delete_hook(http, gitlab.host, token, repo, hook.id) is False


@pytest_twisted.ensureDeferred
async def test_project_of_a_developer(gitlab: GitLabStub, http: Http) -> None:
    """A Developer does not administer the project; hooks are refused."""
    gitlab.browser = gitlab.add_user(_ada())
    gitlab.add_repository(
        StubRepository(8, "gnome/gtk", admins={"ebassi"}, readers={"ada"})
    )
    _, token = await sign_in(http, gitlab, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, gitlab.host, token, "gnome/gtk")
    assert repo.admin is False
    with pytest.raises(HostNotFound):
        await create_hook(http, gitlab.host, token, repo, "https://j.example/", "t")


@pytest_twisted.ensureDeferred
async def test_sign_in_scope_cannot_read_projects(
    gitlab: GitLabStub, http: Http
) -> None:
    """A token with read_user only is refused the project: HostForbidden."""
    gitlab.browser = gitlab.add_user(_ada())
    gitlab.add_repository(StubRepository(3, "ada/julython", admins={"ada"}))
    _, token = await sign_in(http, gitlab, APP, CALLBACK)
    with pytest.raises(
        HostForbidden, match="answered 403: The request requires higher"
    ):
        await fetch_repository(http, gitlab.host, token, "ada/julython")


@pytest_twisted.ensureDeferred
async def test_compare(gitlab: GitLabStub, http: Http) -> None:
    """The comparison's commits, oldest first, as CommitEvents."""
    gitlab.browser = gitlab.add_user(_ada())
    history = [
        Commit(
            sha(f"g{i}"),
            f"change {i}",
            "Ada",
            "Ada@Example.com",
            f"2026-07-0{i + 1}T09:00:00.000+02:00",
        )
        for i in range(6)
    ]
    gitlab.add_repository(
        StubRepository(3, "ada/julython", admins={"ada"}, commits=history)
    )
    _, token = await sign_in(http, gitlab, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, gitlab.host, token, "ada/julython")
    events = await compare(
        http, gitlab.host, token, repo, history[1].sha, history[5].sha
    )
    assert [e.hash for e in events] == [c.sha for c in history[2:]]
    assert events[0].author_email == "ada@example.com"
    assert events[0].timestamp.isoformat() == "2026-07-03T07:00:00+00:00"
    assert events[0].url.endswith(f"/ada/julython/-/commit/{history[2].sha}")
    two = await compare(
        http, gitlab.host, token, repo, history[1].sha, history[5].sha, most=2
    )
    assert [e.hash for e in two] == [c.sha for c in history[2:4]]


@pytest_twisted.ensureDeferred
async def test_fetch_commit(gitlab: GitLabStub, http: Http) -> None:
    """
    One commit, from GET /projects/:id/repository/commits/:sha (by the
    project's id); one the project lacks is HostNotFound.
    """
    gitlab.browser = gitlab.add_user(_ada())
    history = [
        Commit(sha(f"g{i}"), f"change {i}", "Ada", "Ada@Example.com") for i in range(3)
    ]
    gitlab.add_repository(
        StubRepository(3, "ada/julython", admins={"ada"}, commits=history)
    )
    _, token = await sign_in(http, gitlab, APP, CALLBACK, repositories=True)
    repo = await fetch_repository(http, gitlab.host, token, "ada/julython")
    assert repo.default_branch == "main"
    found = await fetch_commit(http, gitlab.host, token, repo, history[2].sha)
    assert (found.hash, found.message) == (history[2].sha, "change 2")
    path = f"/api/v4/projects/3/repository/commits/{history[2].sha}"
    assert len(gitlab.asked_for("GET", path)) == 1
    with pytest.raises(HostNotFound, match="Commit Not Found"):
        await fetch_commit(http, gitlab.host, token, repo, sha("never"))

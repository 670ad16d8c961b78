"""
Bitbucket Cloud, driven over real HTTP against its stub: the sign-in (the
app's credentials as HTTP Basic, the scopes from the consumer), the account
with its confirmed e-mails over pages named by C{next}, the permission that
says who administers a repository, its webhooks (no ping), and the commits
between two hashes.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
import pytest_twisted

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    HostForbidden,
    HostNotFound,
    Http,
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
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in, visit
from tests.hosts.stub import Commit, Email, StubRepository, User, sha
from tests.hosts.stub_bitbucket import BitbucketStub

UUID = "{d301aafa-d676-4ee0-88be-962be7417567}"


def _grace() -> User:
    emails = [
        Email("grace@example.com", verified=True),
        Email("Grace@Navy.example", verified=True, primary=True),
        Email("not-yet@example.com", verified=False),
    ]
    emails += [Email(f"old{i}@example.com", verified=i % 2 == 0) for i in range(150)]
    return User(UUID, "grace", "Grace Hopper", emails)


@pytest_twisted.ensureDeferred
async def test_sign_in_reads_confirmed_emails(
    bitbucket: BitbucketStub, http: Http
) -> None:
    """
    The token endpoint gets the app's credentials as HTTP Basic and the
    verifier; the authorize URL names no scope; the account's confirmed
    addresses come over two pages, the primary first.
    """
    bitbucket.browser = bitbucket.add_user(_grace())
    started, token = await sign_in(http, bitbucket, APP, CALLBACK)
    [authorize] = bitbucket.asked_for("GET", "/site/oauth2/authorize")
    assert "scope" not in authorize.query
    [exchange] = bitbucket.asked_for("POST", "/site/oauth2/access_token")
    credentials = base64.b64encode(b"julython-client:julython-secret").decode()
    assert exchange.headers["authorization"] == f"Basic {credentials}"
    assert "client_secret" not in exchange.form()
    assert exchange.form()["code_verifier"] == started.verifier
    assert token.scopes == {
        "account",
        "email",
        "repository",
        "repository:admin",
        "webhook",
    }
    account = await fetch_account(http, bitbucket.host, token)
    assert len(bitbucket.asked_for("GET", "/2.0/user/emails")) == 2
    assert (account.id, account.login, account.name) == (UUID, "grace", "Grace Hopper")
    assert account.emails[:2] == ("grace@navy.example", "grace@example.com")
    assert set(account.emails[2:]) == {f"old{i}@example.com" for i in range(0, 150, 2)}


@pytest_twisted.ensureDeferred
async def test_consent_denied_and_code_reuse(
    bitbucket: BitbucketStub, http: Http
) -> None:
    """access_denied ends the sign-in; a code works once only."""
    bitbucket.browser = bitbucket.add_user(_grace())
    started = begin(bitbucket.host, APP, CALLBACK)
    code = read_callback(await visit(started.url), started.state)
    await exchange_code(http, bitbucket.host, APP, code, CALLBACK, started.verifier)
    with pytest.raises(CodeRejected):
        await exchange_code(http, bitbucket.host, APP, code, CALLBACK, started.verifier)
    bitbucket.consent = False
    again = begin(bitbucket.host, APP, CALLBACK)
    with pytest.raises(ConsentDenied):
        read_callback(await visit(again.url), again.state)


@pytest_twisted.ensureDeferred
async def test_refresh(bitbucket: BitbucketStub, http: Http) -> None:
    """A refresh goes with HTTP Basic too, and gives a working token."""
    bitbucket.browser = bitbucket.add_user(_grace())
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    bitbucket.expire(token.access_token)
    renewed = await refresh(http, bitbucket.host, APP, token)
    assert bitbucket.asked_for("POST", "/site/oauth2/access_token")[1].form() == {
        "grant_type": "refresh_token",
        "refresh_token": token.refresh_token,
    }
    assert (await fetch_account(http, bitbucket.host, renewed)).login == "grace"


@pytest_twisted.ensureDeferred
async def test_repository_and_its_hooks(bitbucket: BitbucketStub, http: Http) -> None:
    """
    A repository and the account's permission on it; a repo:push webhook
    with its secret, listed and deleted; Bitbucket has no ping.
    """
    bitbucket.browser = bitbucket.add_user(_grace())
    repo_uuid = "{9f2c5f4e-1111-4c2b-9a55-0a0a0a0a0a0a}"
    stub_repo = bitbucket.add_repository(
        StubRepository(repo_uuid, "navy/cobol", admins={"grace"}, private=True)
    )
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    repo = await fetch_repository(http, bitbucket.host, token, "navy/cobol")
    assert (repo.id, repo.path, repo.admin, repo.private) == (
        repo_uuid,
        "navy/cobol",
        True,
        True,
    )
    [asked] = bitbucket.asked_for("GET", "/2.0/user/permissions/repositories")
    assert asked.arg("q") == f'repository.uuid="{repo_uuid}"'
    hook = await create_hook(
        http, bitbucket.host, token, repo, "https://j.example/", "k"
    )
    assert (hook.events, hook.active) == (("repo:push",), True)
    assert stub_repo.secrets == {hook.id: "k"}
    assert await list_hooks(http, bitbucket.host, token, repo) == (hook,)
    assert await ping_hook(http, bitbucket.host, token, repo, hook.id) is False
    assert await delete_hook(http, bitbucket.host, token, repo, hook.id) is True
    assert await delete_hook(http, bitbucket.host, token, repo, hook.id) is False
    path = f"/2.0/repositories/navy/cobol/hooks/{quote(hook.id, safe='')}"
    assert len(bitbucket.asked_for("DELETE", path)) == 2


@pytest_twisted.ensureDeferred
async def test_reader_does_not_administer(bitbucket: BitbucketStub, http: Http) -> None:
    """Read permission: admin False."""
    bitbucket.browser = bitbucket.add_user(_grace())
    bitbucket.add_repository(StubRepository("{r}", "ibm/fortran", readers={"grace"}))
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    repo = await fetch_repository(http, bitbucket.host, token, "ibm/fortran")
    assert repo.admin is False


@pytest_twisted.ensureDeferred
async def test_consumer_without_webhook_permission(
    bitbucket: BitbucketStub, http: Http
) -> None:
    """A consumer without the webhook permission gets no hooks: HostForbidden."""
    bitbucket.granted = ("account", "email", "repository")
    bitbucket.browser = bitbucket.add_user(_grace())
    bitbucket.add_repository(StubRepository("{c}", "navy/cobol", admins={"grace"}))
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    assert not token.grants(["webhook"])
    repo = await fetch_repository(http, bitbucket.host, token, "navy/cobol")
    with pytest.raises(HostForbidden):
        await create_hook(http, bitbucket.host, token, repo, "https://j.example/", "k")


@pytest_twisted.ensureDeferred
async def test_compare(bitbucket: BitbucketStub, http: Http) -> None:
    """
    Bitbucket lists newest first over pages: the commits come back oldest
    first; the author's name and e-mail come out of "Name <email>".
    """
    bitbucket.browser = bitbucket.add_user(_grace())
    history = [
        Commit(sha(f"b{i}"), f"fix {i}", "Grace Hopper", "Grace@Navy.example")
        for i in range(130)
    ]
    bitbucket.add_repository(
        StubRepository("{c}", "navy/cobol", admins={"grace"}, commits=history)
    )
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    repo = await fetch_repository(http, bitbucket.host, token, "navy/cobol")
    base, head = history[0].sha, history[-1].sha
    events = await compare(http, bitbucket.host, token, repo, base, head)
    assert [e.hash for e in events] == [c.sha for c in history[1:]]
    assert (events[0].author_name, events[0].author_email) == (
        "Grace Hopper",
        "grace@navy.example",
    )
    assert events[0].url.endswith(f"/navy/cobol/commits/{history[1].sha}")
    [first, _] = bitbucket.asked_for("GET", "/2.0/repositories/navy/cobol/commits")
    assert (first.arg("include"), first.arg("exclude")) == (head, base)


@pytest_twisted.ensureDeferred
async def test_fetch_commit(bitbucket: BitbucketStub, http: Http) -> None:
    """
    One commit, from GET /2.0/repositories/{workspace}/{repo_slug}/commit/
    {commit}; one the repository lacks is HostNotFound.  The main branch
    is the repository's default.
    """
    bitbucket.browser = bitbucket.add_user(_grace())
    history = [
        Commit(sha(f"b{i}"), f"fix {i}", "Grace", "grace@navy.example")
        for i in range(2)
    ]
    bitbucket.add_repository(
        StubRepository("{c}", "navy/cobol", admins={"grace"}, commits=history)
    )
    _, token = await sign_in(http, bitbucket, APP, CALLBACK)
    repo = await fetch_repository(http, bitbucket.host, token, "navy/cobol")
    assert repo.default_branch == "main"
    found = await fetch_commit(http, bitbucket.host, token, repo, history[0].sha)
    assert (found.hash, found.author_email) == (history[0].sha, "grace@navy.example")
    with pytest.raises(HostNotFound, match="Commit not found"):
        await fetch_commit(http, bitbucket.host, token, repo, sha("never"))

"""
GitLab, driven over real HTTP against its stub (a self-managed install on
127.0.0.1): the sign-in with PKCE, expiring tokens and their refresh, the
account with its confirmed e-mails (the primary one from C{/user}, only
when confirmed).
"""

from __future__ import annotations

import pytest
import pytest_twisted

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    Http,
    TokenRejected,
    begin,
    exchange_code,
    fetch_account,
    read_callback,
    refresh,
)
from julytwisted.hosts.oauth import pkce_challenge, utc
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in, visit
from tests.hosts.stub import Email, User
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

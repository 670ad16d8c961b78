"""
Bitbucket Cloud, driven over real HTTP against its stub: the sign-in (the
app's credentials as HTTP Basic, the scopes from the consumer), the account
with its confirmed e-mails over pages named by C{next}.
"""

from __future__ import annotations

import base64

import pytest
import pytest_twisted

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    Http,
    begin,
    exchange_code,
    fetch_account,
    read_callback,
    refresh,
)
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in, visit
from tests.hosts.stub import Email, User
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
    assert token.scopes == {"account", "email", "repository", "webhook"}
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

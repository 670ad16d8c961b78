"""
The token endpoint's refusals, whichever host: the app's credentials, the
callback URL, a token that cannot be renewed, and a host that is down or
answers nonsense.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site

from julytwisted.hosts import (
    CodeRejected,
    ConfiguredHost,
    HostUnreachable,
    Http,
    MalformedAnswer,
    OAuthApp,
    SignInFailed,
    Token,
    TokenRejected,
    begin,
    exchange_code,
    read_callback,
    refresh,
)
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import visit
from tests.hosts.stub import User
from tests.hosts.stub_github import GitHubStub
from tests.hosts.stub_gitlab import GitLabStub


async def _code(stub: GitHubStub | GitLabStub) -> tuple[str, str]:
    stub.browser = stub.add_user(User(1, "ada", "Ada"))
    started = begin(stub.host, APP, CALLBACK)
    return read_callback(await visit(started.url), started.state), started.verifier


@pytest_twisted.ensureDeferred
async def test_wrong_client_secret(gitlab: GitLabStub, http: Http) -> None:
    """GitLab refuses the app's credentials: SignInFailed, not CodeRejected."""
    code, verifier = await _code(gitlab)
    wrong = OAuthApp(APP.client_id, "not-the-secret")
    with pytest.raises(SignInFailed) as caught:
        await exchange_code(http, gitlab.host, wrong, code, CALLBACK, verifier)
    assert caught.value.error == "invalid_client"
    assert not isinstance(caught.value, CodeRejected)


@pytest_twisted.ensureDeferred
async def test_another_callback_url(github: GitHubStub, http: Http) -> None:
    """A code sent back with another redirect_uri is refused."""
    code, verifier = await _code(github)
    elsewhere = "http://julython.test/login/other"
    with pytest.raises(CodeRejected):
        await exchange_code(http, github.host, APP, code, elsewhere, verifier)


@pytest_twisted.ensureDeferred
async def test_token_without_a_refresh_token(github: GitHubStub, http: Http) -> None:
    """A GitHub OAuth app's token never expires and cannot be renewed."""
    with pytest.raises(TokenRejected, match="cannot be renewed"):
        await refresh(http, github.host, APP, Token("gho_x"))
    assert github.asked == []


@pytest_twisted.ensureDeferred
async def test_token_endpoint_down(http: Http) -> None:
    """Nobody at the host: HostUnreachable."""
    port = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()
    host = ConfiguredHost("gitlab", url, url + "/api/v4")
    with pytest.raises(HostUnreachable, match="GitLab's token endpoint"):
        await exchange_code(http, host, APP, "code", CALLBACK, "v" * 43)


class _Broken(Resource):
    isLeaf = True

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status, self.body = status, body

    def render_POST(self, request: object) -> bytes:
        request.setResponseCode(self.status)  # type: ignore[attr-defined]
        return self.body


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (502, b"<html>Bad gateway</html>", HostUnreachable),
        (200, b"<html>sign in</html>", MalformedAnswer),
        (200, b'{"token_type": "bearer"}', MalformedAnswer),
    ],
)
@pytest_twisted.ensureDeferred
async def test_token_endpoint_nonsense(
    http: Http, status: int, body: bytes, error: type[Exception]
) -> None:
    """A failing or nonsensical token endpoint: its own HostError."""
    port = reactor.listenTCP(0, Site(_Broken(status, body)), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        with pytest.raises(error):
            await exchange_code(
                http,
                ConfiguredHost("github", url, url + "/api/v3"),
                APP,
                "c",
                CALLBACK,
                "v",
            )
    finally:
        await port.stopListening()

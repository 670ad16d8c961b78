"""
The player's side of a sign-in, for the tests: the browser's visit to the
host's authorize URL, and the whole flow from there to a token.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import treq

from julytwisted.hosts import (
    Http,
    OAuthApp,
    SignIn,
    Token,
    begin,
    exchange_code,
    read_callback,
)
from tests.hosts.stub import StubHost


async def visit(url: str) -> dict[str, str]:
    """
    Open the authorize URL as the browser would, and stop at the redirect
    back to julytwisted.

    @return: the query the callback would receive.
    """
    response = await treq.get(url, allow_redirects=False, persistent=False)
    await response.content()
    assert response.code == 302, response.code
    location = response.headers.getRawHeaders("location")[0]
    return dict(parse_qsl(urlsplit(location).query))


async def sign_in(
    http: Http,
    stub: StubHost,
    app: OAuthApp,
    redirect_uri: str,
    repositories: bool = False,
) -> tuple[SignIn, Token]:
    """Sign in at C{stub} as its browser's user, with consent, to a token."""
    started = begin(stub.host, app, redirect_uri, repositories=repositories)
    code = read_callback(await visit(started.url), started.state)
    token = await exchange_code(
        http, stub.host, app, code, started.redirect_uri, started.verifier
    )
    return started, token

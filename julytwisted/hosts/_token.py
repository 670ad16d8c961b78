# -*- test-case-name: tests.hosts.test_token -*-
"""
The calls to a code host's token endpoint: an authorization code for a
token, and a refresh token for a new one.

Each host as it documents it: the form is C{application/x-www-form-urlencoded};
GitHub answers JSON only when asked with C{Accept: application/json}, and
reports a refused code in a 200 answer; Bitbucket takes the app's
credentials as HTTP Basic, the others in the form.
"""

from __future__ import annotations

from julytwisted.errors import TokenRejected
from julytwisted.hosts._http import Http, Request, check, send
from julytwisted.hosts._json import Node
from julytwisted.hosts._providers import ConfiguredHost
from julytwisted.hosts.oauth import OAuthApp, Token, read_token, utc


async def _token_call(
    http: Http, host: ConfiguredHost, app: OAuthApp, form: dict[str, str]
) -> tuple[Node, float]:
    """
    POST C{form} to the token endpoint.

    @return: the decoded answer, error or not, and when it came.
    """
    options: dict[str, object] = {}
    if host.spec.basic_auth:
        options["auth"] = (app.client_id, app.client_secret)
    else:
        form = {**form, "client_id": app.client_id, "client_secret": app.client_secret}
    options["data"] = form
    what = f"{host.spec.title}'s token endpoint"
    answer = await send(
        http, Request("POST", host.web(host.spec.token_path), what, options=options)
    )
    if answer.status >= 500 or answer.status in (404, 429):
        check(http, answer)
    return answer.json(), http.clock.seconds()


async def exchange_code(
    http: Http,
    host: ConfiguredHost,
    app: OAuthApp,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> Token:
    """
    Trade the callback's authorization code for a token.

    @param code: the code L{read_callback
        <julytwisted.hosts.oauth.read_callback>} returned.
    @param redirect_uri: the callback URL the authorize URL named.
    @param verifier: the sign-in's PKCE verifier.
    @return: the token.
    @raise CodeRejected: when the host refuses the code: wrong, expired,
        used before, or sent with another verifier.
    @raise SignInFailed: when it refuses for another reason (the app's
        credentials, the callback URL), with its error code.
    @raise HostError: when it cannot be reached or answers nonsense.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    node, now = await _token_call(http, host, app, form)
    return read_token(node, utc(now))


async def refresh(
    http: Http,
    host: ConfiguredHost,
    app: OAuthApp,
    token: Token,
    redirect_uri: str = "",
) -> Token:
    """
    Renew an expiring token with its refresh token.

    @param redirect_uri: the callback URL, which GitLab's documentation
        sends again; omitted when empty.
    @return: the new token; the refresh token and scopes of C{token} stay
        where the host gives no new ones.
    @raise TokenRejected: when the host refuses, or C{token} has no refresh
        token: the player must sign in again.
    @raise HostError: when the host cannot be reached or answers nonsense.
    """
    if not token.refresh_token:
        raise TokenRejected(f"this {host.spec.title} token cannot be renewed")
    form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    node, now = await _token_call(http, host, app, form)
    return read_token(node, utc(now), refreshing=True, before=token)


__all__ = ["exchange_code", "refresh"]

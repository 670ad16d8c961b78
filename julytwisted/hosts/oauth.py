# -*- test-case-name: tests.hosts.test_oauth -*-
"""
The pure half of an OAuth 2.0 sign-in with a code host (RFC 6749's
authorization code flow, with RFC 7636's PKCE): the authorize URL with its
C{state} and S256 code challenge, the callback's checks, and the token an
answer carries.  The calls to the token endpoint are L{julytwisted.hosts}'
C{exchange_code} and C{refresh}.

Bitbucket Cloud documents neither PKCE nor a C{scope} parameter (its
consumer's permissions are the scopes); it gets the challenge anyway, since
RFC 6749 has servers ignore parameters they do not know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import attrs

from julytwisted.errors import (
    CodeRejected,
    ConsentDenied,
    SignInFailed,
    StateMismatch,
    TokenRejected,
)
from julytwisted.hosts._json import Node, text_or
from julytwisted.hosts._providers import ConfiguredHost

#: Random bytes behind a state or a PKCE verifier: 43 characters once
#: encoded, RFC 7636's shortest verifier.
ENTROPY = 32

#: Longest authorization code accepted from a callback.
_MAX_CODE = 1024
_SCOPE_SEPARATORS = re.compile(r"[\s,]+")

#: Scopes that include others, so that a token granted the wider one
#: passes for the narrower (GitHub C{repo} manages hooks; GitLab C{api} reads
#: the user).
_WIDER = {
    "repo": frozenset({"admin:repo_hook", "public_repo"}),
    "public_repo": frozenset({"admin:repo_hook"}),
    "user": frozenset({"read:user", "user:email"}),
    "api": frozenset({"read_user", "read_api"}),
}


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@attrs.frozen
class OAuthApp:
    """
    julytwisted as registered at one code host (a Bitbucket "consumer").

    @ivar client_id: the id the host gave, C{--oauth PROVIDER=CLIENT_ID}.
    @ivar client_secret: its secret.
    """

    client_id: str
    client_secret: str = attrs.field(repr=False)


@attrs.frozen
class Pkce:
    """
    A PKCE pair (RFC 7636): the verifier stays with us until the token
    exchange, the challenge goes to the host in the authorize URL.

    @ivar verifier: 43 to 128 characters of C{[A-Za-z0-9-._~]}.
    @ivar challenge: the verifier's SHA-256, base64url without padding.
    """

    verifier: str = attrs.field(repr=False)
    challenge: str
    method: str = "S256"


def pkce_challenge(verifier: str) -> str:
    """@return: the S256 challenge of C{verifier}."""
    return _encode(hashlib.sha256(verifier.encode("ascii")).digest())


def new_pkce(random: Callable[[int], bytes] = secrets.token_bytes) -> Pkce:
    """@return: a fresh PKCE pair from C{random}'s bytes."""
    verifier = _encode(random(ENTROPY))
    return Pkce(verifier, pkce_challenge(verifier))


def new_state(random: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """@return: a fresh C{state}: unguessable, URL-safe."""
    return _encode(random(ENTROPY))


@attrs.frozen
class SignIn:
    """
    A sign-in begun: where to send the browser, and what to keep (in the
    browser's session) until its callback comes.

    @ivar url: the host's authorize URL (it carries the state, so neither is
        shown in the record's C{repr}).
    @ivar state: what the callback must carry back.
    @ivar verifier: the PKCE verifier the token exchange sends.
    @ivar redirect_uri: the callback URL, sent again with the code.
    @ivar scopes: the scopes asked for.
    """

    url: str = attrs.field(repr=False)
    state: str = attrs.field(repr=False)
    verifier: str = attrs.field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...]


def authorize_url(
    host: ConfiguredHost,
    app: OAuthApp,
    redirect_uri: str,
    state: str,
    pkce: Pkce,
    scopes: Iterable[str],
) -> str:
    """
    @param redirect_uri: julytwisted's callback, as registered at the host.
    @param scopes: the scopes to ask for; not sent where the host takes them
        from the app's registration (Bitbucket).
    @return: the host's authorize URL for this sign-in.
    """
    params = [
        ("client_id", app.client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("state", state),
        ("code_challenge", pkce.challenge),
        ("code_challenge_method", pkce.method),
    ]
    if host.spec.scope_param:
        params.append(("scope", " ".join(scopes)))
    return f"{host.web(host.spec.authorize_path)}?{urlencode(params)}"


def begin(
    host: ConfiguredHost,
    app: OAuthApp,
    redirect_uri: str,
    repositories: bool = False,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> SignIn:
    """
    Begin a sign-in with a fresh state and PKCE pair.

    @param repositories: whether to ask for the scopes that manage webhooks
        and read commits too, beyond reading the account.
    @param random: the source of random bytes.
    @return: the sign-in to keep and redirect to.
    """
    spec = host.spec
    scopes = spec.sign_in_scopes + (spec.repository_scopes if repositories else ())
    state, pkce = new_state(random), new_pkce(random)
    url = authorize_url(host, app, redirect_uri, state, pkce, scopes)
    return SignIn(url, state, pkce.verifier, redirect_uri, scopes)


def read_callback(params: Mapping[str, str], state: str) -> str:
    """
    Check the query of the callback the host sent the browser to.

    @param params: its parameters, one value each.
    @param state: the state of the sign-in this browser began.
    @return: the authorization code.
    @raise StateMismatch: when the callback's C{state} is not C{state}
        (checked first, whatever else it says).
    @raise ConsentDenied: when the player declined (C{access_denied}).
    @raise SignInFailed: for any other error, or no usable code.
    """
    given = params.get("state", "")
    if not state or not hmac.compare_digest(given.encode(), state.encode()):
        raise StateMismatch("this sign-in was not begun here; begin it again")
    error = params.get("error", "")
    if error == "access_denied":
        raise ConsentDenied("the sign-in was declined at the code host", error)
    if error:
        said = params.get("error_description", "")[:200]
        raise SignInFailed(f"the code host refused the sign-in: {error} {said}", error)
    code = params.get("code", "")
    if not code or len(code) > _MAX_CODE:
        raise SignInFailed("the code host sent no usable authorization code")
    return code


@attrs.frozen
class Token:
    """
    An access token, as the token endpoint gave it.

    @ivar access_token: the bearer token.
    @ivar scopes: the scopes granted (which may be fewer than asked).
    @ivar refresh_token: what renews it, where the host gives one (GitLab,
        Bitbucket, and GitHub tokens that expire).
    @ivar expires_at: when it expires, aware UTC; L{None} if it does not.
    """

    access_token: str = attrs.field(repr=False)
    scopes: frozenset[str] = frozenset()
    refresh_token: str | None = attrs.field(default=None, repr=False)
    expires_at: datetime | None = None

    def expires_within(self, now: datetime, seconds: float = 60.0) -> bool:
        """@return: whether it has expired by C{seconds} after C{now}."""
        if self.expires_at is None:
            return False
        return self.expires_at <= now + timedelta(seconds=seconds)

    def grants(self, scopes: Iterable[str]) -> bool:
        """@return: whether every one of C{scopes} was granted."""
        held = set(self.scopes)
        for scope in self.scopes:
            held |= _WIDER.get(scope, frozenset())
        return set(scopes) <= held


def _refused(node: Node, refreshing: bool) -> None:
    """@raise SignInFailed: or L{TokenRejected}, when C{node} is an error."""
    error = text_or(node, "error")
    if not error:
        return
    said = text_or(node, "error_description")[:200]
    if error in ("bad_verification_code", "invalid_grant"):
        if refreshing:
            raise TokenRejected(f"the code host refused to renew the token: {said}")
        raise CodeRejected(f"the code host refused the code: {said}", error)
    raise SignInFailed(f"the code host refused the sign-in: {error} {said}", error)


def read_token(
    node: Node, now: datetime, refreshing: bool = False, before: Token | None = None
) -> Token:
    """
    Read a token endpoint's answer (RFC 6749, sections 5.1 and 5.2).

    @param node: the decoded answer.
    @param now: when it came, to turn C{expires_in} into a time.
    @param refreshing: whether it answers a refresh, so that a refusal means
        the token is dead rather than the code wrong.
    @param before: the token refreshed, whose refresh token and scopes stay
        where the answer gives none.
    @return: the token.
    @raise SignInFailed: with the host's error code, when it refused.
    @raise TokenRejected: when it refused a refresh.
    @raise MalformedAnswer: when it gave no bearer token.
    """
    _refused(node, refreshing)
    access = node["access_token"].text()
    kind = text_or(node, "token_type", "bearer")
    if not access or kind.lower() != "bearer":
        node.fail(f"gives no bearer token (token_type {kind!r})")
    scope = text_or(node, "scope") or text_or(node, "scopes")
    scopes = frozenset(s for s in _SCOPE_SEPARATORS.split(scope) if s)
    lifetime = node.get("expires_in")
    return Token(
        access_token=access,
        scopes=scopes or (before.scopes if before else frozenset()),
        refresh_token=text_or(node, "refresh_token")
        or (before.refresh_token if before else None),
        expires_at=None
        if lifetime is None
        else now + timedelta(seconds=lifetime.number()),
    )


def utc(seconds: float) -> datetime:
    """@return: the POSIX time C{seconds} as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


__all__ = [
    "ENTROPY",
    "OAuthApp",
    "Pkce",
    "SignIn",
    "Token",
    "authorize_url",
    "begin",
    "new_pkce",
    "new_state",
    "pkce_challenge",
    "read_callback",
    "read_token",
    "utc",
]

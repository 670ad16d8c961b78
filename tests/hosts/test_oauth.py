"""
The pure half of a sign-in: PKCE pairs (against RFC 7636's own example), the
state, the authorize URL of each host, the callback's checks, and the token
an answer carries.  No reactor.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from julytwisted.hosts import (
    CodeRejected,
    ConsentDenied,
    MalformedAnswer,
    OAuthApp,
    SignInFailed,
    StateMismatch,
    Token,
    TokenRejected,
    begin,
    default_host,
    new_pkce,
    new_state,
    read_callback,
)
from julytwisted.hosts._json import Node
from julytwisted.hosts.oauth import pkce_challenge, read_token

APP = OAuthApp("the-client", "the-secret")
CALLBACK = "https://julython.example/login/github/callback"
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def test_challenge_matches_rfc_7636() -> None:
    """The S256 challenge of RFC 7636's example verifier (appendix B)."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pairs_and_states_are_fresh_and_well_formed() -> None:
    """Verifiers use RFC 7636's alphabet and length; no two are alike."""
    pairs = [new_pkce() for _ in range(50)]
    assert all(VERIFIER.fullmatch(p.verifier) for p in pairs)
    assert all(p.challenge == pkce_challenge(p.verifier) for p in pairs)
    assert all(p.method == "S256" for p in pairs)
    assert len({p.verifier for p in pairs}) == 50
    states = {new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 43 for s in states)


def test_secrets_stay_out_of_reprs() -> None:
    """Neither the verifier, the state, the secret nor a token is printed."""
    started = begin(default_host("github"), APP, CALLBACK)
    token = Token("gho_secret", refresh_token="r_secret")
    shown = repr(started) + repr(new_pkce()) + repr(APP) + repr(token)
    for hidden in (started.state, started.verifier, "the-secret", "_secret"):
        assert hidden not in shown


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    ("provider", "endpoint", "scope"),
    [
        (
            "github",
            "https://github.com/login/oauth/authorize",
            ["read:user user:email"],
        ),
        ("gitlab", "https://gitlab.com/oauth/authorize", ["read_user"]),
        ("bitbucket", "https://bitbucket.org/site/oauth2/authorize", None),
    ],
)
def test_authorize_url(provider: str, endpoint: str, scope: list[str] | None) -> None:
    """
    Each host's authorize endpoint, with the client, the callback, the
    state, the S256 challenge of the kept verifier, and the scopes where the
    host takes them in the URL (not Bitbucket's).
    """
    started = begin(default_host(provider), APP, CALLBACK)
    assert started.url.startswith(endpoint + "?")
    query = _query(started.url)
    assert query.pop("scope", None) == scope
    assert query == {
        "client_id": ["the-client"],
        "redirect_uri": [CALLBACK],
        "response_type": ["code"],
        "state": [started.state],
        "code_challenge": [pkce_challenge(started.verifier)],
        "code_challenge_method": ["S256"],
    }


@pytest.mark.parametrize(
    ("provider", "scopes"),
    [
        ("github", ("read:user", "user:email", "admin:repo_hook")),
        ("gitlab", ("read_user", "api")),
        (
            "bitbucket",
            ("account", "email", "repository", "repository:admin", "webhook"),
        ),
    ],
)
def test_repository_scopes(provider: str, scopes: tuple[str, ...]) -> None:
    """Asking for the repositories adds the scopes that manage webhooks."""
    started = begin(default_host(provider), APP, CALLBACK, repositories=True)
    assert started.scopes == scopes


def test_random_source_is_a_parameter() -> None:
    """The state and the verifier come from the random source handed in."""
    counter = count()

    def random(n: int) -> bytes:
        return bytes([next(counter) % 256]) * n

    started = begin(default_host("gitlab"), APP, CALLBACK, random=random)
    assert started.state == "A" * 43
    assert started.verifier == "AQEB" * 10 + "AQE"


def test_callback_gives_the_code() -> None:
    """A callback carrying our state gives its code."""
    assert read_callback({"code": "abc", "state": "s1"}, "s1") == "abc"


@pytest.mark.parametrize(
    "params",
    [
        {"code": "abc", "state": "other"},
        {"code": "abc"},
        {"error": "access_denied", "state": "forged"},
    ],
)
def test_callback_with_another_state(params: dict[str, str]) -> None:
    """A callback without our state is refused, whatever else it says."""
    with pytest.raises(StateMismatch):
        read_callback(params, "s1")


def test_callback_without_a_state_of_ours() -> None:
    """No sign-in begun (an empty state kept) matches nothing, not even ''."""
    with pytest.raises(StateMismatch):
        read_callback({"code": "abc", "state": ""}, "")


def test_consent_denied() -> None:
    """access_denied with our state: the player declined."""
    with pytest.raises(ConsentDenied) as caught:
        read_callback({"error": "access_denied", "state": "s1"}, "s1")
    assert caught.value.error == "access_denied"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"error": "invalid_scope", "error_description": "no", "state": "s"},
            "invalid_scope",
        ),
        ({"state": "s"}, ""),
        ({"code": "x" * 2000, "state": "s"}, ""),
    ],
)
def test_callback_failures(params: dict[str, str], error: str) -> None:
    """Other errors, and a missing or absurd code, end the sign-in."""
    with pytest.raises(SignInFailed) as caught:
        read_callback(params, "s")
    assert not isinstance(caught.value, (ConsentDenied, StateMismatch))
    assert caught.value.error == error


def _node(value: object) -> Node:
    return Node(value, "the token endpoint")


def test_token_of_each_host() -> None:
    """GitHub's comma-separated scope, GitLab's and Bitbucket's spaces."""
    github = read_token(
        _node(
            {"access_token": "a", "token_type": "bearer", "scope": "repo,user:email"}
        ),
        NOW,
    )
    assert github == Token("a", frozenset({"repo", "user:email"}))
    gitlab = read_token(
        _node(
            {
                "access_token": "b",
                "token_type": "Bearer",
                "expires_in": 7200,
                "refresh_token": "r",
                "scope": "read_user api",
                "created_at": 1,
            }
        ),
        NOW,
    )
    assert gitlab == Token(
        "b", frozenset({"read_user", "api"}), "r", NOW + timedelta(hours=2)
    )
    bitbucket = read_token(
        _node({"access_token": "c", "scopes": "account webhook", "expires_in": 60}),
        NOW,
    )
    assert bitbucket.scopes == {"account", "webhook"}
    assert bitbucket.expires_within(NOW) and not bitbucket.expires_within(NOW, 30)


def test_refreshed_token_keeps_what_the_answer_leaves_out() -> None:
    """A refresh answer without a refresh token or scopes keeps the old ones."""
    before = Token("old", frozenset({"api"}), "r1", NOW)
    after = read_token(_node({"access_token": "new"}), NOW, True, before)
    assert after == Token("new", frozenset({"api"}), "r1", None)


@pytest.mark.parametrize(
    ("answer", "refreshing", "error"),
    [
        ({"error": "bad_verification_code"}, False, CodeRejected),
        ({"error": "invalid_grant"}, False, CodeRejected),
        ({"error": "invalid_grant"}, True, TokenRejected),
        ({"error": "incorrect_client_credentials"}, False, SignInFailed),
        ({"access_token": "a", "token_type": "mac"}, False, MalformedAnswer),
        ({"access_token": 5}, False, MalformedAnswer),
        ({"token_type": "bearer"}, False, MalformedAnswer),
        ({"access_token": "a", "expires_in": -1}, False, MalformedAnswer),
        (["access_token"], False, MalformedAnswer),
    ],
)
def test_token_refusals(
    answer: object, refreshing: bool, error: type[Exception]
) -> None:
    """Each refusal or malformed answer raises its own error."""
    with pytest.raises(error):
        read_token(_node(answer), NOW, refreshing)


def test_grants_knows_wider_scopes() -> None:
    """GitHub's repo manages hooks; GitLab's api reads the user."""
    assert Token("a", frozenset({"repo"})).grants(["admin:repo_hook"])
    assert Token("a", frozenset({"api"})).grants(["read_user", "api"])
    assert not Token("a", frozenset({"read:user"})).grants(["admin:repo_hook"])


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_any_callback_gives_a_code_or_a_sign_in_failure(params: dict[str, str]) -> None:
    """Whatever the callback's query, a code or a SignInFailed, nothing else."""
    with contextlib.suppress(SignInFailed):
        read_callback(params, "the-state")

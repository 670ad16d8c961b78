"""
The code hosts' errors: in the one tree of L{julytwisted.errors}, each also
public in L{julytwisted.hosts}, in two families: a call a host failed or
refused (L{HostError}, a ConnectionError), and a sign-in that did not
complete (L{SignInFailed}, a PermissionError).
"""

from __future__ import annotations

import pytest

from julytwisted import errors, hosts
from julytwisted.errors import HostError, JulythonError, SignInFailed

HOST_ERRORS = [
    "BadProviderURL",
    "CodeRejected",
    "ConsentDenied",
    "HostError",
    "HostForbidden",
    "HostNotFound",
    "HostRateLimited",
    "HostUnreachable",
    "MalformedAnswer",
    "SignInFailed",
    "StateMismatch",
    "TokenRejected",
]


@pytest.mark.parametrize("name", HOST_ERRORS)
def test_in_the_tree_and_public_in_hosts(name: str) -> None:
    """Each is defined in errors.py, listed there, and re-exported by hosts."""
    error = getattr(errors, name)
    assert name in errors.__all__ and name in hosts.__all__
    assert getattr(hosts, name) is error
    assert issubclass(error, JulythonError) and 400 <= error.status < 600


@pytest.mark.parametrize(
    ("name", "builtin", "status"),
    [
        ("HostUnreachable", ConnectionError, 502),
        ("HostRateLimited", ConnectionError, 503),
        ("MalformedAnswer", ValueError, 502),
        ("TokenRejected", PermissionError, 401),
        ("HostForbidden", PermissionError, 403),
        ("HostNotFound", LookupError, 404),
    ],
)
def test_host_errors(name: str, builtin: type[Exception], status: int) -> None:
    """A call the host failed or refused: a HostError, and the builtin it is."""
    error = getattr(errors, name)
    assert issubclass(error, HostError) and issubclass(error, builtin)
    assert error.status == status


def test_sign_in_failures_are_not_host_errors() -> None:
    """
    A sign-in that did not complete is a PermissionError of its own family
    (a player declining is no failure of the host); a forged callback and a
    refused code are 400, a refusal 403; each keeps the host's error code.
    """
    for name in ("ConsentDenied", "StateMismatch", "CodeRejected"):
        assert issubclass(getattr(errors, name), SignInFailed)
    assert not issubclass(SignInFailed, HostError)
    denied = errors.ConsentDenied("declined", "access_denied")
    assert (denied.error, denied.status, denied.message) == (
        "access_denied",
        403,
        "declined",
    )
    assert errors.StateMismatch.status == errors.CodeRejected.status == 400
    assert isinstance(errors.CodeRejected("used", "invalid_grant"), ValueError)
    assert (
        errors.SignInFailed().message
        == "The sign-in with the code host did not complete."
    )


def test_rate_limited_says_how_long() -> None:
    """HostRateLimited carries the wait the host asked for, if it said."""
    error = errors.HostRateLimited("slow down", 30.0)
    assert (error.retry_after, error.status, error.message) == (30.0, 503, "slow down")
    assert errors.HostRateLimited().retry_after is None

"""
The pure parts of host sign-in: usernames made of host logins, and host
tokens sealed under a key of the session secret.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from julytwisted.auth.host_sign_in import username_stem
from julytwisted.auth.host_tokens import TokenBox
from julytwisted.hosts import Token


@pytest.mark.parametrize(
    ("login", "stem"),
    [
        ("Octo-Cat", "octo-cat"),
        ("grace hopper", "grace-hopper"),
        ("-._", "player"),
        ("a" * 60, "a" * 35),
        ("Zoë", "zo"),
    ],
)
def test_username_stem(login: str, stem: str) -> None:
    """A login lower-cased, other characters dashed, room for a suffix."""
    assert username_stem(login) == stem


def test_a_token_round_trips_sealed() -> None:
    """Sealed, no part of the token shows; opened, it is whole again."""
    token = Token(
        "gho_access",
        frozenset({"read:user"}),
        "ghr_refresh",
        datetime(2026, 7, 1, tzinfo=UTC),
    )
    box = TokenBox(b"the session secret")
    sealed = box.seal(token)
    assert b"gho_access" not in sealed and b"ghr_refresh" not in sealed
    assert box.open(sealed) == token
    assert TokenBox(b"the session secret").open(sealed) == token


def test_another_secret_or_a_change_opens_nothing() -> None:
    """Under another secret, or altered, a sealed token opens to None."""
    sealed = TokenBox(b"one").seal(Token("t"))
    assert TokenBox(b"two").open(sealed) is None
    assert TokenBox(b"one").open(sealed[:-2] + b"AA") is None

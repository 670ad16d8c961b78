"""Password hashing, pure: no reactor, no Redis."""

from __future__ import annotations

import pytest

from julytwisted.auth.passwords import check_strength, hash_password, verify_password
from julytwisted.errors import InvalidInput


def test_round_trip() -> None:
    """A password verifies against its own hash and no other password does."""
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)


def test_salted() -> None:
    """The same password hashes differently each time."""
    assert hash_password("same password") != hash_password("same password")


def test_hash_does_not_hold_the_password() -> None:
    """The stored form names its scheme and never contains the password."""
    stored = hash_password("hunter2hunter2")
    assert stored.startswith("scrypt$") and "hunter2" not in stored


@pytest.mark.parametrize(
    "stored", ["", "md5$x", "scrypt$1$2", "scrypt$a$b$c$d$e", "scrypt$16384$8$1$!!$!!"]
)
def test_malformed_hash_never_verifies(stored: str) -> None:
    """A malformed or foreign hash is a mismatch, not an exception."""
    assert not verify_password("anything", stored)


@pytest.mark.parametrize("password", ["short", "x" * 1025, None, 12345678])
def test_strength(password: object) -> None:
    """Too short, too long or not a string: refused with the reason."""
    with pytest.raises(InvalidInput, match="password"):
        check_strength(password)

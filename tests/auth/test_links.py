"""
Signed link tokens, without a server: made and read back, refused when
changed, signed elsewhere or for another purpose, malformed, or expired.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from julytwisted.auth.links import (
    CONFIRM_EMAIL,
    MAX_TOKEN,
    RESET_PASSWORD,
    SignedLinks,
)
from julytwisted.errors import InvalidLink

FIELDS = {"u": "ada", "e": "ada@example.com", "n": "nonce"}


def links(secret: bytes = b"s3cret") -> tuple[SignedLinks, Clock]:
    clock = Clock()
    clock.advance(1_000_000)
    return SignedLinks(secret, clock), clock


def test_round_trip() -> None:
    """A token reads back as the fields it was made with."""
    signer, _ = links()
    token = signer.sign(CONFIRM_EMAIL, FIELDS, 60)
    assert signer.read(CONFIRM_EMAIL, token) == FIELDS
    assert len(token) < 200 and token.isascii()
    assert "ada@example.com" not in token


def test_expires() -> None:
    """A token works until its lifetime is over, and never after."""
    signer, clock = links()
    token = signer.sign(RESET_PASSWORD, FIELDS, 3600)
    clock.advance(3599)
    assert signer.read(RESET_PASSWORD, token) == FIELDS
    clock.advance(1)
    with pytest.raises(InvalidLink):
        signer.read(RESET_PASSWORD, token)


def test_purpose_and_secret_bind_it() -> None:
    """A token is no good for another purpose, nor under another secret."""
    signer, _ = links()
    token = signer.sign(CONFIRM_EMAIL, FIELDS, 60)
    with pytest.raises(InvalidLink):
        signer.read(RESET_PASSWORD, token)
    with pytest.raises(InvalidLink):
        links(b"other")[0].read(CONFIRM_EMAIL, token)


def test_a_changed_body_is_refused() -> None:
    """Fields rewritten (another player, a later expiry) break the signature."""
    signer, _ = links()
    _, signature = signer.sign(CONFIRM_EMAIL, FIELDS, 60).split(".")
    forged = {"f": {**FIELDS, "u": "mallory"}, "x": 9_999_999_999}
    forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    with pytest.raises(InvalidLink):
        signer.read(CONFIRM_EMAIL, forged_body.rstrip("=") + "." + signature)


@pytest.mark.parametrize(
    "token", ["", ".", "abc", "abc.", ".abc", "x" * (MAX_TOKEN + 1) + ".y"]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    signer, _ = links()
    with pytest.raises(InvalidLink):
        signer.read(CONFIRM_EMAIL, token)


def test_signed_junk_is_refused() -> None:
    """A correctly signed body that is not a link's JSON is refused too."""
    signer, _ = links()
    for body in ("bm90IGpzb24", "W10", "eyJmIjogMX0"):
        token = f"{body}.{signer._sign(CONFIRM_EMAIL, body)}"
        with pytest.raises(InvalidLink):
            signer.read(CONFIRM_EMAIL, token)


@given(st.text(max_size=300))
def test_any_text_is_refused(text: str) -> None:
    """Whatever arrives in a link's place is refused with InvalidLink only."""
    signer, _ = links()
    with pytest.raises(InvalidLink):
        signer.read(CONFIRM_EMAIL, text)

# -*- test-case-name: tests.auth.test_links -*-
"""
Signed links: the tokens in the links mailed to players (an e-mail's
confirmation, a password reset).

A token is C{BODY.SIGNATURE}: BODY the URL-safe base64 of JSON holding the
link's fields and when it expires, SIGNATURE the HMAC-SHA256 of the link's
purpose and BODY under the session secret, so that a token made for one
purpose is no good for another, and nobody without the secret can make or
change one.  What makes a link work only once is a nonce among its fields,
which the store keeps until the link is used (L{julytwisted.store}).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

from twisted.internet.interfaces import IReactorTime

from julytwisted.errors import InvalidLink

#: The purpose of a link confirming a pending e-mail.
CONFIRM_EMAIL = "confirm-email"
#: The purpose of a link resetting a password.
RESET_PASSWORD = "reset-password"

#: The longest token read: a link's few fields take a few hundred bytes.
MAX_TOKEN = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedLinks:
    """
    Makes and reads signed, expiring link tokens.
    """

    def __init__(self, secret: bytes, clock: IReactorTime) -> None:
        """
        @param secret: the session secret (L{julytwisted.auth.sessions}); the
            links' signatures are kept apart from the sessions' by a prefix.
        @param clock: tells the time links expire by.
        """
        self._secret = secret
        self._clock = clock

    def _sign(self, purpose: str, body: str) -> str:
        message = f"link:{purpose}:{body}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def sign(self, purpose: str, fields: Mapping[str, str], lifetime: float) -> str:
        """
        @param purpose: what the link does, such as L{CONFIRM_EMAIL}.
        @param fields: what it names (a username, an e-mail, a nonce).
        @param lifetime: seconds it works for from now.
        @return: the token.
        """
        expires = int(self._clock.seconds() + lifetime)
        data = {"f": dict(fields), "x": expires}
        body = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{body}.{self._sign(purpose, body)}"

    def read(self, purpose: str, token: str) -> dict[str, str]:
        """
        @return: the fields of a token signed here for C{purpose}.
        @raise InvalidLink: when it is malformed, signed for another purpose
            or with another secret, changed, or expired.
        """
        body, dot, signature = token.strip().partition(".")
        if not dot or len(token) > MAX_TOKEN or not token.isascii():
            raise InvalidLink()
        if not hmac.compare_digest(self._sign(purpose, body), signature):
            raise InvalidLink()
        try:
            data = json.loads(_unb64(body))
            fields, expires = data["f"], float(data["x"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidLink() from None
        if self._clock.seconds() >= expires:
            raise InvalidLink()
        if not isinstance(fields, dict) or not all(
            isinstance(v, str) for v in fields.values()
        ):
            raise InvalidLink()
        return fields


__all__ = ["CONFIRM_EMAIL", "MAX_TOKEN", "RESET_PASSWORD", "SignedLinks"]

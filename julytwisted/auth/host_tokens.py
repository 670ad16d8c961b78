# -*- test-case-name: tests.auth.test_host_sign_in -*-
"""
Code host tokens kept encrypted at rest: Fernet (AES-128-CBC with
HMAC-SHA256) under a key derived from the session secret with HKDF, so that
what Redis holds (a dump, a replica) gives no access to anyone's
repositories without the secret.  Changing the session secret makes the
kept tokens unreadable: the players sign in with their host again.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from julytwisted.hosts import Token

#: HKDF's C{info}: this key is for host tokens only, whatever else the
#: session secret keys.
_INFO = b"julytwisted host tokens v1"


class TokenBox:
    """Seals and opens host tokens with a key derived from one secret."""

    def __init__(self, secret: bytes) -> None:
        """@param secret: the session secret (L{load_secret}'s)."""
        key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: Token) -> bytes:
        """@return: C{token}, its refresh token and expiry, encrypted."""
        record = {
            "access": token.access_token,
            "refresh": token.refresh_token,
            "scopes": sorted(token.scopes),
            "expires": None
            if token.expires_at is None
            else token.expires_at.timestamp(),
        }
        return self._fernet.encrypt(json.dumps(record).encode())

    def open(self, sealed: bytes) -> Token | None:
        """
        @return: the token C{sealed} holds; L{None} when it was sealed under
            another secret or altered.
        """
        try:
            record = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            return None
        expires = record["expires"]
        return Token(
            record["access"],
            frozenset(record["scopes"]),
            record["refresh"],
            None if expires is None else datetime.fromtimestamp(expires, UTC),
        )


__all__ = ["TokenBox"]

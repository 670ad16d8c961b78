# -*- test-case-name: tests.auth.test_passwords -*-
"""
Password hashing: scrypt with a random salt per password, from the standard
library.  Pure and slow on purpose (tens of milliseconds): run it in a
thread, never on the reactor.

A stored hash reads C{scrypt$N$r$p$salt$key}, salt and key in base64, so the
cost can be raised later without breaking the hashes already stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from julytwisted.errors import InvalidInput

#: scrypt's cost: 2**14 iterations of 8 blocks, 16 MiB of memory per hash.
N, R, P = 2**14, 8, 1

MIN_LENGTH = 8
MAX_LENGTH = 1024


def _key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32
    )


def check_strength(password: object) -> str:
    """
    @return: the password, when it is a string of an acceptable length.
    @raise InvalidInput: otherwise, saying why.
    """
    if not isinstance(password, str):
        raise InvalidInput("password must be a string")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters long"
        )
    return password


def hash_password(password: str) -> str:
    """
    @param password: the password in clear.
    @return: its salted scrypt hash, to store.
    """
    salt = secrets.token_bytes(16)
    key = _key(password, salt, N, R, P)
    encode = base64.b64encode
    return f"scrypt${N}${R}${P}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """
    @param password: the password a client sent.
    @param stored: a hash made by L{hash_password}.
    @return: whether they match; L{False} for a malformed hash.
    """
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _key(
            password, base64.b64decode(salt, validate=True), int(n), int(r), int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


__all__ = ["check_strength", "hash_password", "verify_password"]

# -*- test-case-name: tests.auth.test_session -*-
"""
Who is asking: passwords (salted scrypt, in a pool of their own), sessions
kept in Redis, CSRF tokens, API and admin tokens, each check guarded by the
one budget of failed credentials, and the account use cases every door
shares.
"""

from julytwisted.auth.accounts import SignUps
from julytwisted.auth.authenticator import Authenticator, Principal
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.sessions import Sessions, Viewer

__all__ = [
    "Authenticator",
    "PasswordHasher",
    "Principal",
    "Sessions",
    "SignUps",
    "Viewer",
]

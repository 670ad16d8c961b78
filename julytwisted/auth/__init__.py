# -*- test-case-name: tests.auth.test_session -*-
"""
Who is asking: passwords (salted scrypt), sessions kept in Redis, CSRF tokens,
API and admin tokens, and the account use cases every door shares.
"""

from julytwisted.auth.authenticator import Authenticator, Principal, RunInThread
from julytwisted.auth.sessions import Sessions, Viewer

__all__ = ["Authenticator", "Principal", "RunInThread", "Sessions", "Viewer"]

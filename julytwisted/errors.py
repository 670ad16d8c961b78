# -*- test-case-name: tests.test_errors -*-
"""
The exceptions of julytwisted, rooted at L{JulythonError}.

Each subclass also derives from the builtin it resembles, so that callers may
catch either.  Each carries the HTTP status it maps to; the mapping to HTTP
lives in L{julytwisted.web} and the one to JSON-RPC codes in
L{julytwisted.methods}, each in one place.
"""

from __future__ import annotations


class JulythonError(Exception):
    """
    The root of every error julytwisted raises on purpose.

    @cvar status: the HTTP status that reports this error to a client.
    """

    status: int = 500

    @property
    def message(self) -> str:
        """
        The text shown to a client: the first argument, or the class docstring's
        first line when there is none.
        """
        if self.args:
            return str(self.args[0])
        return (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]


class RateLimited(JulythonError):
    """Too many requests: wait before the next one."""

    status = 429

    def __init__(self, retry_after: float, limit: str = "") -> None:
        """
        @param retry_after: seconds until a request would be allowed.
        @param limit: the name of the limit reached.
        """
        super().__init__(f"too many requests; retry in {retry_after:.1f} s")
        self.retry_after = retry_after
        self.limit = limit


class InvalidInput(JulythonError, ValueError):
    """The request was malformed."""

    status = 400


class InvalidPayload(InvalidInput):
    """The webhook body is not a payload of the service it was posted to."""


class BadSignature(JulythonError, PermissionError):
    """The webhook signature does not match the configured secret."""

    status = 401


class Unauthorized(JulythonError, PermissionError):
    """Credentials are missing or wrong."""

    status = 401


class Forbidden(JulythonError, PermissionError):
    """The credentials given may not do this."""

    status = 403


class NotFound(JulythonError, LookupError):
    """No such object."""

    status = 404


class Conflict(JulythonError, ValueError):
    """The object conflicts with one that exists already."""

    status = 409


class PayloadTooLarge(JulythonError, ValueError):
    """The request body is over the limit."""

    status = 413


class UnsupportedMediaType(JulythonError, ValueError):
    """The request body's content type is not accepted here."""

    status = 415


class RedisUnavailable(JulythonError, ConnectionError):
    """The data store did not answer in time."""

    status = 503


__all__ = [
    "BadSignature",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "InvalidPayload",
    "JulythonError",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RedisUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
]

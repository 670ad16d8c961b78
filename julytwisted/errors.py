# -*- test-case-name: tests.test_errors -*-
"""
The exceptions of julytwisted, rooted at L{JulythonError}.

Each subclass also derives from the builtin it resembles, so that callers may
catch either.  Each carries the HTTP status it maps to, and the values its
answer needs (when to retry, which methods are allowed); the one mapping to
HTTP statuses and headers is L{julytwisted.http_errors.http_answer}, the one
to JSON-RPC codes L{julytwisted.methods.translate}.
"""

from __future__ import annotations

from collections.abc import Iterable


class JulythonError(Exception):
    """
    The root of every error julytwisted raises on purpose.

    @cvar status: the HTTP status that reports this error to a client.
    @cvar retry_after: seconds after which the same request may succeed, for
        an error that passes (L{RateLimited}, L{RedisUnavailable}); L{None}
        for one that does not.
    """

    status: int = 500
    retry_after: float | None = None

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
    retry_after: float

    def __init__(
        self, retry_after: float, limit: str = "", message: str | None = None
    ) -> None:
        """
        @param retry_after: seconds until a request would be allowed.
        @param limit: the name of the limit reached.
        @param message: what the client is told; by default, how long to wait.
        """
        super().__init__(message or f"too many requests; retry in {retry_after:.1f} s")
        self.retry_after = retry_after
        self.limit = limit


class InvalidInput(JulythonError, ValueError):
    """The request was malformed."""

    status = 400


class InvalidPayload(InvalidInput):
    """The webhook body is not a payload of the service it was posted to."""


class InvalidLink(InvalidInput):
    """This link has expired, was used already, or was not made here."""


class BadSignature(JulythonError, PermissionError):
    """The webhook signature does not match the configured secret."""

    status = 401


class Unauthorized(JulythonError, PermissionError):
    """Credentials are missing or wrong."""

    status = 401


class SignInRequired(Unauthorized):
    """This page is for signed-in players."""


class Forbidden(JulythonError, PermissionError):
    """The credentials given may not do this."""

    status = 403


class NotFound(JulythonError, LookupError):
    """No such object."""

    status = 404


class MethodNotAllowed(JulythonError, ValueError):
    """This method is not allowed here."""

    status = 405

    def __init__(self, *args: object, allowed: Iterable[str] = ()) -> None:
        """
        @param args: the message, if any.
        @param allowed: the methods the resource does allow.
        """
        super().__init__(*args)
        self.allowed = tuple(sorted(set(allowed)))


class Conflict(JulythonError, ValueError):
    """The object conflicts with one that exists already."""

    status = 409


class DrawnTaken(Conflict):
    """A new random id or code was taken already: draw another."""


class PreconditionFailed(JulythonError, ValueError):
    """The resource is not in the state the request's conditions name."""

    status = 412


class PayloadTooLarge(JulythonError, ValueError):
    """The request body is over the limit."""

    status = 413


class UnsupportedMediaType(JulythonError, ValueError):
    """The request body's content type is not accepted here."""

    status = 415


class RedisUnavailable(JulythonError, ConnectionError):
    """The data store did not answer in time."""

    status = 503
    retry_after = 1.0


class NotifyFailed(JulythonError, ConnectionError):
    """An outgoing webhook did not accept the message; the job is retried."""

    status = 502


class MailFailed(JulythonError, ConnectionError):
    """The mail relay refused the message or could not be reached."""

    status = 502


class Overloaded(JulythonError, ConnectionError):
    """Too many password checks are waiting: try again shortly."""

    status = 503
    retry_after = 1.0


# Code hosts: what julytwisted.hosts raises when GitHub, GitLab or Bitbucket
# fail or refuse a call, or a sign-in with them does not complete.


class HostError(JulythonError, ConnectionError):
    """A code host failed or refused a call."""

    status = 502


class NoHostAccess(JulythonError, LookupError):
    """
    Nothing can be asked of a repository's host: nobody added the
    repository, or its owner's token is missing or refused.  A job that
    meets it ends with its message rather than failing.
    """

    status = 409


class HostUnreachable(HostError):
    """A code host could not be reached, or did not answer in time."""


class HostRateLimited(HostError):
    """A code host asks us to wait before the next call."""

    status = 503

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        """
        @param message: what was refused.
        @param retry_after: seconds the host asks us to wait, when it says.
        """
        super().__init__(*([message] if message else []))
        self.retry_after = retry_after


class MalformedAnswer(HostError, ValueError):
    """A code host's answer is not what its documentation describes."""


class TokenRejected(HostError, PermissionError):
    """The code host no longer accepts this token: sign in with it again."""

    status = 401


class HostForbidden(HostError, PermissionError):
    """The code host refused: the account or the token may not do this."""

    status = 403


class HostNotFound(HostError, LookupError):
    """The code host has no such object, or does not show it to this token."""

    status = 404


class SignInFailed(JulythonError, PermissionError):
    """The sign-in with the code host did not complete."""

    status = 403

    def __init__(self, message: str = "", error: str = "") -> None:
        """
        @param message: what happened, for the player.
        @param error: the OAuth error code the host gave (RFC 6749, section
            4.1.2.1 or 5.2), such as C{"access_denied"}; empty when none.
        """
        super().__init__(*([message] if message else []))
        self.error = error


class ConsentDenied(SignInFailed):
    """The player declined to let julytwisted use their account."""


class StateMismatch(SignInFailed):
    """The sign-in callback does not belong to a sign-in this browser began."""

    status = 400


class CodeRejected(SignInFailed, ValueError):
    """
    The code host refused the authorization code: wrong, expired, already
    used, or sent with the wrong PKCE verifier.
    """

    status = 400


class BadProviderURL(JulythonError, ValueError):
    """A code host's URL, as C{--provider-url} gives it, is not usable."""

    status = 400


__all__ = [
    "BadProviderURL",
    "BadSignature",
    "CodeRejected",
    "Conflict",
    "ConsentDenied",
    "Forbidden",
    "HostError",
    "HostForbidden",
    "HostNotFound",
    "HostRateLimited",
    "HostUnreachable",
    "InvalidInput",
    "InvalidLink",
    "InvalidPayload",
    "JulythonError",
    "MailFailed",
    "MalformedAnswer",
    "MethodNotAllowed",
    "NotFound",
    "NotifyFailed",
    "Overloaded",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RateLimited",
    "RedisUnavailable",
    "SignInFailed",
    "SignInRequired",
    "StateMismatch",
    "TokenRejected",
    "Unauthorized",
    "UnsupportedMediaType",
]

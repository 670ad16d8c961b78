# -*- test-case-name: tests.test_errors,tests.web.test_web -*-
"""
The JSON error answers of a klein app of the API: every error, a routing
error included, answered as L{julytwisted.http_errors.json_error} answers it.
"""

from __future__ import annotations

from typing import Any

from klein import Klein
from twisted.internet.defer import CancelledError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from julytwisted.errors import JulythonError, MethodNotAllowed, NotFound
from julytwisted.http_errors import (
    internal_error,
    json_error,
    route_redirect,
    routing_error,
)

log = Logger()


def _routed(error: HTTPException) -> JulythonError:
    """A routing error, with C{OPTIONS} (every path's preflight) aside."""
    answer = routing_error(error)
    if isinstance(answer, MethodNotAllowed):
        allowed = set(answer.allowed) - {"OPTIONS"}
        if not allowed:
            # Only the catch-all preflight route matched: nothing is here.
            return NotFound("not found")
        return MethodNotAllowed(answer.message, allowed=allowed | {"OPTIONS"})
    return answer


def install_json_errors(app: Klein) -> None:
    """
    Give a klein app of the API its JSON errors: a L{JulythonError} with its
    status, headers and message; a routing error (unknown path, method not
    allowed) the same way; a route's redirect as a redirect; anything else
    a logged 500.
    """

    @app.handle_errors(JulythonError)
    def api_error(self: Any, request: IRequest, failure: Failure) -> bytes:
        error = failure.value
        assert isinstance(error, JulythonError)
        return json_error(request, error)

    @app.handle_errors(HTTPException)
    def http_error(self: Any, request: IRequest, failure: Failure) -> bytes:
        error = failure.value
        if isinstance(error, RequestRedirect):
            return route_redirect(request, error)
        assert isinstance(error, HTTPException)
        return json_error(request, _routed(error))

    @app.handle_errors(Exception)
    def unexpected_error(
        self: Any, request: IRequest, failure: Failure
    ) -> bytes | None:
        if failure.check(CancelledError):
            return None
        log.failure("unhandled error in {uri}", failure, uri=request.uri)
        return json_error(request, internal_error())


__all__ = ["install_json_errors"]

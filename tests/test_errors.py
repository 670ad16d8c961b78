"""
The exception tree: every error julytwisted raises on purpose is a
L{JulythonError} and also the builtin it resembles, with the HTTP status that
reports it.
"""

from __future__ import annotations

import pytest

from julytwisted import errors
from julytwisted.errors import JulythonError

ERRORS = [getattr(errors, name) for name in errors.__all__]
BUILTINS = (ValueError, PermissionError, LookupError, ConnectionError)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_rooted_and_statused(error: type[JulythonError]) -> None:
    """Each error is a JulythonError with a 4xx or 5xx status."""
    assert issubclass(error, JulythonError)
    assert 400 <= error.status < 600


@pytest.mark.parametrize(
    "error",
    [e for e in ERRORS if e not in (JulythonError, errors.RateLimited)],
    ids=lambda e: e.__name__,
)
def test_catchable_as_a_builtin(error: type[JulythonError]) -> None:
    """A caller that catches the builtin it resembles catches it too."""
    assert issubclass(error, BUILTINS)
    with pytest.raises(BUILTINS):
        raise error("boom")


def test_message_falls_back_to_the_docstring() -> None:
    """Without an argument the client reads the class's first docstring line."""
    assert errors.NotFound().message == "No such object."
    assert errors.NotFound("no player 'ada'").message == "no player 'ada'"


def test_rate_limited_carries_its_wait() -> None:
    """RateLimited says how long to wait and which limit was reached."""
    error = errors.RateLimited(2.25, "rpc")
    assert (error.retry_after, error.limit, error.status) == (2.25, "rpc", 429)
    assert error.message == "too many requests; retry in 2.2 s"

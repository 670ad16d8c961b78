"""
The exception tree: every error julytwisted raises on purpose is a
L{JulythonError} and also the builtin it resembles, with the HTTP status that
reports it.
"""

from __future__ import annotations

import importlib
import pkgutil

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


# The strays: every exception the product defines is in the tree


def _defined_exceptions() -> dict[str, list[str]]:
    """Every exception class defined by a module of julytwisted, by module."""
    import julytwisted

    found: dict[str, list[str]] = {}
    for module_info in pkgutil.walk_packages(julytwisted.__path__, "julytwisted."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found.setdefault(module.__name__, []).append(name)
    return found


def test_every_exception_is_in_a_tree() -> None:
    """
    The product's exceptions are defined in errors.py alone, each a
    JulythonError; rpc/, a reusable library that imports nothing of the
    product, keeps its own small tree in rpc/_errors.py, rooted at
    JSONRPCError.
    """
    from julytwisted.rpc._errors import JSONRPCError

    defined = _defined_exceptions()
    assert set(defined) == {"julytwisted.errors", "julytwisted.rpc._errors"}
    for name in defined["julytwisted.errors"]:
        assert issubclass(getattr(errors, name), JulythonError), name
    module = importlib.import_module("julytwisted.rpc._errors")
    for name in defined["julytwisted.rpc._errors"]:
        kind = getattr(module, name)
        assert issubclass(kind, JSONRPCError) and not issubclass(kind, JulythonError)


def test_sign_in_required_is_a_missing_credential() -> None:
    """The pages' sign-in-first is an Unauthorized, so a PermissionError."""
    assert issubclass(errors.SignInRequired, errors.Unauthorized)
    assert issubclass(errors.SignInRequired, PermissionError)
    assert errors.SignInRequired.status == 401


def test_a_failed_notification_is_a_connection_error() -> None:
    """
    A webhook receiver that refuses a notification is a JulythonError and a
    ConnectionError (502: the server it reached failed), still importable
    where the jobs are.
    """
    from julytwisted.jobs import product

    assert product.NotifyFailed is errors.NotifyFailed
    error = errors.NotifyFailed("http://example.com/hook answered 503")
    assert isinstance(error, ConnectionError) and error.status == 502
    assert str(error) == error.message == "http://example.com/hook answered 503"


def test_a_json_constant_in_a_payload_is_an_invalid_payload() -> None:
    """A NaN in a webhook body is refused as the payload it spoils, nothing else."""
    from julytwisted.game.hooks import decode_body

    with pytest.raises(errors.InvalidPayload) as refused:
        decode_body("application/json", b'{"a": [Infinity]}')
    assert refused.value.message == "body is not valid JSON: Infinity is not allowed"


def test_an_invalid_request_object_is_rpcs_own() -> None:
    """
    rpc's refusal of a request object is a JSONRPCError carrying the error
    it answers with, and the version and id it answers in.
    """
    from julytwisted.rpc._errors import InvalidRequest, InvalidRequestObject
    from julytwisted.rpc._protocol import parse_call

    with pytest.raises(InvalidRequestObject) as refused:
        parse_call({"jsonrpc": "2.0", "method": 7, "id": "x"})
    error = refused.value
    assert isinstance(error.error, InvalidRequest) and isinstance(error, ValueError)
    assert (error.version, error.id, error.code) == ("2.0", "x", -32600)
    assert error.message == error.error.message == "method must be a string"


def test_json_rpc_tells_how_long_to_wait() -> None:
    """
    The one mapping to JSON-RPC codes gives a rate limit 429 and its wait,
    which the rpc layer sends as HTTP 429 with Retry-After; every error of
    the tree maps to a code, or to an internal error when it has none.
    """
    from julytwisted.methods import translate

    limited = translate(errors.RateLimited(2.5, "rpc"))
    assert limited is not None and limited.code == 429
    assert limited.data == {"type": "RateLimited", "retry_after": 2.5}
    signin = translate(errors.SignInRequired())
    assert signin is not None and signin.code == 401
    assert translate(errors.NotifyFailed("no")) is None
    assert translate(ValueError("no")) is None

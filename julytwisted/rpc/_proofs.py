# -*- test-case-name: tests.rpc.test_rpc,tests.rpc.test_rpc_django -*-
"""
Who sent a call: the credentials a request offers (its C{Authorization}
header's, or the leading C{username, password} params of a call), and the
proving of the params' ones one set at a time per request (L{Proofs}), so
that a batch cannot try many passwords at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeAlias

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from julytwisted.rpc._errors import AuthenticationError


@attrs.frozen
class Credentials:
    """
    What a request offered to prove who sent it.

    @ivar scheme: C{"basic"} or C{"bearer"} from an C{Authorization} header,
        or C{"params"} for the leading C{username, password} params of an
        authenticated method.
    @ivar username: the user name of C{basic} and C{params}, else L{None}.
    @ivar password: the password of C{basic} and C{params}, else L{None}.
    @ivar token: the token of C{bearer}, else L{None}.
    """

    scheme: str
    username: str | None = None
    password: str | None = None
    token: str | None = None


Authenticator: TypeAlias = Callable[[IRequest, Credentials], object]
"""
C{authenticate(request, credentials)}: the user the credentials prove, or
L{None} when they prove nothing; or a Deferred or coroutine of either.
"""


def as_deferred(function: Callable[..., object], *args: object) -> Deferred[Any]:
    """Call C{function}; its value, Deferred, coroutine or exception as a Deferred."""
    try:
        result = function(*args)
    except Exception:
        return fail()
    if isinstance(result, Deferred):
        return result
    if inspect.iscoroutine(result):
        return Deferred.fromCoroutine(result)
    return succeed(result)


def param_credentials(
    args: list[Any], named: dict[str, Any]
) -> tuple[Credentials | None, list[Any], dict[str, Any]]:
    """Take django-json-rpc's leading C{username, password} params off a call."""
    if "username" in named and "password" in named:
        rest = {k: v for k, v in named.items() if k not in ("username", "password")}
        username, password = named["username"], named["password"]
    elif len(args) >= 2:
        (username, password), rest_args = args[:2], args[2:]
        return _credentials(username, password), rest_args, named
    else:
        return None, args, named
    return _credentials(username, password), args, rest


def _credentials(username: object, password: object) -> Credentials:
    if not isinstance(username, str) or not isinstance(password, str):
        raise AuthenticationError("bad credentials")
    return Credentials("params", username=username, password=password)


class Proofs:
    """
    The proving of the credentials the calls of one request carry as params:
    one set at a time, each distinct set once, and none after one has
    failed, whose error answers every later call that needs proving.  Run
    concurrently, a batch of a thousand calls with a thousand passwords
    would otherwise cost a thousand password checks, and find the right one.

    Calls are answered in the order they asked, in a loop rather than by
    callbacks that each start the next, so that a batch of a thousand
    answered from one proof does not recurse a thousand deep.
    """

    def __init__(self, request: IRequest) -> None:
        """
        @param request: the request the credentials came with.
        """
        self._request = request
        # By the authenticator's id (it lives as long as the request; it
        # need not be hashable) and the credentials.
        self._proven: dict[tuple[int, Credentials], object] = {}
        self._refusal: BaseException | None = None
        self._waiting: list[tuple[Authenticator, Credentials, Deferred[object]]] = []
        self._proving = False
        self._settling = False

    def user(
        self, credentials: Credentials, authenticate: Authenticator
    ) -> Deferred[object]:
        """
        @param authenticate: the user credentials prove, or L{None}; it may
            raise.
        @return: the user C{credentials} prove, once the sets asked for
            before them are proved; cancelling it gives up its place.
        @raise AuthenticationError: (in the Deferred) when they prove no one.
        """
        d: Deferred[object] = Deferred(self._forget)
        self._waiting.append((authenticate, credentials, d))
        self._settle()
        return d

    def _forget(self, gone: Deferred[object]) -> None:
        self._waiting = [w for w in self._waiting if w[2] is not gone]

    def _settle(self) -> None:
        """Answer the calls waiting, in order, up to one still to be proved."""
        if self._settling:
            return
        self._settling = True
        try:
            while self._waiting and not self._proving:
                authenticate, credentials, d = self._waiting[0]
                key = (id(authenticate), credentials)
                if self._refusal is None and key not in self._proven:
                    self._proving = True
                    proof = as_deferred(authenticate, self._request, credentials)
                    proof.addBoth(self._proved, key)
                    continue
                del self._waiting[0]
                if self._refusal is not None:
                    d.errback(Failure(self._refusal))
                else:
                    d.callback(self._proven[key])
        finally:
            self._settling = False

    def _proved(self, user: object, key: tuple[int, Credentials]) -> None:
        self._proving = False
        if isinstance(user, Failure):
            self._refusal = user.value
        elif user is None:
            self._refusal = AuthenticationError("bad credentials")
        else:
            self._proven[key] = user
        self._settle()


__all__ = [
    "Authenticator",
    "Credentials",
    "Proofs",
    "as_deferred",
    "param_credentials",
]

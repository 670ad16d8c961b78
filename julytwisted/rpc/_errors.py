# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
The JSON-RPC error hierarchy, rooted at L{JSONRPCError}.

rpc/ is a reusable JSON-RPC server that imports nothing of the product, so
its exceptions form this small tree of their own, apart from the product's
L{julytwisted.errors.JulythonError}; the product maps its errors into this
tree through the resource's C{translate} callable.

A method raises one of these (or a subclass of its own with class attributes
C{code} and C{message}) to send an error object; anything else it raises is an
internal error unless the resource's C{translate} callable maps it.  Each
predefined subclass also derives from the builtin it resembles, so that callers
may catch either.
"""

from __future__ import annotations

from typing import Any, overload


class JSONRPCError(Exception):
    """
    An error object to send to the client.

    Raise it as C{JSONRPCError(code, message[, data])}; a subclass that sets
    C{code} and C{message} as class attributes is raised as C{Sub()},
    C{Sub(message)} or C{Sub(message, data)}.  C{data} may always be given by
    keyword.

    @ivar code: the error code; -32768 to -32000 are reserved by the
        specification, the rest are the application's.
    @ivar message: a short description, shown to the client.
    @ivar data: any JSON value with more detail, or L{None} for none.
    """

    code: int = -32603
    message: str = "Internal error"
    data: object | None = None

    @overload
    def __init__(self, code: int, message: str, data: object | None = None) -> None:
        pass

    @overload
    def __init__(self, message: str | None = None, data: object | None = None) -> None:
        pass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and type(args[0]) is int:
            self.code, args = args[0], args[1:]
            if not args and "message" not in kwargs:
                raise TypeError("JSONRPCError(code, message) needs a message")
        message, data = _message_and_data(type(self).__name__, args, kwargs)
        if message is not None:
            self.message = str(message)
        self.data = data
        Exception.__init__(self, self.code, self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"data={self.data!r})"
        )


def _message_and_data(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    if len(args) > 2:
        raise TypeError(f"too many arguments for {name}")
    given = dict(zip(("message", "data"), args, strict=False))
    for key, value in kwargs.items():
        if key not in ("message", "data") or key in given:
            raise TypeError(f"{name} got an unexpected or repeated {key!r}")
        given[key] = value
    return given.get("message"), given.get("data")


class ParseError(JSONRPCError, ValueError):
    """The request body is not JSON."""

    code = -32700
    message = "Parse error"


class InvalidRequest(JSONRPCError, ValueError):
    """The JSON is not a valid request object."""

    code = -32600
    message = "Invalid Request"


class MethodNotFound(JSONRPCError, LookupError):
    """No method of that name is registered."""

    code = -32601
    message = "Method not found"


class InvalidParams(JSONRPCError, ValueError):
    """The params do not fit the method's signature."""

    code = -32602
    message = "Invalid params"


class InternalError(JSONRPCError):
    """The method failed; the details are in the server's log only."""

    code = -32603
    message = "Internal error"


class ServerError(JSONRPCError):
    """
    An error of the server rather than the call, in the -32000 to -32099 range
    the specification reserves for implementations.
    """

    code = -32000
    message = "Server error"


class InvalidRequestObject(JSONRPCError, ValueError):
    """
    A request object that cannot be called, raised while it is checked: the
    error to answer it with, and the version and id to answer in.

    @ivar version: the JSON-RPC version of the answer.
    @ivar id: the id of the answer (L{None} when the request's own is bad).
    @ivar error: the error object to send (L{InvalidRequest},
        L{InvalidParams}).
    """

    def __init__(self, version: str, id: object, error: JSONRPCError) -> None:
        super().__init__(error.code, error.message, error.data)
        self.version, self.id, self.error = version, id, error


class AuthenticationError(JSONRPCError, PermissionError):
    """Credentials are missing or wrong; also sent with HTTP 401."""

    code = 401
    message = "authentication required"


__all__ = [
    "AuthenticationError",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "InvalidRequestObject",
    "JSONRPCError",
    "MethodNotFound",
    "ParseError",
    "ServerError",
]

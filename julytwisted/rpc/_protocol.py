# -*- test-case-name: tests.rpc.test_rpc_protocol,tests.rpc.test_rpc -*-
"""
The JSON-RPC wire format, free of HTTP and of methods: request objects of
versions 1.0, 1.1 and 2.0 checked into L{Call}s, and answers encoded in each
version's envelope.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from julytwisted.rpc._errors import (
    InvalidParams,
    InvalidRequest,
    InvalidRequestObject,
    JSONRPCError,
    ParseError,
)


@attrs.frozen
class Call:
    """
    One well-formed request object.

    @ivar args: the params given by position.
    @ivar named: the params given by name.
    @ivar notification: whether the client expects no answer.
    """

    version: str
    method: str
    args: list[Any]
    named: dict[str, Any]
    id: object
    notification: bool


@attrs.frozen
class Reply:
    """
    The answer to one request object.

    @ivar text: the encoded response object, or L{None} for a notification.
    @ivar error: the error it carries, if any.
    """

    text: str | None
    error: JSONRPCError | None = None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def parse_body(body: bytes) -> object:
    """
    Decode a request body: strict UTF-8 JSON, no NaN or Infinity.

    @raise ParseError: it is not.
    """
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite
        )
    except (ValueError, RecursionError):
        raise ParseError() from None


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode(value: object) -> str:
    """
    Encode a response as ASCII JSON, with C{<}, C{>} and C{&} escaped so no
    client can sniff it as HTML.

    @raise ValueError: C{value} is not JSON (also for NaN or a cycle).
    """
    try:
        text = _ENCODER.encode(value)
    except (TypeError, RecursionError) as e:
        raise ValueError(str(e)) from e
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def success(version: str, id: object, result: object) -> dict[str, object]:
    """@return: the response object of C{version} carrying C{result}."""
    if version == "2.0":
        return {"jsonrpc": "2.0", "result": result, "id": id}
    if version == "1.1":
        return {"version": "1.1", "result": result, "id": id}
    return {"result": result, "error": None, "id": id}


def error_object(version: str, error: JSONRPCError) -> dict[str, object]:
    """@return: C{error} as an error object of C{version}."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    if version == "1.1":
        body = {"name": "JSONRPCError", **body}
        if error.data is not None:
            body["error"] = error.data
    elif error.data is not None:
        body["data"] = error.data
    return body


def failure(version: str, id: object, error: JSONRPCError) -> dict[str, object]:
    """@return: the response object of C{version} carrying C{error}."""
    if version == "2.0":
        return {"jsonrpc": "2.0", "error": error_object(version, error), "id": id}
    if version == "1.1":
        return {"version": "1.1", "error": error_object(version, error), "id": id}
    return {"result": None, "error": error_object(version, error), "id": id}


def _version(obj: object, in_batch: bool) -> str:
    if in_batch or not isinstance(obj, dict) or "jsonrpc" in obj:
        return "2.0"
    if obj.get("version") == "1.1":
        return "1.1"
    # Without any version key, only a call naming a method is taken for 1.0.
    return "1.0" if "method" in obj else "2.0"


def _valid_id(value: object) -> bool:
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbered(version: str, id: object, params: dict[str, Any]) -> list[Any]:
    numbers = sorted(int(key) for key in params)
    if numbers != list(range(len(numbers))):
        raise InvalidRequestObject(
            version, id, InvalidParams("numbered params must run from 0 without gaps")
        )
    return [params[str(n)] for n in numbers]


def _params(
    version: str, id: object, obj: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    params = obj.get("params")
    if params is None and (version != "2.0" or "params" not in obj):
        return [], {}
    if isinstance(params, list):
        return params, {}
    if not isinstance(params, dict):
        refusal = InvalidRequest("params must be an array or an object")
        raise InvalidRequestObject(version, id, refusal)
    if version != "1.1":
        return [], params
    numbered = {k: v for k, v in params.items() if k.isdecimal() and k.isascii()}
    named = {k: v for k, v in params.items() if k not in numbered}
    return _numbered(version, id, numbered), named


def parse_call(obj: object, in_batch: bool = False) -> Call:
    """
    Check one request object.

    @param in_batch: it came inside a batch, so it must be of version 2.0.
    @raise InvalidRequestObject: it is not a valid request object; the
        refusal carries the version and id to answer with.
    """
    version = _version(obj, in_batch)
    if not isinstance(obj, dict):
        raise InvalidRequestObject(
            version, None, InvalidRequest("a request must be an object")
        )
    id = obj.get("id")
    if not _valid_id(id):
        refusal = InvalidRequest("id must be a string, a number or null")
        raise InvalidRequestObject(version, None, refusal)
    if version == "2.0" and obj.get("jsonrpc") != "2.0":
        raise InvalidRequestObject(version, id, InvalidRequest('jsonrpc must be "2.0"'))
    method = obj.get("method")
    if not isinstance(method, str):
        raise InvalidRequestObject(
            version, id, InvalidRequest("method must be a string")
        )
    args, named = _params(version, id, obj)
    if version == "2.0":
        notification = "id" not in obj
    else:
        notification = version == "1.0" and id is None
    return Call(version, method, args, named, id, notification)


__all__ = [
    "Call",
    "Reply",
    "encode",
    "error_object",
    "failure",
    "parse_body",
    "parse_call",
    "success",
]

"""
JSON-RPC over real HTTP: a JSONRPCResource mounted at C{/json} on a listening
JulythonSite, treq as the client.  Every example of section 7 of the JSON-RPC
2.0 specification, each version's envelope, batches, Deferred and coroutine
methods, errors, deadlines and clients that go away.

The test registry and the server helpers here are shared by the other
C{test_rpc_*} modules.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.internet.task import deferLater
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from julytwisted.rpc import (
    CallContext,
    Credentials,
    JSONRPCError,
    JSONRPCResource,
    Registry,
)
from julytwisted.site import JulythonSite

REGISTRY = Registry()

#: What the notification targets were called with.
UPDATES: list[tuple[Any, ...]] = []

#: The Deferreds C{hang} returned, and whether each was cancelled.
HANGING: list[Deferred[object]] = []
CANCELLED: list[Deferred[object]] = []

USERS = {"ada": "lovelace"}
TOKENS = {"tok-ada": "ada"}


class Overdrawn(JSONRPCError):
    """An application error with its code and message as class attributes."""

    code = 4001
    message = "account overdrawn"


class Missing(LookupError):
    """An application exception that C{translate} maps to an error object."""


@REGISTRY.method("subtract(minuend=Number, subtrahend=Number) -> Number", safe=True)
def subtract(context: CallContext, minuend: float, subtrahend: float) -> float:
    """Subtract C{subtrahend} from C{minuend}."""
    return minuend - subtrahend


@REGISTRY.method(name="sum", safe=True)
def add_up(context: CallContext, *numbers: float) -> float:
    """The sum of any numbers."""
    return sum(numbers)


@REGISTRY.method()
def update(context: CallContext, *values: Any) -> None:
    """Record the values: the target of notifications."""
    UPDATES.append(values)


@REGISTRY.method(name="notify_hello")
def notify_hello(context: CallContext, *values: Any) -> None:
    """Record a hello."""
    UPDATES.append(("hello", *values))


@REGISTRY.method(safe=True)
def get_data(context: CallContext) -> list[object]:
    """The data of the specification's batch example."""
    return ["hello", 5]


@REGISTRY.method(safe=True)
def greet(context: CallContext, name: str, punctuation: str = "!") -> str:
    """Say hello to C{name}."""
    return f"Hello {name}{punctuation}"


@REGISTRY.method(safe=True, validate=False)
def echo(context: CallContext, *args: Any, **kwargs: Any) -> object:
    """The params as given, with the version and user of the call."""
    return {
        "args": list(args),
        "kwargs": kwargs,
        "version": context.version,
        "method": context.method,
        "user": context.user,
    }


@REGISTRY.method()
def later(context: CallContext, value: object) -> Deferred[object]:
    """C{value}, from a Deferred that fires soon."""
    return deferLater(reactor, 0.01, lambda: value)


@REGISTRY.method()
async def coroutine(context: CallContext, value: object) -> object:
    """C{value}, from a coroutine that waits on a Deferred first."""
    await deferLater(reactor, 0.01, lambda: None)
    return {"awaited": value}


@REGISTRY.method()
def overdraw(context: CallContext, amount: float) -> None:
    """Raise an application error with data."""
    raise Overdrawn(data={"amount": amount, "balance": 0})


@REGISTRY.method()
def refuse(context: CallContext, code: int) -> None:
    """Raise an application error of the given code."""
    data = {"retry_after": 7} if code == 429 else None
    raise JSONRPCError(code, f"refused with {code}", data)


@REGISTRY.method()
def explode(context: CallContext) -> None:
    """Fail with an exception the client must never see."""
    raise ValueError("secret internal detail")


@REGISTRY.method()
def missing(context: CallContext) -> None:
    """Raise an application exception for C{translate}."""
    raise Missing("no such thing")


@REGISTRY.method()
def not_json(context: CallContext) -> object:
    """Return something JSON cannot carry."""
    return {1, 2}


@REGISTRY.method()
def hang(context: CallContext) -> Deferred[object]:
    """Never answer; record the cancellation."""
    d: Deferred[object] = Deferred(CANCELLED.append)
    HANGING.append(d)
    return d


@REGISTRY.method(authenticated=True)
def whoami(context: CallContext, greeting: str = "hi") -> str:
    """The authenticated user's name."""
    return f"{greeting} {context.user}"


async def authenticate(request: IRequest, credentials: Credentials) -> str | None:
    """The test users and tokens; a coroutine, to check those are awaited."""
    await deferLater(reactor, 0, lambda: None)
    if credentials.scheme == "bearer":
        return TOKENS.get(credentials.token or "")
    if USERS.get(credentials.username or "") == credentials.password:
        return credentials.username
    return None


def translate(exception: Exception) -> JSONRPCError | None:
    """Map L{Missing} to a 404 error object."""
    if isinstance(exception, Missing):
        return JSONRPCError(404, "not found", str(exception))
    return None


@attrs.frozen
class Answer:
    """An HTTP answer: status, headers, raw body, and the body decoded."""

    code: int
    headers: Any
    body: bytes
    json: Any

    def header(self, name: str) -> str | None:
        values = self.headers.getRawHeaders(name)
        return None if values is None else ",".join(values)


@attrs.frozen
class Server:
    """A listening JSONRPCResource mounted at C{/json}."""

    base: str
    resource: JSONRPCResource
    port: IListeningPort

    @property
    def endpoint(self) -> str:
        return self.base + "/json/"

    async def request(self, method: str, path: str = "/json/", **kwargs: Any) -> Answer:
        kwargs.setdefault("persistent", False)
        response = await treq.request(method, self.base + path, **kwargs)
        body = await response.content()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        return Answer(response.code, response.headers, body, decoded)

    async def post(
        self,
        payload: object,
        content_type: str = "application/json",
        path: str = "/json/",
        **headers: str,
    ) -> Answer:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {"Content-Type": content_type, **headers}
        return await self.request("POST", path, data=body, headers=sent)

    async def get(self, path: str, **headers: str) -> Answer:
        return await self.request("GET", path, headers=headers)


@asynccontextmanager
async def serving(
    site_limit: int | None = None, **options: Any
) -> AsyncIterator[Server]:
    """
    Listen on 127.0.0.1 with a JSONRPCResource at C{/json}: of the test
    registry, the test C{authenticate} and C{translate}, and a deadline of
    0.2 s, unless C{options} say otherwise.
    """
    options.setdefault("authenticate", authenticate)
    options.setdefault("translate", translate)
    options.setdefault("timeout", 0.2)
    resource = JSONRPCResource(options.pop("registry", REGISTRY), **options)
    root = Resource()
    root.putChild(b"json", resource)
    limits = [] if site_limit is None else [(b"/json", site_limit)]
    site = JulythonSite(root, limits=limits)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        yield Server(f"http://127.0.0.1:{port.getHost().port}", resource, port)
    finally:
        await port.stopListening()


@pytest.fixture(autouse=True)
def _reset() -> None:
    UPDATES.clear()
    HANGING.clear()
    CANCELLED.clear()


@pytest_twisted.async_yield_fixture
async def rpc() -> AsyncIterator[Server]:
    """The test registry at C{/json} on a listening site."""
    async with serving() as server:
        yield server


def v2(
    id: object, result: object = None, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    if error is not None:
        return {"jsonrpc": "2.0", "error": error, "id": id}
    return {"jsonrpc": "2.0", "result": result, "id": id}


# Section 7 of the JSON-RPC 2.0 specification, example by example.


@pytest_twisted.ensureDeferred
async def test_spec_positional_params(rpc: Server) -> None:
    """rpc call with positional parameters."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}
    )
    assert (answer.code, answer.json) == (200, v2(1, 19))
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}
    )
    assert answer.json == v2(2, -19)


@pytest_twisted.ensureDeferred
async def test_spec_named_params(rpc: Server) -> None:
    """rpc call with named parameters, in either order."""
    answer = await rpc.post(
        {
            "jsonrpc": "2.0",
            "method": "subtract",
            "params": {"subtrahend": 23, "minuend": 42},
            "id": 3,
        }
    )
    assert answer.json == v2(3, 19)
    answer = await rpc.post(
        {
            "jsonrpc": "2.0",
            "method": "subtract",
            "params": {"minuend": 42, "subtrahend": 23},
            "id": 4,
        }
    )
    assert answer.json == v2(4, 19)


@pytest_twisted.ensureDeferred
async def test_spec_notification(rpc: Server) -> None:
    """A notification runs the method and gets an empty 204."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "update", "params": [1, 2, 3, 4, 5]}
    )
    assert (answer.code, answer.body) == (204, b"")
    assert UPDATES == [(1, 2, 3, 4, 5)]
    answer = await rpc.post({"jsonrpc": "2.0", "method": "foobar"})
    assert (answer.code, answer.body) == (204, b"")


@pytest_twisted.ensureDeferred
async def test_spec_method_not_found(rpc: Server) -> None:
    """rpc call of a non-existent method: -32601, the methods not listed."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": "foobar", "id": "1"})
    assert answer.code == 200
    assert answer.json == v2("1", error={"code": -32601, "message": "Method not found"})
    assert b"subtract" not in answer.body


@pytest_twisted.ensureDeferred
async def test_spec_invalid_json(rpc: Server) -> None:
    """rpc call with invalid JSON: -32700, id null, HTTP 200."""
    answer = await rpc.post(
        b'{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'
    )
    assert answer.code == 200
    assert answer.json == v2(None, error={"code": -32700, "message": "Parse error"})


@pytest_twisted.ensureDeferred
async def test_spec_invalid_request_object(rpc: Server) -> None:
    """rpc call with an invalid Request object: -32600, id null."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": 1, "params": "bar"})
    assert answer.code == 200
    assert answer.json["error"]["code"] == -32600
    assert answer.json["id"] is None and answer.json["jsonrpc"] == "2.0"


@pytest_twisted.ensureDeferred
async def test_spec_batch_invalid_json(rpc: Server) -> None:
    """rpc call batch with invalid JSON: one parse error."""
    answer = await rpc.post(
        b'[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},'
        b'{"jsonrpc": "2.0", "method"]'
    )
    assert answer.json == v2(None, error={"code": -32700, "message": "Parse error"})


@pytest_twisted.ensureDeferred
async def test_spec_empty_array(rpc: Server) -> None:
    """rpc call with an empty Array: one -32600, not an array."""
    answer = await rpc.post([])
    assert answer.code == 200
    assert isinstance(answer.json, dict)
    assert answer.json["error"]["code"] == -32600 and answer.json["id"] is None


@pytest_twisted.ensureDeferred
async def test_spec_invalid_batch_of_one(rpc: Server) -> None:
    """rpc call with an invalid Batch (but not empty): [1]."""
    answer = await rpc.post([1])
    assert [(e["error"]["code"], e["id"]) for e in answer.json] == [(-32600, None)]


@pytest_twisted.ensureDeferred
async def test_spec_invalid_batch(rpc: Server) -> None:
    """rpc call with an invalid Batch: [1,2,3] gives three errors."""
    answer = await rpc.post([1, 2, 3])
    assert [(e["error"]["code"], e["id"]) for e in answer.json] == [(-32600, None)] * 3
    assert all(e["jsonrpc"] == "2.0" for e in answer.json)


@pytest_twisted.ensureDeferred
async def test_spec_batch(rpc: Server) -> None:
    """rpc call Batch: results, errors, no entry for the notification."""
    answer = await rpc.post(
        [
            {"jsonrpc": "2.0", "method": "sum", "params": [1, 2, 4], "id": "1"},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
            {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": "2"},
            {"foo": "boo"},
            {
                "jsonrpc": "2.0",
                "method": "foo.get",
                "params": {"name": "myself"},
                "id": "5",
            },
            {"jsonrpc": "2.0", "method": "get_data", "id": "9"},
        ]
    )
    assert answer.code == 200
    entries = answer.json
    assert entries[0] == v2("1", 7)
    assert entries[1] == v2("2", 19)
    assert entries[2]["error"]["code"] == -32600 and entries[2]["id"] is None
    assert entries[3] == v2("5", error={"code": -32601, "message": "Method not found"})
    assert entries[4] == v2("9", ["hello", 5])
    assert len(entries) == 5
    assert UPDATES == [("hello", 7)]


@pytest_twisted.ensureDeferred
async def test_spec_batch_of_notifications(rpc: Server) -> None:
    """rpc call Batch (all notifications): nothing is returned, HTTP 204."""
    answer = await rpc.post(
        [
            {"jsonrpc": "2.0", "method": "notify_sum", "params": [1, 2, 4]},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        ]
    )
    assert (answer.code, answer.body) == (204, b"")
    assert UPDATES == [("hello", 7)]


# Versions and their envelopes


@pytest_twisted.ensureDeferred
async def test_version_1_0_envelope(rpc: Server) -> None:
    """1.0: result and error both present, the other null."""
    answer = await rpc.post({"method": "subtract", "params": [5, 3], "id": 7})
    assert answer.json == {"result": 2, "error": None, "id": 7}
    answer = await rpc.post({"method": "nothing", "params": [], "id": 8})
    assert answer.json == {
        "result": None,
        "error": {"code": -32601, "message": "Method not found"},
        "id": 8,
    }


@pytest_twisted.ensureDeferred
async def test_version_1_0_notification(rpc: Server) -> None:
    """1.0: a call with id null is a notification."""
    answer = await rpc.post({"method": "update", "params": ["x"], "id": None})
    assert (answer.code, answer.body) == (204, b"")
    assert UPDATES == [("x",)]


@pytest_twisted.ensureDeferred
async def test_version_1_0_context(rpc: Server) -> None:
    """The method sees the version it was called with."""
    answer = await rpc.post({"method": "echo", "params": [1], "id": 1})
    assert answer.json["result"]["version"] == "1.0"
    answer = await rpc.post({"jsonrpc": "2.0", "method": "echo", "id": 1})
    assert answer.json["result"]["version"] == "2.0"


@pytest_twisted.ensureDeferred
async def test_version_1_1_envelope(rpc: Server) -> None:
    """1.1: version, then result or error alone; the error names itself."""
    answer = await rpc.post(
        {"version": "1.1", "method": "subtract", "params": [5, 3], "id": 1}
    )
    assert answer.json == {"version": "1.1", "result": 2, "id": 1}
    answer = await rpc.post(
        {"version": "1.1", "method": "overdraw", "params": [10], "id": 2}
    )
    assert answer.json == {
        "version": "1.1",
        "error": {
            "name": "JSONRPCError",
            "code": 4001,
            "message": "account overdrawn",
            "error": {"amount": 10, "balance": 0},
        },
        "id": 2,
    }


@pytest_twisted.ensureDeferred
async def test_version_1_1_named_and_numbered_params(rpc: Server) -> None:
    """1.1: named params, and positional ones as an object with numeric keys."""
    answer = await rpc.post(
        {
            "version": "1.1",
            "method": "subtract",
            "params": {"minuend": 9, "subtrahend": 4},
            "id": 1,
        }
    )
    assert answer.json["result"] == 5
    answer = await rpc.post(
        {"version": "1.1", "method": "subtract", "params": {"1": 4, "0": 9}, "id": 2}
    )
    assert answer.json["result"] == 5
    answer = await rpc.post(
        {
            "version": "1.1",
            "method": "greet",
            "params": {"0": "Sam", "punctuation": "?"},
        }
    )
    assert answer.json == {"version": "1.1", "result": "Hello Sam?", "id": None}


@pytest_twisted.ensureDeferred
async def test_version_1_1_numbered_params_without_gaps(rpc: Server) -> None:
    """1.1: numbered params that skip a number are invalid params."""
    answer = await rpc.post(
        {"version": "1.1", "method": "subtract", "params": {"0": 9, "2": 4}, "id": 3}
    )
    assert answer.json["error"]["code"] == -32602


@pytest_twisted.ensureDeferred
async def test_2_0_numbered_keys_are_names(rpc: Server) -> None:
    """2.0: an object's numeric keys are names like any other."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "echo", "params": {"0": "a"}, "id": 1}
    )
    assert answer.json["result"]["kwargs"] == {"0": "a"}


@pytest_twisted.ensureDeferred
async def test_wrong_jsonrpc_version(rpc: Server) -> None:
    """A jsonrpc member other than "2.0" is an invalid request, id echoed."""
    answer = await rpc.post({"jsonrpc": "3.0", "method": "get_data", "id": 4})
    assert answer.json["error"]["code"] == -32600
    assert answer.json["id"] == 4


@pytest_twisted.ensureDeferred
async def test_invalid_ids_and_params(rpc: Server) -> None:
    """An id that is an object, or params that are a string: -32600."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": "get_data", "id": {}})
    assert (answer.json["error"]["code"], answer.json["id"]) == (-32600, None)
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "get_data", "params": "x", "id": 5}
    )
    assert (answer.json["error"]["code"], answer.json["id"]) == (-32600, 5)


# Batches


@pytest_twisted.ensureDeferred
async def test_batch_mixes_versions_errors_and_notifications(
    rpc: Server, no_logged_errors: list[dict[str, Any]]
) -> None:
    """
    Each entry of a batch is answered on its own, in order: results, app
    errors, params errors; notifications, even failing ones, get no entry
    (a failing one is still logged); entries without the 2.0 member are
    invalid inside a batch.
    """
    answer = await rpc.post(
        [
            {"jsonrpc": "2.0", "method": "later", "params": ["a"], "id": 1},
            {"jsonrpc": "2.0", "method": "explode"},
            {"jsonrpc": "2.0", "method": "overdraw", "params": [3], "id": 2},
            {"jsonrpc": "2.0", "method": "subtract", "params": [1], "id": 3},
            {"jsonrpc": "2.0", "method": "coroutine", "params": ["b"], "id": 4},
            {"method": "get_data", "params": [], "id": 5},
            {"jsonrpc": "2.0", "method": "update", "params": [9]},
        ]
    )
    results = {e["id"]: e.get("result", e.get("error")) for e in answer.json}
    assert results[1] == "a"
    assert results[2] == {
        "code": 4001,
        "message": "account overdrawn",
        "data": {"amount": 3, "balance": 0},
    }
    assert results[3]["code"] == -32602 and "subtrahend" in results[3]["message"]
    assert results[4] == {"awaited": "b"}
    assert answer.json[4]["error"]["code"] == -32600
    assert [e["id"] for e in answer.json] == [1, 2, 3, 4, 5]
    assert UPDATES == [(9,)]
    assert [e["method"] for e in no_logged_errors] == ["explode"]
    no_logged_errors.clear()


@pytest_twisted.ensureDeferred
async def test_batch_of_one_slow_call_is_an_array(rpc: Server) -> None:
    """A batch of one call answered later is still an array of one response."""
    answer = await rpc.post(
        [{"jsonrpc": "2.0", "method": "later", "params": ["a"], "id": 1}]
    )
    assert answer.json == [{"jsonrpc": "2.0", "result": "a", "id": 1}]


@pytest_twisted.ensureDeferred
async def test_batch_runs_concurrently(rpc: Server) -> None:
    """Ten slow-ish calls in a batch take about as long as one."""
    start = reactor.seconds()
    calls = [
        {"jsonrpc": "2.0", "method": "later", "params": [n], "id": n} for n in range(10)
    ]
    answer = await rpc.post(calls)
    assert [e["result"] for e in answer.json] == list(range(10))
    assert reactor.seconds() - start < 0.09


@pytest_twisted.ensureDeferred
async def test_batch_over_the_limit() -> None:
    """A batch over max_batch is one invalid request."""
    async with serving(max_batch=3) as server:
        calls = [{"jsonrpc": "2.0", "method": "get_data", "id": n} for n in range(4)]
        answer = await server.post(calls)
    assert answer.json["error"]["code"] == -32600


# Methods that wait, fail, or never finish


@pytest_twisted.ensureDeferred
async def test_deferred_method(rpc: Server) -> None:
    """A method that returns a Deferred is answered with its result."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "later", "params": [[1, "x"]], "id": 1}
    )
    assert answer.json == v2(1, [1, "x"])


@pytest_twisted.ensureDeferred
async def test_coroutine_method(rpc: Server) -> None:
    """An async def method is awaited."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "coroutine", "params": {"value": 3}, "id": 1}
    )
    assert answer.json == v2(1, {"awaited": 3})


@pytest_twisted.ensureDeferred
async def test_application_error(rpc: Server) -> None:
    """A JSONRPCError subclass raised by a method: its code, message, data."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "overdraw", "params": [12.5], "id": 1}
    )
    assert answer.code == 200
    assert answer.json == v2(
        1,
        error={
            "code": 4001,
            "message": "account overdrawn",
            "data": {"amount": 12.5, "balance": 0},
        },
    )


@pytest_twisted.ensureDeferred
async def test_method_that_raises(
    rpc: Server, no_logged_errors: list[dict[str, Any]]
) -> None:
    """
    Any other exception: -32603 with nothing of the exception in the body,
    and the traceback in the server's log.
    """
    answer = await rpc.post({"jsonrpc": "2.0", "method": "explode", "id": 1})
    assert answer.code == 200
    assert answer.json == v2(1, error={"code": -32603, "message": "Internal error"})
    assert b"secret" not in answer.body and b"Traceback" not in answer.body
    [event] = no_logged_errors
    assert event["log_failure"].check(ValueError)
    assert event["method"] == "explode"
    no_logged_errors.clear()


@pytest_twisted.ensureDeferred
async def test_result_that_is_not_json(
    rpc: Server, no_logged_errors: list[dict[str, Any]]
) -> None:
    """A result JSON cannot carry is an internal error, logged."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": "not_json", "id": 1})
    assert answer.json["error"]["code"] == -32603
    assert len(no_logged_errors) == 1
    no_logged_errors.clear()


@pytest_twisted.ensureDeferred
async def test_translate_maps_application_exceptions(rpc: Server) -> None:
    """translate turns the application's exception into its error object."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": "missing", "id": 1})
    assert answer.json == v2(
        1, error={"code": 404, "message": "not found", "data": "no such thing"}
    )


@pytest_twisted.ensureDeferred
async def test_error_codes_set_the_http_status(rpc: Server) -> None:
    """403 and 429 errors also set the HTTP status; 429 adds Retry-After."""
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "refuse", "params": [403], "id": 1}
    )
    assert (answer.code, answer.json["error"]["code"]) == (403, 403)
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "refuse", "params": [429], "id": 1}
    )
    assert (answer.code, answer.header("Retry-After")) == (429, "7")
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "refuse", "params": [4000], "id": 1}
    )
    assert answer.code == 200


@pytest_twisted.ensureDeferred
async def test_method_that_times_out(rpc: Server) -> None:
    """A method still running at the deadline is cancelled: -32000."""
    answer = await rpc.post({"jsonrpc": "2.0", "method": "hang", "id": 1})
    assert answer.code == 200
    assert answer.json["error"]["code"] == -32000
    assert "timed out" in answer.json["error"]["message"]
    assert CANCELLED == HANGING and len(HANGING) == 1


@pytest_twisted.ensureDeferred
async def test_client_that_disconnects_cancels_its_calls() -> None:
    """A client that closes its connection mid-call cancels the call."""
    async with serving(timeout=30) as server:
        body = json.dumps(
            [
                {"jsonrpc": "2.0", "method": "hang", "id": 1},
                {"jsonrpc": "2.0", "method": "hang", "id": 2},
            ]
        ).encode()
        client = socket.create_connection(("127.0.0.1", server.port.getHost().port))
        client.sendall(
            b"POST /json/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        for _ in range(200):
            if len(HANGING) == 2:
                break
            await deferLater(reactor, 0.01, lambda: None)
        assert len(HANGING) == 2 and not CANCELLED
        client.close()
        for _ in range(200):
            if len(CANCELLED) == 2:
                break
            await deferLater(reactor, 0.01, lambda: None)
    assert CANCELLED == HANGING

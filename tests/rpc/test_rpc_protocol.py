"""
The protocol without HTTP: parsing request objects, envelopes, encoding, and
the dispatcher's deadlines on a fake clock.  Then a property over real HTTP:
whatever the body, the answer is a valid JSON-RPC response or an empty 204.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
import treq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.rpc import JSONRPCResource, ParseError
from julytwisted.rpc._dispatch import Answer, Dispatcher, Incoming
from julytwisted.rpc._errors import InvalidRequestObject
from julytwisted.rpc._protocol import Reply, encode, parse_body, parse_call
from julytwisted.site import JulythonSite
from tests.rpc.test_rpc import CANCELLED, HANGING, REGISTRY, authenticate, translate

# Parsing


def test_parse_body_is_strict() -> None:
    """NaN, Infinity, numbers out of range and bad UTF-8 are parse errors."""
    for body in (b"NaN", b"[Infinity]", b"1e999", b"\xff", b"", b"{", b"[" * 100000):
        with pytest.raises(ParseError):
            parse_body(body)
    assert parse_body(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}


def test_versions_are_detected() -> None:
    """jsonrpc gives 2.0, version "1.1" gives 1.1, a bare method 1.0."""
    assert parse_call({"jsonrpc": "2.0", "method": "m", "id": 1}).version == "2.0"
    assert parse_call({"version": "1.1", "method": "m"}).version == "1.1"
    assert parse_call({"method": "m", "params": [], "id": 1}).version == "1.0"


def test_notifications() -> None:
    """2.0 without id, 1.0 with id null; 1.1 has none."""
    assert parse_call({"jsonrpc": "2.0", "method": "m"}).notification
    assert not parse_call({"jsonrpc": "2.0", "method": "m", "id": None}).notification
    assert parse_call({"method": "m", "id": None}).notification
    assert not parse_call({"version": "1.1", "method": "m"}).notification


def test_batch_entries_are_2_0() -> None:
    """Inside a batch, an entry without the 2.0 member is refused."""
    with pytest.raises(InvalidRequestObject) as refused:
        parse_call({"method": "m", "id": 3}, in_batch=True)
    assert (refused.value.version, refused.value.id) == ("2.0", 3)


def test_1_1_numbered_params() -> None:
    """1.1: numeric keys are positional, in number order; the rest named."""
    call = parse_call(
        {"version": "1.1", "method": "m", "params": {"1": "b", "0": "a", "x": 1}}
    )
    assert (call.args, call.named) == (["a", "b"], {"x": 1})


# Encoding and envelopes


def test_encode_escapes_html_and_non_ascii() -> None:
    """Encoded answers are ASCII with <, > and & escaped; lone surrogates pass."""
    text = encode({"s": "<b>&é\ud800"})
    assert text == '{"s":"\\u003cb\\u003e\\u0026\\u00e9\\ud800"}'
    assert json.loads(text) == {"s": "<b>&é\ud800"}
    with pytest.raises(ValueError):
        encode(float("nan"))
    with pytest.raises(ValueError):
        encode({1, 2})


# The dispatcher on a fake clock


def dispatcher(clock: Clock) -> Dispatcher:
    resource = JSONRPCResource(REGISTRY, clock=clock)
    return Dispatcher(lookup=resource.lookup, clock=lambda: clock, timeout=5.0)


def deferred(answer: Answer) -> Deferred[Reply]:
    return succeed(answer) if isinstance(answer, Reply) else answer


def answer_of(answer: Answer) -> Any:
    replies: list[Reply] = []
    deferred(answer).addCallback(replies.append)
    [reply] = replies
    return None if reply.text is None else json.loads(reply.text)


def test_deadline_on_the_given_clock() -> None:
    """The deadline runs on the clock handed in: cancelled at 5 s, not before."""
    HANGING.clear()
    CANCELLED.clear()
    clock = Clock()
    d = dispatcher(clock).handle(
        {"jsonrpc": "2.0", "method": "hang", "id": 1}, Incoming(DummyRequest([]))
    )
    replies: list[Reply] = []
    deferred(d).addCallback(replies.append)
    clock.advance(4.9)
    assert replies == []
    clock.advance(0.1)
    assert answer_of(replies[0])["error"] == {
        "code": -32000,
        "message": "method timed out after 5 s",
    }
    assert CANCELLED == HANGING


def test_synchronous_answers_need_no_clock() -> None:
    """A method that answers at once is answered at once, with no timer."""
    clock = Clock()
    d = dispatcher(clock).handle(
        {"jsonrpc": "2.0", "method": "subtract", "params": [3, 1], "id": 1},
        Incoming(DummyRequest([])),
    )
    assert isinstance(d, Reply)
    assert answer_of(d) == {"jsonrpc": "2.0", "result": 2, "id": 1}
    assert clock.getDelayedCalls() == []


def test_present_turns_results_into_json(
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    The application's C{present} hook turns each result into JSON-ready
    data before it is encoded; a result it cannot turn is an internal error,
    logged.
    """
    resource = JSONRPCResource(REGISTRY)
    clock = Clock()
    seen: list[object] = []

    def present(result: object) -> object:
        seen.append(result)
        if result == 2:
            return {"difference": result}
        raise TypeError("not JSON")

    presenting = Dispatcher(
        lookup=resource.lookup, clock=lambda: clock, present=present
    )
    call = {"jsonrpc": "2.0", "method": "subtract", "params": [3, 1], "id": 1}
    answer = presenting.handle(call, Incoming(DummyRequest([])))
    assert answer_of(answer)["result"] == {"difference": 2}
    assert seen == [2]
    call["params"] = [5, 1]
    answer = presenting.handle(call, Incoming(DummyRequest([])))
    assert answer_of(answer)["error"]["code"] == -32603
    assert [e["method"] for e in no_logged_errors] == ["subtract"]
    no_logged_errors.clear()


def test_cancelling_an_answer_cancels_its_calls() -> None:
    """Cancelling the answer (a client gone) cancels each pending method."""
    HANGING.clear()
    CANCELLED.clear()
    clock = Clock()
    batch = [{"jsonrpc": "2.0", "method": "hang", "id": n} for n in range(3)]
    d = dispatcher(clock).handle(batch, Incoming(DummyRequest([])))
    assert isinstance(d, Deferred)
    d.cancel()
    assert len(CANCELLED) == 3 and CANCELLED == HANGING
    assert clock.getDelayedCalls() == []


# Any body at all, over HTTP


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[str]:
    """One listening endpoint for every example of the property."""
    resource = JSONRPCResource(
        REGISTRY, authenticate=authenticate, translate=translate, timeout=0.2
    )
    root = Resource()
    root.putChild(b"json", resource)
    port = reactor.listenTCP(0, JulythonSite(root), interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}/json/"
    pytest_twisted.blockon(port.stopListening())


METHODS = [
    *sorted(set(REGISTRY.methods) - {"hang"}),
    "system.listMethods",
    "system.methodHelp",
    "rpc.discover",
    "nope",
]
NAMES = ["minuend", "subtrahend", "name", "value", "amount", "username", "password"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), children)
    ),
    max_leaves=20,
)
calls = st.fixed_dictionaries(
    {"method": st.sampled_from(METHODS) | st.text(max_size=10)},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0", 2]),
        "version": st.sampled_from(["1.1", "1.0"]),
        "params": json_values,
        "id": json_values,
    },
)
well_formed = st.fixed_dictionaries(
    {
        "jsonrpc": st.just("2.0"),
        "method": st.sampled_from(METHODS),
        "params": st.lists(json_values, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES), json_values, max_size=3),
    },
    optional={"id": st.integers() | st.text(max_size=5)},
)
payloads = (
    well_formed
    | st.lists(well_formed, min_size=1, max_size=5)
    | json_values
    | calls
    | st.lists(calls | json_values, max_size=5)
)
bodies = payloads.map(lambda p: json.dumps(p).encode()) | st.binary(max_size=100)


def valid_response(response: object) -> bool:
    """Whether C{response} is a response object of one of the versions."""
    if not isinstance(response, dict) or "id" not in response:
        return False
    if response.get("jsonrpc") == "2.0" or response.get("version") == "1.1":
        members = set(response) - {"jsonrpc", "version", "id"}
        if members not in ({"result"}, {"error"}):
            return False
    elif set(response) != {"result", "error", "id"} or (
        response["error"] is not None and response["result"] is not None
    ):
        return False
    error = response.get("error")
    return error is None or (
        isinstance(error, dict)
        and type(error.get("code")) is int
        and isinstance(error.get("message"), str)
    )


async def post(url: str, body: bytes) -> tuple[int, bytes]:
    response = await treq.post(
        url, data=body, headers={"Content-Type": "application/json"}, persistent=False
    )
    return response.code, await response.content()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
@pytest_twisted.ensureDeferred
async def test_any_body_gets_a_valid_answer(
    fuzz_server: str, no_logged_errors: list[dict[str, Any]], body: bytes
) -> None:
    """
    Any JSON value or any bytes: a valid response, an array of them, or an
    empty 204; the status is 200 unless the error asks for 401, 403 or 429;
    never a 500, never a traceback.  Only methods' own failures are logged.
    """
    code, content = await post(fuzz_server, body)
    assert b"Traceback" not in content
    if code == 204:
        assert content == b""
    else:
        answer = json.loads(content)
        responses = answer if isinstance(answer, list) else [answer]
        assert responses and all(valid_response(r) for r in responses), answer
        statuses = {200} | {
            r["error"]["code"]
            for r in responses
            if r.get("error") and not isinstance(answer, list)
        }
        assert code in statuses
    assert all("method" in e for e in no_logged_errors), no_logged_errors
    no_logged_errors.clear()

"""
JSONRPCResource's HTTP over real HTTP: verbs, media types, body limits, GET
for safe methods, CORS, and the three forms of authentication.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import pytest_twisted
from twisted.internet import threads
from twisted.web.iweb import IRequest

from julytwisted.rpc import Credentials, JSONRPCError
from tests.rpc.test_rpc import UPDATES, Server, serving


@pytest_twisted.async_yield_fixture
async def rpc() -> AsyncIterator[Server]:
    """The test registry at C{/json} on a listening site."""
    async with serving() as server:
        yield server


def call(method: str, params: object = None, id: object = 1) -> dict[str, Any]:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        request["params"] = params
    return request


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# Verbs and paths


@pytest_twisted.ensureDeferred
async def test_other_verbs_are_405(rpc: Server) -> None:
    """PUT and DELETE: 405 with Allow, and a JSON-RPC error body."""
    for verb in ("PUT", "DELETE", "PATCH"):
        answer = await rpc.request(verb, "/json/")
        assert answer.code == 405
        assert answer.header("Allow") == "GET, POST, OPTIONS"
        assert answer.json["error"]["code"] == -32600


@pytest_twisted.ensureDeferred
async def test_every_mount_path_answers(rpc: Server) -> None:
    """/json and /json/ take POST; /json/<method> and /json/browse/ take GET."""
    for path in ("/json", "/json/"):
        answer = await rpc.post(call("get_data"), path=path)
        assert answer.json["result"] == ["hello", 5]
    answer = await rpc.get("/json/get_data")
    assert answer.json["result"] == ["hello", 5]
    answer = await rpc.get("/json/browse/")
    assert answer.code == 200 and b"get_data" in answer.body


@pytest_twisted.ensureDeferred
async def test_post_to_a_method_path_is_405(rpc: Server) -> None:
    """/json/<method> is for GET only."""
    answer = await rpc.post(call("get_data"), path="/json/get_data")
    assert answer.code == 405
    assert "POST" not in (answer.header("Allow") or "")


@pytest_twisted.ensureDeferred
async def test_unknown_deeper_path_is_404(rpc: Server) -> None:
    """Nothing lives under /json/<method>/."""
    answer = await rpc.get("/json/get_data/more")
    assert answer.code == 404


# Media types and bodies


@pytest_twisted.ensureDeferred
async def test_wrong_content_type_is_415(rpc: Server) -> None:
    """A POST that is not JSON (or JSON in another charset) is refused."""
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ):
        answer = await rpc.post(call("get_data"), content_type=content_type)
        assert answer.code == 415, content_type
        assert answer.json["error"]["code"] == -32600
    answer = await rpc.request("POST", data=b"{}")
    assert answer.code == 415


@pytest_twisted.ensureDeferred
async def test_answer_in_the_request_media_type(rpc: Server) -> None:
    """application/json-rpc is answered as such; every form carries utf-8."""
    for media in (
        "application/json",
        "application/json-rpc",
        "application/jsonrequest",
    ):
        answer = await rpc.post(
            call("get_data"), content_type=f"{media}; charset=UTF-8"
        )
        assert answer.header("Content-Type") == f"{media}; charset=utf-8"
        assert answer.json["result"] == ["hello", 5]
    answer = await rpc.get("/json/get_data", Accept="application/json-rpc")
    assert answer.header("Content-Type") == "application/json-rpc; charset=utf-8"


@pytest_twisted.ensureDeferred
async def test_two_mebibyte_body_is_413(rpc: Server) -> None:
    """A 2 MiB body is refused by its Content-Length, before it is read."""
    padding = "x" * (2 * 1024 * 1024)
    answer = await rpc.post(call("echo", [padding]))
    assert answer.code == 413


@pytest_twisted.ensureDeferred
async def test_resource_limit_applies_on_any_site() -> None:
    """
    With the site's own limit raised, the resource's max_body still refuses
    a 2 MiB body with 413 and a JSON-RPC error.
    """
    async with serving(site_limit=4 * 1024 * 1024) as server:
        answer = await server.post(call("echo", ["x" * (2 * 1024 * 1024)]))
    assert answer.code == 413
    assert answer.json["error"]["code"] == -32600
    assert "limit" in answer.json["error"]["message"]


def chunked_post(port: int, body: bytes) -> bytes:
    """POST C{body} with chunked encoding, so without a Content-Length."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(
            b"POST /json/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        )
        client.settimeout(5)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    return received


@pytest_twisted.ensureDeferred
async def test_body_without_length_is_counted() -> None:
    """A chunked body over max_body is refused by what was read."""
    async with serving(max_body=100) as server:
        port = server.port.getHost().port
        body = json.dumps(call("echo", ["x" * 200])).encode()
        received = await threads.deferToThread(chunked_post, port, body)
    assert received.startswith(b"HTTP/1.1 413")


# GET


@pytest_twisted.ensureDeferred
async def test_get_method_with_named_params(rpc: Server) -> None:
    """/json/<method>?name=Sam: a 2.0 answer with id null."""
    answer = await rpc.get("/json/greet?name=Sam")
    assert answer.code == 200
    assert answer.json == {"jsonrpc": "2.0", "result": "Hello Sam!", "id": None}


@pytest_twisted.ensureDeferred
async def test_get_params_are_typed(rpc: Server) -> None:
    """Repeated names give arrays; JSON numbers, true, false, null are parsed."""
    answer = await rpc.get(
        "/json/echo?a=1&a=2&b=true&c=null&d=Sam&e=-1.5e2&f=007&g=&h=%C3%A9"
    )
    assert answer.json["result"]["kwargs"] == {
        "a": [1, 2],
        "b": True,
        "c": None,
        "d": "Sam",
        "e": -150.0,
        "f": "007",
        "g": "",
        "h": "é",
    }


@pytest_twisted.ensureDeferred
async def test_get_that_is_not_utf8_is_refused(rpc: Server) -> None:
    """
    A param or method name that is not UTF-8 is a 400 saying so, not a call
    with U+FFFD in place of what was sent.
    """
    for path in ("/json/echo?name=%FF", "/json/echo?%C3=1", "/json/ech%FFo?a=1"):
        answer = await rpc.get(path)
        assert answer.code == 400, path
        assert answer.json["error"]["code"] == -32600
        assert "UTF-8" in answer.json["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_get_positional_params(rpc: Server) -> None:
    """Names 0, 1, ... are positional params."""
    answer = await rpc.get("/json/subtract?1=4&0=10")
    assert answer.json["result"] == 6


@pytest_twisted.ensureDeferred
async def test_get_whole_request_in_the_query(rpc: Server) -> None:
    """The whole request as the raw query, or as ?request=, or a batch."""
    request = call("subtract", [10, 4], id="q")
    answer = await rpc.get("/json/?" + quote(json.dumps(request)))
    assert answer.json == {"jsonrpc": "2.0", "result": 6, "id": "q"}
    answer = await rpc.get("/json?request=" + quote(json.dumps(request)))
    assert answer.json["result"] == 6
    batch = [call("get_data", id=1), call("greet", ["Al"], id=2)]
    answer = await rpc.get("/json/?" + quote(json.dumps(batch)))
    assert [e["result"] for e in answer.json] == [["hello", 5], "Hello Al!"]
    legacy = {"method": "subtract", "params": [3, 1], "id": 9}
    answer = await rpc.get("/json/?" + quote(json.dumps(legacy)))
    assert answer.json == {"result": 2, "error": None, "id": 9}


@pytest_twisted.ensureDeferred
async def test_get_of_an_unsafe_method(rpc: Server) -> None:
    """An unsafe method by GET: -32600 saying to POST it; it does not run."""
    UPDATES.clear()
    answer = await rpc.get("/json/update?x=1")
    assert answer.code == 200
    assert answer.json["error"] == {
        "code": -32600,
        "message": "method update is not safe: call it with POST",
    }
    answer = await rpc.get("/json/?" + quote(json.dumps(call("update", [1]))))
    assert answer.json["error"]["code"] == -32600
    assert UPDATES == []


@pytest_twisted.ensureDeferred
async def test_get_without_a_request(rpc: Server) -> None:
    """A bare GET: 400 for a program, a redirect to the browser for a person."""
    answer = await rpc.get("/json/")
    assert answer.code == 400
    answer = await rpc.request(
        "GET", "/json/", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert (answer.code, answer.header("Location")) == (303, "browse/")
    answer = await rpc.request(
        "GET", "/json", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert (answer.code, answer.header("Location")) == (303, "json/browse/")


@pytest_twisted.ensureDeferred
async def test_head_of_a_method(rpc: Server) -> None:
    """HEAD answers like GET, without the body."""
    answer = await rpc.request("HEAD", "/json/get_data")
    assert (answer.code, answer.body) == (200, b"")


# CORS


@pytest_twisted.ensureDeferred
async def test_cors_default_is_any_origin(rpc: Server) -> None:
    """By default: *, no credentials, no Vary on Origin."""
    answer = await rpc.post(call("get_data"), Origin="https://else.example")
    assert answer.header("Access-Control-Allow-Origin") == "*"
    assert answer.header("Access-Control-Allow-Credentials") is None
    # The Site's gzip varies on Accept-Encoding; nothing here varies on Origin.
    assert answer.header("Vary") == "Accept-Encoding"


@pytest_twisted.ensureDeferred
async def test_cors_preflight(rpc: Server) -> None:
    """OPTIONS: 204 with Allow and the preflight headers."""
    answer = await rpc.request(
        "OPTIONS",
        "/json/",
        headers={
            "Origin": "https://else.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert (answer.code, answer.body) == (204, b"")
    assert answer.header("Allow") == "GET, POST, OPTIONS"
    assert answer.header("Access-Control-Allow-Methods") == "GET, POST, OPTIONS"
    assert answer.header("Access-Control-Allow-Headers") == (
        "Content-Type, Authorization"
    )
    assert int(answer.header("Access-Control-Max-Age") or 0) > 0
    assert answer.header("Access-Control-Allow-Origin") == "*"


@pytest_twisted.ensureDeferred
async def test_cors_origin_list() -> None:
    """A listed origin is echoed with credentials; another gets no grant."""
    async with serving(cors_origins=["https://ok.example"]) as server:
        answer = await server.post(call("get_data"), Origin="https://ok.example")
        assert answer.header("Access-Control-Allow-Origin") == "https://ok.example"
        assert answer.header("Access-Control-Allow-Credentials") == "true"
        assert answer.header("Vary") == "Origin, Accept-Encoding"
        answer = await server.post(call("get_data"), Origin="https://evil.example")
        assert answer.header("Access-Control-Allow-Origin") is None
        assert answer.header("Vary") == "Origin, Accept-Encoding"
        assert answer.json["result"] == ["hello", 5]
        answer = await server.request(
            "OPTIONS", "/json/", headers={"Origin": "https://ok.example"}
        )
        assert answer.code == 204
        assert answer.header("Access-Control-Allow-Origin") == "https://ok.example"


# Authentication


@pytest_twisted.ensureDeferred
async def test_basic_auth(rpc: Server) -> None:
    """Good Basic credentials reach the method as context.user."""
    answer = await rpc.post(call("whoami"), Authorization=basic("ada", "lovelace"))
    assert (answer.code, answer.json["result"]) == (200, "hi ada")


@pytest_twisted.ensureDeferred
async def test_basic_auth_failure(rpc: Server) -> None:
    """Bad Basic credentials: error 401 and HTTP 401 with a Basic challenge."""
    for header in (basic("ada", "wrong"), "Basic !!!notbase64", basic("eve", "")):
        answer = await rpc.post(call("whoami"), Authorization=header)
        assert answer.code == 401
        assert answer.json["error"] == {"code": 401, "message": "bad credentials"}
        assert answer.header("WWW-Authenticate") == 'Basic realm="jsonrpc"'


@pytest_twisted.ensureDeferred
async def test_bearer_auth(rpc: Server) -> None:
    """A good token authenticates; a bad one is 401 with a Bearer challenge."""
    answer = await rpc.post(call("whoami", ["yo"]), Authorization="Bearer tok-ada")
    assert answer.json["result"] == "yo ada"
    answer = await rpc.post(call("whoami"), Authorization="Bearer tok-eve")
    assert (answer.code, answer.json["error"]["code"]) == (401, 401)
    assert answer.header("WWW-Authenticate") == 'Bearer realm="jsonrpc"'


@pytest_twisted.ensureDeferred
async def test_params_auth(rpc: Server) -> None:
    """Leading username, password params, by position or by name."""
    answer = await rpc.post(call("whoami", ["ada", "lovelace", "hello"]))
    assert answer.json["result"] == "hello ada"
    named = {"username": "ada", "password": "lovelace", "greeting": "hey"}
    answer = await rpc.post(call("whoami", named))
    assert answer.json["result"] == "hey ada"
    legacy = {"method": "whoami", "params": ["ada", "lovelace"], "id": 1}
    answer = await rpc.post(legacy)
    assert answer.json == {"result": "hi ada", "error": None, "id": 1}


@pytest_twisted.ensureDeferred
async def test_params_auth_failure(rpc: Server) -> None:
    """Wrong or missing params credentials: 401 with a challenge."""
    answer = await rpc.post(call("whoami", ["ada", "wrong"]))
    assert answer.code == 401
    assert answer.json["error"] == {"code": 401, "message": "bad credentials"}
    answer = await rpc.post(call("whoami", ["ada", 5]))
    assert answer.code == 401
    answer = await rpc.post(call("whoami"))
    assert answer.code == 401
    assert answer.json["error"] == {
        "code": 401,
        "message": "authentication required",
    }
    assert answer.header("WWW-Authenticate") == 'Basic realm="jsonrpc"'


@pytest_twisted.ensureDeferred
async def test_header_user_reaches_every_method(rpc: Server) -> None:
    """Any method sees the header's user; bad credentials leave it None."""
    answer = await rpc.post(call("echo"), Authorization="Bearer tok-ada")
    assert answer.json["result"]["user"] == "ada"
    answer = await rpc.post(call("echo"), Authorization="Bearer nope")
    assert (answer.code, answer.json["result"]["user"]) == (200, None)


@pytest_twisted.ensureDeferred
async def test_auth_failure_inside_a_batch(rpc: Server) -> None:
    """In a batch the failing entry says 401, but the answer is HTTP 200."""
    answer = await rpc.post([call("whoami", id=1), call("get_data", id=2)])
    assert answer.code == 200
    assert answer.json[0]["error"]["code"] == 401
    assert answer.json[1]["result"] == ["hello", 5]


@pytest_twisted.ensureDeferred
async def test_without_authenticate_nobody_is_authenticated() -> None:
    """With no authenticate callable, authenticated methods always say 401."""
    async with serving(authenticate=None) as server:
        answer = await server.post(call("whoami", ["ada", "lovelace"]))
        assert answer.code == 401
        answer = await server.post(call("echo"), Authorization="Bearer tok-ada")
        assert answer.json["result"]["user"] is None


# Credentials proved once per request


def counting(
    refuse: Exception | None = None,
) -> tuple[list[Credentials], Callable[[IRequest, Credentials], Any]]:
    """
    The test C{authenticate}, recording every credentials it is asked to
    prove, synchronously; raising C{refuse} for a wrong password if given.
    """
    asked: list[Credentials] = []

    def prove(request: IRequest, credentials: Credentials) -> str | None:
        asked.append(credentials)
        if credentials.password == "lovelace":
            return credentials.username
        if refuse is not None:
            raise refuse
        return None

    return asked, prove


@pytest_twisted.ensureDeferred
async def test_a_batch_of_guesses_proves_one() -> None:
    """
    A batch of 1000 calls, each with other params credentials (the right
    ones among them), proves the first only: its failure answers the rest,
    in order and without recursing a thousand deep.
    """
    asked, prove = counting()
    passwords = [f"guess {n}" for n in range(1000)]
    passwords[500] = "lovelace"
    batch = [call("whoami", ["ada", p], id=n) for n, p in enumerate(passwords)]
    async with serving(authenticate=prove) as server:
        answer = await server.post(batch)
    assert answer.code == 200
    assert [a["error"] for a in answer.json] == [
        {"code": 401, "message": "bad credentials"}
    ] * 1000
    assert [a["id"] for a in answer.json] == list(range(1000))
    assert [c.password for c in asked] == ["guess 0"]


@pytest_twisted.ensureDeferred
async def test_the_same_credentials_are_proved_once() -> None:
    """
    Calls with credentials proved already in the request reuse the proof;
    after a failure, no later call is proved, not even with credentials
    proved before it; calls that need no credentials run all the same.
    """
    asked, prove = counting()
    batch = [
        call("whoami", ["ada", "lovelace"], id=1),
        call("whoami", ["ada", "lovelace", "yo"], id=2),
        call("whoami", ["bob", "wrong"], id=3),
        call("whoami", ["ada", "lovelace"], id=4),
        call("get_data", id=5),
    ]
    async with serving(authenticate=prove) as server:
        answer = await server.post(batch)
    results = {a["id"]: a.get("result", a.get("error")) for a in answer.json}
    assert results[1] == "hi ada" and results[2] == "yo ada"
    assert results[3]["code"] == results[4]["code"] == 401
    assert results[5] == ["hello", 5]
    assert [(c.username, c.password) for c in asked] == [
        ("ada", "lovelace"),
        ("bob", "wrong"),
    ]


@pytest_twisted.ensureDeferred
async def test_an_error_of_authenticate_answers_the_rest() -> None:
    """What authenticate raises (a rate limit, say) answers every later call."""
    limited = JSONRPCError(429, "too many", {"retry_after": 9})
    asked, prove = counting(refuse=limited)
    batch = [call("whoami", ["ada", f"guess {n}"], id=n) for n in range(5)]
    async with serving(authenticate=prove) as server:
        answer = await server.post(batch)
    assert [a["error"]["code"] for a in answer.json] == [429] * 5
    assert len(asked) == 1
    async with serving(authenticate=prove) as server:
        answer = await server.post(call("whoami", ["ada", "guess"]))
    assert answer.code == 429 and answer.header("Retry-After") == "9"


@pytest_twisted.ensureDeferred
async def test_admit_is_told_who_the_header_proves() -> None:
    """
    admit is asked once per request, after the Authorization header is
    proved, with what it proved (None for wrong or missing credentials), so
    a limit can count per user; a request it refuses runs nothing.
    """
    UPDATES.clear()
    asked, prove = counting()
    told: list[object] = []

    async def admit(request: IRequest, user: object) -> float | None:
        told.append(user)
        return 5.0 if user is None else None

    async with serving(authenticate=prove, admit=admit) as server:
        answer = await server.post(
            [call("whoami", id=1), call("whoami", id=2)],
            Authorization=basic("ada", "lovelace"),
        )
        assert [a["result"] for a in answer.json] == ["hi ada", "hi ada"]
        answer = await server.post(
            call("update", ["x"]), Authorization=basic("ada", "wrong")
        )
        assert answer.code == 429 and answer.header("Retry-After") == "5"
        assert UPDATES == []
        answer = await server.get("/json/get_data")
        assert answer.code == 429
    assert told == ["ada", None, None]
    assert len(asked) == 2


@pytest_twisted.ensureDeferred
async def test_a_server_too_busy_is_503_with_retry_after() -> None:
    """
    A single call answered 503 with a retry_after (a password pool full,
    say) is HTTP 503 with Retry-After, as every other door answers it; in a
    batch the answer stays HTTP 200.
    """
    busy = JSONRPCError(503, "too busy", {"retry_after": 1.5})
    _, prove = counting(refuse=busy)
    async with serving(authenticate=prove) as server:
        answer = await server.post(call("whoami"), Authorization=basic("ada", "x"))
        assert answer.code == 503 and answer.header("Retry-After") == "2"
        assert answer.json["error"]["code"] == 503
        answer = await server.post(
            [call("whoami", id=1)], Authorization=basic("ada", "x")
        )
        assert answer.code == 200 and answer.json[0]["error"]["code"] == 503

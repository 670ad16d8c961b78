"""
Methods written as django-json-rpc's README writes them, each form of its
decorator served over real HTTP and called the way its README calls them:
a bare name over a function whose params are its own, signatures with named
or positional types in JSON or Python spelling, C{validate=True},
C{safe=True} over GET, C{authenticated=True} with the credentials as the
first two params, C{authenticated=function}, and C{site=}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted

from julytwisted.rpc import CallContext, Registry, jsonrpc_method
from julytwisted.rpc._registry import make_method
from tests.rpc.test_rpc import Server, serving

SITE = Registry()

#: The users the method-specific authenticator knows; not the resource's.
BAKERS = {"baker": "crumb"}

#: What the method-specific authenticator was asked, in order.
ASKED: list[tuple[str, str]] = []


@jsonrpc_method("shop.sayHello", site=SITE)
def say_hello(request, name):  # type: ignore[no-untyped-def]
    """A bare name over an untyped function: one required param, of Any."""
    return f"Hello {name}"


@jsonrpc_method("shop.greet", site=SITE)
def greet(request: CallContext, name: str = "Lester", times: int = 1) -> str:
    """A bare name over an annotated function with defaults."""
    return " ".join([f"Hello {name}"] * times)


@jsonrpc_method("shop.register", site=SITE)
def register(request: CallContext, username: str, password: str) -> dict[str, Any]:
    """Params named username and password that are only params."""
    return {"username": username, "password_length": len(password)}


@jsonrpc_method("shop.secret", authenticated=True, site=SITE)
def secret(request: CallContext, secret_data: str) -> dict[str, Any]:
    """Authenticated: the caller's two credentials come before secret_data."""
    return {"user": request.user, "sauce": ["authenticated", secret_data]}


def bakers_only(username: str, password: str) -> str | None:
    """A method's own authenticator, in django-json-rpc's keyword form."""
    ASKED.append((username, password))
    return username.upper() if BAKERS.get(username) == password else None


@jsonrpc_method("shop.bake", authenticated=bakers_only, site=SITE)
def bake(request: CallContext, loaves: int) -> str:
    """Authenticated by C{bakers_only}, not by the resource's authenticate."""
    return f"{request.user} baked {loaves}"


@jsonrpc_method("shop.addStrings(arg1=String, arg2=String) -> String", site=SITE)
def add_strings(request, arg1, arg2):  # type: ignore[no-untyped-def]
    """Named params typed by the signature, validated."""
    return arg1 + arg2


@jsonrpc_method("shop.specialSauce(Array, String)", validate=True, site=SITE)
def special_sauce(request, ingredients, instructions):  # type: ignore[no-untyped-def]
    """Positional types naming the function's params in order."""
    return {"ingredients": ingredients, "instructions": instructions}


@jsonrpc_method("shop.stock(String, Array) -> Nil", site=SITE)
def stock(request, shelf, items):  # type: ignore[no-untyped-def]
    """Positional types and a Nil result."""
    return None


@jsonrpc_method("shop.trimTails(String)", safe=True, site=SITE)
def trim_tails(request, arg1):  # type: ignore[no-untyped-def]
    """A safe method, called by GET with its params in the query."""
    return arg1[:5]


@jsonrpc_method("shop.add(a=Number, b=Number) -> Number", site=SITE)
def add(request, a, b):  # type: ignore[no-untyped-def]
    """The usual sum."""
    return a + b


def find_selection(request, query, limit):  # type: ignore[no-untyped-def]
    """The README's five equivalent spellings register this function."""
    return {"query": query, "limit": limit}


#: django-json-rpc's README lists these as the same method.
FIND_SELECTION = [
    "shop.findSelection(query=Object, limit=Number)",
    "shop.findSelection(query=dict, limit=int)",
    "shop.findSelection(dict, limit=int)",
    "shop.findSelection(dict, int)",
    "shop.findSelection(dict, int) -> list",
]


@pytest.fixture(autouse=True)
def _forget() -> None:
    ASKED.clear()


@pytest_twisted.async_yield_fixture
async def shop() -> AsyncIterator[Server]:
    """The methods above at C{/json}, beside the test resource's users."""
    async with serving(registry=SITE) as server:
        yield server


async def call(server: Server, method: str, params: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 1}
    if params is not None:
        payload["params"] = params
    answer = await server.post(payload)
    assert isinstance(answer.json, dict)
    return answer.json


def test_bare_names_register_the_function_params() -> None:
    """
    A bare name takes its params from the function: untyped ones are Any,
    annotated ones are typed, defaults make them optional; the result type
    comes from the return annotation.  Nothing is refused at registration.
    """
    hello = SITE.methods["shop.sayHello"]
    assert hello.signature == "shop.sayHello(name=Any) -> Any"
    assert [p.required for p in hello.params] == [True]
    assert SITE.methods["shop.greet"].signature == (
        "shop.greet(name=String, times=Number) -> String"
    )
    assert [p.required for p in SITE.methods["shop.greet"].params] == [False, False]
    assert SITE.methods["shop.register"].signature == (
        "shop.register(username=String, password=String) -> Object"
    )


def test_empty_parens_still_mean_no_params() -> None:
    """
    Only the bare name leaves the params to the function: C{name()} says
    there are none, so a required param left out is still refused.
    """
    with pytest.raises(ValueError, match="leaves out the required param 'name'"):
        make_method(say_hello, "shop.sayHello()")


@pytest.mark.parametrize("text", FIND_SELECTION)
def test_equivalent_signature_spellings(text: str) -> None:
    """JSON types, Python types, mixed and positional spellings agree."""
    method = make_method(find_selection, text)
    assert method.name == "shop.findSelection"
    assert [(p.name, p.type, p.required) for p in method.params] == [
        ("query", "Object", True),
        ("limit", "Number", True),
    ]
    expected = "Array" if text.endswith("list") else "Any"
    assert method.returns == expected


@pytest_twisted.ensureDeferred
async def test_bare_name_with_required_param(shop: Server) -> None:
    """C{s.shop.sayHello('Sam')}, by position and by name; a missing name is -32602."""
    assert (await call(shop, "shop.sayHello", ["Sam"]))["result"] == "Hello Sam"
    answer = await call(shop, "shop.sayHello", {"name": "Sam"})
    assert answer["result"] == "Hello Sam"
    answer = await call(shop, "shop.sayHello", [])
    assert answer["error"]["code"] == -32602
    assert "name" in answer["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_bare_name_types_from_annotations(shop: Server) -> None:
    """Defaults apply; the annotations' types are checked."""
    assert (await call(shop, "shop.greet"))["result"] == "Hello Lester"
    answer = await call(shop, "shop.greet", {"times": 2, "name": "Sam"})
    assert answer["result"] == "Hello Sam Hello Sam"
    answer = await call(shop, "shop.greet", [5])
    assert answer["error"]["code"] == -32602


@pytest_twisted.ensureDeferred
async def test_username_and_password_are_plain_params(shop: Server) -> None:
    """Without authenticated=True, username and password are only params."""
    answer = await call(shop, "shop.register", ["sam", "s3cret"])
    assert answer["result"] == {"username": "sam", "password_length": 6}


@pytest_twisted.ensureDeferred
async def test_authenticated_takes_credentials_first(shop: Server) -> None:
    """
    C{s.shop.secret('ada', 'lovelace', 'test data')}: the first two params
    are proved by the resource's authenticate; wrong ones are 401 and the
    method does not run.
    """
    answer = await call(shop, "shop.secret", ["ada", "lovelace", "test data"])
    assert answer["result"] == {"user": "ada", "sauce": ["authenticated", "test data"]}
    answer = await call(shop, "shop.secret", ["ada", "nope", "test data"])
    assert answer["error"]["code"] == 401
    answer = await call(shop, "shop.secret", ["test data"])
    assert answer["error"]["code"] == 401


@pytest_twisted.ensureDeferred
async def test_authenticated_by_the_method_own_function(shop: Server) -> None:
    """
    C{authenticated=function} proves the params credentials with that
    function, called with username and password by keyword: its users get
    in, the resource's do not, and a refusal keeps the method from running.
    """
    answer = await call(shop, "shop.bake", ["baker", "crumb", 3])
    assert answer["result"] == "BAKER baked 3"
    answer = await call(shop, "shop.bake", {"username": "ada", "password": "lovelace"})
    assert answer["error"]["code"] == 401
    assert ASKED == [("baker", "crumb"), ("ada", "lovelace")]


@pytest_twisted.ensureDeferred
async def test_batch_proves_each_authenticator_once(shop: Server) -> None:
    """
    A batch mixing both authenticators proves each set of credentials once
    per authenticator: the method's own is asked once for four calls.
    """
    calls = [
        {
            "jsonrpc": "2.0",
            "method": "shop.bake",
            "params": ["baker", "crumb", n],
            "id": n,
        }
        for n in range(4)
    ]
    calls.append(
        {
            "jsonrpc": "2.0",
            "method": "shop.secret",
            "params": ["ada", "lovelace", "x"],
            "id": 9,
        }
    )
    answer = await shop.post(calls)
    results = {r["id"]: r.get("result") for r in answer.json}
    assert results[3] == "BAKER baked 3"
    assert results[9] == {"user": "ada", "sauce": ["authenticated", "x"]}
    assert ASKED == [("baker", "crumb")]


@pytest_twisted.ensureDeferred
async def test_validated_signature_types(shop: Server) -> None:
    """Typed params are checked before the call: a wrong type is -32602."""
    assert (await call(shop, "shop.addStrings", ["a", "b"]))["result"] == "ab"
    answer = await call(shop, "shop.addStrings", {"arg1": "a", "arg2": 2})
    assert answer["error"]["code"] == -32602
    answer = await call(shop, "shop.specialSauce", [["salt"], "stir"])
    assert answer["result"] == {"ingredients": ["salt"], "instructions": "stir"}
    answer = await call(shop, "shop.specialSauce", ["salt", "stir"])
    assert answer["error"]["code"] == -32602
    assert (await call(shop, "shop.stock", ["top", [1]]))["result"] is None
    assert (await call(shop, "shop.add", [1, 2.5]))["result"] == 3.5


@pytest_twisted.ensureDeferred
async def test_safe_method_over_get(shop: Server) -> None:
    """C{GET /json/shop.trimTails?arg1=omgnowai}; an unsafe method is refused."""
    answer = await shop.get("/json/shop.trimTails?arg1=omgnowai")
    assert (answer.code, answer.json["result"]) == (200, "omgno")
    answer = await shop.get("/json/shop.add?a=1&b=2")
    assert answer.json["error"]["code"] == -32600


def test_site_is_where_methods_go() -> None:
    """C{site=} names the registry; the default one is left alone."""
    from julytwisted.rpc import default_registry

    assert "shop.sayHello" in SITE.methods
    assert "shop.sayHello" not in default_registry.methods

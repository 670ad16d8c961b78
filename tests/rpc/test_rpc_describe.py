"""
Introspection (C{system.*}, the 1.1 service description, OpenRPC) and the
service browser, over real HTTP.

The browser page in headless Chromium, where axe-core checks it, is in
tests/pages/test_browser_pages.py, in the site's layout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest_twisted
from jsonschema import Draft7Validator
from twisted.web.template import Tag, flattenString, tags

from julytwisted.rpc import Bounds, CallContext, Registry
from tests.htmlcheck import check_page
from tests.rpc.test_rpc import REGISTRY, Server, serving

EVIL = Registry()


@EVIL.method(name="evil.<b>bold</b>", safe=True)
def evil(context: CallContext, text: str = "") -> str:
    """Say <script>alert("x")</script> & more."""
    return text


@pytest_twisted.async_yield_fixture
async def rpc() -> AsyncIterator[Server]:
    """The test registry at C{/json} on a listening site."""
    async with serving() as server:
        yield server


async def result(server: Server, method: str, params: Any = None) -> Any:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 1}
    if params is not None:
        request["params"] = params
    answer = await server.post(request)
    assert "result" in answer.json, answer.json
    return answer.json["result"]


SYSTEM = [
    "rpc.discover",
    "system.describe",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
]


@pytest_twisted.ensureDeferred
async def test_list_methods(rpc: Server) -> None:
    """Every method, sorted, the introspection ones included."""
    names = await result(rpc, "system.listMethods")
    assert names == sorted([*REGISTRY.methods, *SYSTEM])


@pytest_twisted.ensureDeferred
async def test_system_methods_stay_out_of_the_registry(rpc: Server) -> None:
    """The resource's own methods are not added to the application's."""
    assert not set(SYSTEM) & set(REGISTRY.methods)


@pytest_twisted.ensureDeferred
async def test_method_help(rpc: Server) -> None:
    """The docstring; an unknown name is invalid params."""
    assert await result(rpc, "system.methodHelp", ["subtract"]) == (
        "Subtract subtrahend from minuend."
    )
    answer = await rpc.post(
        {"jsonrpc": "2.0", "method": "system.methodHelp", "params": ["no"], "id": 1}
    )
    assert answer.json["error"]["code"] == -32602


@pytest_twisted.ensureDeferred
async def test_method_signature(rpc: Server) -> None:
    """django-json-rpc's signature string."""
    assert await result(rpc, "system.methodSignature", {"name": "subtract"}) == (
        "subtract(minuend=Number, subtrahend=Number) -> Number"
    )
    assert await result(rpc, "system.methodSignature", ["greet"]) == (
        "greet(name=String, punctuation=String) -> String"
    )


@pytest_twisted.ensureDeferred
async def test_introspection_by_get(rpc: Server) -> None:
    """The introspection methods are safe: GET may call them."""
    answer = await rpc.get("/json/system.methodSignature?name=get_data")
    assert answer.json["result"] == "get_data() -> Array"


@pytest_twisted.ensureDeferred
async def test_service_description(rpc: Server) -> None:
    """system.describe: a JSON-RPC 1.1 service description."""
    described = await result(rpc, "system.describe")
    assert described["sdversion"] == "1.0"
    assert described["name"] == "JSON-RPC service"
    assert described["id"] == described["address"] == rpc.endpoint
    procs = {p["name"]: p for p in described["procs"]}
    assert set(procs) == {*REGISTRY.methods, *SYSTEM}
    assert procs["subtract"] == {
        "name": "subtract",
        "summary": "Subtract subtrahend from minuend.",
        "help": "Subtract subtrahend from minuend.",
        "idempotent": True,
        "params": [
            {"name": "minuend", "type": "num"},
            {"name": "subtrahend", "type": "num"},
        ],
        "return": {"type": "num"},
    }
    assert procs["update"]["idempotent"] is False


@pytest_twisted.ensureDeferred
async def test_openrpc_document(rpc: Server) -> None:
    """rpc.discover: an OpenRPC 1.2.6 document of every method."""
    document = await result(rpc, "rpc.discover")
    assert document["openrpc"] == "1.2.6"
    assert set(document["info"]) >= {"title", "version"}
    assert document["servers"][0]["url"] == rpc.endpoint
    methods = {m["name"]: m for m in document["methods"]}
    assert len(methods) == len(document["methods"])
    assert set(methods) == {*REGISTRY.methods, *SYSTEM}
    for method in document["methods"]:
        assert {"name", "summary", "description", "params", "result"} <= set(method)
        for param in method["params"]:
            assert {"name", "required", "schema"} <= set(param)
            Draft7Validator.check_schema(param["schema"])
        assert set(method["result"]) == {"name", "schema"}
        Draft7Validator.check_schema(method["result"]["schema"])
    greet = methods["greet"]
    assert greet["params"] == [
        {"name": "name", "required": True, "schema": {"type": "string"}},
        {"name": "punctuation", "required": False, "schema": {"type": "string"}},
    ]
    assert greet["result"]["schema"] == {"type": "string"}
    assert greet["x-safe"] is True
    assert methods["sum"]["paramStructure"] == "by-position"
    assert methods["echo"]["result"]["schema"] == {}


@pytest_twisted.ensureDeferred
async def test_openrpc_validates_an_example_call(rpc: Server) -> None:
    """The param schemas accept what the method accepts, and refuse the rest."""
    document = await result(rpc, "rpc.discover")
    [subtract] = [m for m in document["methods"] if m["name"] == "subtract"]
    schema = subtract["params"][0]["schema"]
    assert Draft7Validator(schema).is_valid(42)
    assert not Draft7Validator(schema).is_valid("42")


PAGED = Registry()


@PAGED.method("demo.page(offset=Number, size=Number) -> Array", safe=True)
def page(
    context: CallContext,
    offset: Annotated[int, Bounds(0, 10**15 - 1)] = 0,
    size: Annotated[int, Bounds(1, 100)] | None = None,
) -> list[int]:
    """A page of whole numbers."""
    return list(range(offset, offset + (size or 10)))


@pytest_twisted.ensureDeferred
async def test_openrpc_whole_numbers_and_ranges() -> None:
    """
    An C{int} param is an integer in rpc.discover, with the minimum and
    maximum of its Bounds; a call outside them is -32602, with no internal
    error logged.
    """
    async with serving(registry=PAGED) as server:
        document = await result(server, "rpc.discover")
        [method] = [m for m in document["methods"] if m["name"] == "demo.page"]
        assert [p["schema"] for p in method["params"]] == [
            {"type": "integer", "minimum": 0, "maximum": 10**15 - 1},
            {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
        ]
        offset = Draft7Validator(method["params"][0]["schema"])
        assert offset.is_valid(3) and not offset.is_valid(2.5)
        assert not offset.is_valid(10**30)
        for params in ([10**30], [2**63], [1.5], [0, 0]):
            answer = await server.post(
                {"jsonrpc": "2.0", "method": "demo.page", "params": params, "id": 1}
            )
            assert answer.json["error"]["code"] == -32602, params
        assert await result(server, "demo.page", [2, 2]) == [2, 3]


# The browser


def forms(tree: Any) -> dict[str, Any]:
    """@return: the browser's call forms by the method each calls."""
    return {f.get("data-method"): f for f in tree.iter("form")}


@pytest_twisted.ensureDeferred
async def test_browser_lists_every_method(rpc: Server) -> None:
    """
    The page, a document of its own by default, names each method with its
    signature, docs and a form; it is valid HTML with every control
    labelled, and loads nothing but its own script and style sheet.
    """
    answer = await rpc.get("/json/browse/")
    assert answer.code == 200
    assert answer.header("Content-Type") == "text/html; charset=utf-8"
    assert "script-src 'self'" in (answer.header("Content-Security-Policy") or "")
    tree: Any = check_page(answer.body)
    assert set(forms(tree)) == {*REGISTRY.methods, *SYSTEM}
    signatures = [c.text for c in tree.iterfind(".//section/h2/code")]
    assert "subtract(minuend=Number, subtrahend=Number) -> Number" in signatures
    docs = [p.text for p in tree.iterfind(".//pre[@class='doc']")]
    assert "Say hello to name." in docs
    assert [s.get("src") for s in tree.iter("script")] == ["browser.js"]
    assert [s.get("href") for s in tree.iter("link")] == ["browser.css"]
    assert tree.find(".//*[@data-endpoint]").get("data-endpoint") == "../"
    page = answer.body.decode()
    assert "http://" not in page and "https://" not in page


@pytest_twisted.ensureDeferred
async def test_browser_escapes_names_and_docs() -> None:
    """Method names and docstrings are inserted as text, escaped."""
    async with serving(registry=EVIL) as server:
        answer = await server.get("/json/browse/")
    page = answer.body.decode()
    assert "<script>alert" not in page and "<b>bold" not in page
    tree: Any = check_page(answer.body)
    docs = [p.text for p in tree.iterfind(".//pre[@class='doc']")]
    assert 'Say <script>alert("x")</script> & more.' in docs
    assert "evil.<b>bold</b>" in forms(tree)
    assert len(list(tree.iter("script"))) == 1
    assert not list(tree.iter("b"))


def framed(seen: list[tuple[str, Any, Any]]) -> Any:
    """
    A layout as an application hands the resource: its own page around the
    browser, with a header of its own.
    """

    def layout(request: Any, title: str, body: Any, head: Any) -> Any:
        seen.append((title, body, head))
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Content-Security-Policy", b"default-src 'self'")
        page = tags.html(lang="en")(
            tags.head(tags.title(f"{title} - Shop"), head),
            tags.body(
                tags.nav(tags.a("Shop home", href="/")),
                Tag("main")(tags.h1(title), body),
            ),
        )
        d = flattenString(None, page)
        d.addCallback(lambda b: b"<!DOCTYPE html>\n" + b)
        return d

    return layout


@pytest_twisted.ensureDeferred
async def test_browser_in_the_applications_layout() -> None:
    """
    Given a layout, the browser is its body in the application's page,
    with the application's headers, and its script and style sheet in the
    page's head; the files beside it are served as before.
    """
    seen: list[tuple[str, Any, Any]] = []
    async with serving(layout=framed(seen)) as server:
        answer = await server.get("/json/browse/")
        script = await server.get("/json/browse/browser.js")
    assert answer.code == 200
    assert answer.header("Content-Security-Policy") == "default-src 'self'"
    tree: Any = check_page(answer.body)
    assert tree.findtext(".//nav/a") == "Shop home"
    assert tree.findtext("head/title") == "JSON-RPC service browser - Shop"
    assert set(forms(tree)) == {*REGISTRY.methods, *SYSTEM}
    assert [s.get("src") for s in tree.iter("script")] == ["browser.js"]
    assert [title for title, _, _ in seen] == ["JSON-RPC service browser"]
    assert script.code == 200 and b"fetch(" in script.body


@pytest_twisted.ensureDeferred
async def test_browser_files(rpc: Server) -> None:
    """The script and style sheet are served beside the page; nothing else."""
    answer = await rpc.get("/json/browse/browser.js")
    assert answer.header("Content-Type") == "text/javascript; charset=utf-8"
    assert b"fetch(" in answer.body and b"textContent" in answer.body
    assert b"innerHTML" not in answer.body
    answer = await rpc.get("/json/browse/browser.css")
    assert answer.header("Content-Type") == "text/css; charset=utf-8"
    answer = await rpc.get("/json/browse/../../etc/passwd")
    assert answer.code == 404
    answer = await rpc.get("/json/browse/nothing.js")
    assert answer.code == 404


@pytest_twisted.ensureDeferred
async def test_browser_without_slash_redirects(rpc: Server) -> None:
    """/json/browse redirects to /json/browse/, relative to where it is."""
    answer = await rpc.request("GET", "/json/browse", allow_redirects=False)
    assert (answer.code, answer.header("Location")) == (301, "browse/")


@pytest_twisted.ensureDeferred
async def test_browser_is_read_only(rpc: Server) -> None:
    """POST to the browser is 405."""
    answer = await rpc.post({}, path="/json/browse/")
    assert answer.code == 405

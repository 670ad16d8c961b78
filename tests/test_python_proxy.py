"""
clients/python_proxy.py's Deferred L{Proxy} and blocking L{ServiceProxy},
against our real server (a listening Site over a real redis-server), against
servers that misbehave (closed, silent, not JSON-RPC) and against a JSON-RPC
server of another implementation (jsonrpcserver from PyPI).
"""

from __future__ import annotations

import ast
import contextlib
import json
import socket
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.protocols.policies import WrappingFactory
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived
from twisted.web.iweb import IAgent, IRequest, IResponse
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface import implementer

with warnings.catch_warnings():
    # jsonrpcserver 5.0 reads its schema with a deprecated importlib call.
    warnings.simplefilter("ignore", DeprecationWarning)
    from jsonrpcserver import Error, Result, Success, dispatch

from julytwisted.config import Config
from julytwisted.jobs.queue import Queue
from julytwisted.service import build_site
from julytwisted.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "clients"))

from python_proxy import (
    HTTPError,
    JSONRPCError,
    ProtocolError,
    Proxy,
    ProxyError,
    RequestTimeout,
    ServiceProxy,
    TransportError,
    request_object,
)

ADA = {"username": "ada", "password": "correct horse", "email": "ada@example.com"}


@implementer(IAgent)
class RecordingAgent:
    """An agent that records the method and URL of every request it makes."""

    def __init__(self, agent: IAgent) -> None:
        self.agent = agent
        self.requests: list[tuple[bytes, bytes]] = []

    def request(
        self, method: bytes, uri: bytes, headers: Any = None, body: Any = None
    ) -> Deferred[IResponse]:
        self.requests.append((method, uri))
        return self.agent.request(method, uri, headers, body)


@pytest_twisted.async_yield_fixture
async def pool() -> AsyncIterator[HTTPConnectionPool]:
    """A persistent connection pool, closed after the test."""
    p = HTTPConnectionPool(reactor, persistent=True)
    yield p
    await p.closeCachedConnections()


@pytest.fixture
def agent(pool: HTTPConnectionPool) -> RecordingAgent:
    return RecordingAgent(Agent(reactor, pool=pool))


def proxy_on(url: str, agent: RecordingAgent, **options: Any) -> Proxy:
    """A proxy sending through C{agent}: treq_client passed in."""
    return Proxy(url, treq_client=HTTPClient(agent), **options)


@pytest.fixture
def json_url(server: str) -> str:
    return server + "/json/"


def listen(site: Any, port: int = 0) -> IListeningPort:
    return reactor.listenTCP(port, site, interface="127.0.0.1")


# The module


def test_all_lists_every_public_name() -> None:
    """
    C{__all__} names every public name the client defines, and nothing
    else: what C{from python_proxy import *} gives a project that copied it.
    """
    import python_proxy

    tree = ast.parse(Path(python_proxy.__file__).read_text())
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    public = {name for name in defined if not name.startswith("_")}
    assert sorted(python_proxy.__all__) == sorted(public)


# Calls, params and envelopes


def test_request_objects_of_each_version() -> None:
    """Each version's envelope; 1.0 notifications carry a null id."""
    assert request_object("2.0", "a.b", [1], {}, 7) == {
        "jsonrpc": "2.0",
        "method": "a.b",
        "params": [1],
        "id": 7,
    }
    assert request_object("1.1", "a.b", [], {"x": 1}, 7) == {
        "version": "1.1",
        "method": "a.b",
        "params": {"x": 1},
        "id": 7,
    }
    assert request_object("1.0", "a.b", [], {}, 7) == {
        "method": "a.b",
        "params": [],
        "id": 7,
    }
    assert request_object("1.0", "a", [], {}, notify=True)["id"] is None
    assert "id" not in request_object("2.0", "a", [], {}, notify=True)


def test_params_by_position_or_by_name() -> None:
    """Mixing positional and named params, or naming them in 1.0, is a TypeError."""
    proxy = Proxy("http://127.0.0.1:9/json/")
    with pytest.raises(TypeError):
        proxy.julython.player("ada", game="x")
    with pytest.raises(TypeError):
        Proxy("http://127.0.0.1:9/json/", version="1.0").julython.player(username="a")
    with pytest.raises(ValueError):
        Proxy("127.0.0.1:9/json/")
    with pytest.raises(ValueError):
        Proxy("http://127.0.0.1:9/json/", version="3.0")


@pytest_twisted.ensureDeferred
async def test_positional_and_named_params(
    json_url: str, agent: RecordingAgent
) -> None:
    """Attribute access names the method; params go by position or by name."""
    proxy = proxy_on(json_url, agent)
    ada = await proxy.julython.signup(**ADA)
    assert ada["username"] == "ada"
    assert (await proxy.julython.player("ada"))["username"] == "ada"
    assert await proxy.julython.leaders(board="people", limit=5) == []
    assert (await proxy.call("julython.player", username="ada"))["points"] == 0
    assert (await proxy["julython"].player("ada"))["username"] == "ada"
    assert {method for method, _ in agent.requests} == {b"POST"}


@pytest.mark.parametrize("version", ["1.0", "1.1", "2.0"])
@pytest_twisted.ensureDeferred
async def test_each_version(json_url: str, agent: RecordingAgent, version: str) -> None:
    """Results and error objects (code, message, data) in every version."""
    await proxy_on(json_url, agent).julython.signup(**ADA)
    proxy = proxy_on(json_url, agent, version=version)
    assert (await proxy.julython.player("ada"))["username"] == "ada"
    raw = await proxy.raw_call("julython.player", ["ada"])
    marker = {"2.0": ("jsonrpc", "2.0"), "1.1": ("version", "1.1")}.get(version)
    assert marker is None or raw[marker[0]] == marker[1]
    assert raw["error"] is None and raw["id"] is not None
    with pytest.raises(JSONRPCError) as caught:
        await proxy.julython.player("nobody")
    assert caught.value.code == 404 and caught.value.data == {"type": "NotFound"}
    assert caught.value.message == "no player 'nobody'"


@pytest_twisted.ensureDeferred
async def test_jsonrpc_errors(json_url: str) -> None:
    """Bad params and unknown methods errback with their codes."""
    proxy = Proxy(json_url)
    try:
        with pytest.raises(JSONRPCError) as caught:
            await proxy.julython.leaders(board="cats")
        assert caught.value.code == -32602 and "board" in caught.value.message
        with pytest.raises(JSONRPCError) as caught:
            await proxy.julython.noSuchMethod()
        assert caught.value.code == -32601
        assert isinstance(caught.value, ProxyError)
    finally:
        await proxy.close()


# Batches and notifications


@pytest_twisted.ensureDeferred
async def test_batch_mixes_results_and_errors(
    json_url: str, agent: RecordingAgent
) -> None:
    """One HTTP request; each call's Deferred gets its own result or error."""
    proxy = proxy_on(json_url, agent)
    await proxy.julython.signup(**ADA)
    before = len(agent.requests)
    batch = proxy.batch()
    games = batch.julython.games()
    ada = batch.julython.player("ada")
    nobody = batch.call("julython.player", username="nobody")
    missing = batch.julython.noSuchMethod()
    quiet = batch.notify.julython.games()
    outcomes = await batch.send()
    assert len(agent.requests) == before + 1
    assert any(g["current"] for g in await games)
    assert (await ada)["username"] == "ada"
    with pytest.raises(JSONRPCError) as caught:
        await nobody
    assert caught.value.code == 404
    with pytest.raises(JSONRPCError) as caught:
        await missing
    assert caught.value.code == -32601
    assert await quiet is None
    assert outcomes[1]["username"] == "ada" and outcomes[4] is None
    assert isinstance(outcomes[2], JSONRPCError)
    with pytest.raises(RuntimeError):
        batch.julython.games()
    assert await proxy.batch().send() == []


@pytest_twisted.ensureDeferred
async def test_batch_of_one_call(json_url: str) -> None:
    """
    A batch of one call works, though our server answers it with a lone
    response object, not an array of one, when the method answers late.
    """
    proxy = Proxy(json_url)
    batch = proxy.batch()
    games = batch.julython.games()
    await batch.send()
    assert any(g["current"] for g in await games)
    await proxy.close()


@pytest_twisted.ensureDeferred
async def test_batch_of_notifications_only(json_url: str) -> None:
    """A batch of notifications is answered 204; each Deferred fires None."""
    proxy = Proxy(json_url)
    batch = proxy.batch()
    ds = [batch.notify.julython.games(), batch.notify["julython.games"]()]
    assert await batch.send() == [None, None]
    assert [await d for d in ds] == [None, None]
    await proxy.close()


@pytest.mark.parametrize("version", ["1.0", "2.0"])
@pytest_twisted.ensureDeferred
async def test_notification_runs_and_fires_none(
    json_url: str, agent: RecordingAgent, version: str
) -> None:
    """A notification fires None on the server's 204, and the method ran."""
    proxy = proxy_on(json_url, agent, version=version)
    args = list(ADA.values())
    assert await proxy.notify.julython.signup(*args) is None
    assert await proxy.notify("julython.games") is None
    assert (await proxy.julython.player("ada"))["username"] == "ada"


# GET


@pytest_twisted.ensureDeferred
async def test_get_for_safe_methods(json_url: str, agent: RecordingAgent) -> None:
    """proxy.get.<method> sends GET /json/<method>?params; unsafe ones refuse."""
    proxy = proxy_on(json_url, agent)
    await proxy.julython.signup(**ADA)
    assert (await proxy.get.julython.player(username="ada"))["username"] == "ada"
    assert (await proxy.get.julython.player("ada"))["username"] == "ada"
    board = await proxy.get.julython.leaders(board="people", limit=3)
    assert board == [] or board[0]["username"] == "ada"
    gets = [uri for method, uri in agent.requests if method == b"GET"]
    assert gets[0].endswith(b"/json/julython.player?username=ada")
    assert gets[1].endswith(b"/json/julython.player?0=ada")
    with pytest.raises(JSONRPCError) as caught:
        await proxy.get.julython.signup(**ADA)
    assert caught.value.code == -32600
    with pytest.raises(TypeError):
        proxy.get.julython.leaders(board={"not": "a string"})


# Auth


@pytest_twisted.ensureDeferred
async def test_basic_auth(json_url: str) -> None:
    """(user, password) signs in with Basic; a wrong password is a 401 error."""
    await Proxy(json_url).julython.signup(**ADA)
    player = Proxy(json_url, auth=("ada", "correct horse"))
    assert (await player.julython.whoami())["emails"] == ["ada@example.com"]
    with pytest.raises(JSONRPCError) as caught:
        await Proxy(json_url, auth=("ada", "wrong horse")).julython.whoami()
    assert caught.value.code == 401
    with pytest.raises(JSONRPCError) as caught:
        await player.admin.approveTeam("owls")
    assert caught.value.code == 403
    await player.close()


@pytest_twisted.ensureDeferred
async def test_bearer_admin_token(json_url: str) -> None:
    """A string is a Bearer token: the admin's may use admin.* methods."""
    admin = Proxy(json_url, auth="admin-secret")
    bob = await admin.admin.createPlayer(username="bob", team="Owls")
    assert bob["team"] == "owls"
    with pytest.raises(JSONRPCError) as caught:
        await Proxy(json_url, auth="made-up").admin.createPlayer(username="eve")
    assert caught.value.code == 401
    await admin.close()


# Failures of every kind


@pytest_twisted.ensureDeferred
async def test_http_error(server: str) -> None:
    """A non-2xx answer without a JSON-RPC body is an HTTPError."""
    proxy = Proxy(server + "/nowhere/")
    with pytest.raises(HTTPError) as caught:
        await proxy.julython.games()
    assert caught.value.status in (404, 405)
    assert isinstance(caught.value, ProxyError)
    await proxy.close()


@pytest_twisted.ensureDeferred
async def test_connection_refused() -> None:
    """A closed port is a TransportError wrapping the refusal."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        await Proxy(f"http://127.0.0.1:{port}/json/").julython.games()
    assert isinstance(caught.value.reason, ConnectionRefusedError)
    assert isinstance(caught.value, ConnectionError)
    assert "connection refused" in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_timeout_against_a_silent_server(pool: HTTPConnectionPool) -> None:
    """A server that accepts and never answers: RequestTimeout, on time."""
    silent = listen(Factory.forProtocol(Protocol))
    url = f"http://127.0.0.1:{silent.getHost().port}/json/"
    proxy = Proxy(url, timeout=0.3, treq_client=HTTPClient(Agent(reactor, pool=pool)))
    started = reactor.seconds()
    try:
        with pytest.raises(RequestTimeout) as caught:
            await proxy.julython.games()
    finally:
        await silent.stopListening()
    assert 0.25 < reactor.seconds() - started < 2
    assert isinstance(caught.value, TimeoutError | TransportError)


class Page(Resource):
    """A plain HTML page, for GET and POST alike."""

    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", b"text/html")
        return b"<html><p>hello</p></html>"


@pytest_twisted.ensureDeferred
async def test_not_json_rpc(pool: HTTPConnectionPool) -> None:
    """A plain web page answering 200 is a ProtocolError."""
    root = Resource()
    root.putChild(b"json", Page())
    port = listen(Site(root))
    client = HTTPClient(Agent(reactor, pool=pool))
    proxy = Proxy(f"http://127.0.0.1:{port.getHost().port}/json", treq_client=client)
    try:
        for call in (proxy.julython.games, proxy.get.julython.games):
            with pytest.raises(ProtocolError) as caught:
                await call()
            assert b"hello" in caught.value.body
        assert isinstance(caught.value, ValueError)
    finally:
        await port.stopListening()


class Fixed(Resource):
    """Answers every POST with the same JSON."""

    isLeaf = True

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def render_POST(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps(self.answer).encode()


@pytest.mark.parametrize(
    "answer",
    [
        {"jsonrpc": "2.0", "result": 1, "id": "someone else's"},
        [{"jsonrpc": "2.0", "result": 1, "id": 1}],
        {"jsonrpc": "2.0", "id": 1, "answer": 1},
    ],
)
@pytest_twisted.ensureDeferred
async def test_answers_that_do_not_fit(
    pool: HTTPConnectionPool, answer: object
) -> None:
    """Another call's id, an array for one call, no result: ProtocolError."""
    port = listen(Site(Fixed(answer)))
    client = HTTPClient(Agent(reactor, pool=pool))
    proxy = Proxy(f"http://127.0.0.1:{port.getHost().port}/", treq_client=client)
    try:
        with pytest.raises(ProtocolError):
            await proxy.a.b()
    finally:
        await port.stopListening()


# Restarts and stale pooled connections


class Counting(WrappingFactory):
    """Tracks its connections and counts those it accepted."""

    accepted = 0

    def buildProtocol(self, addr: Any) -> Any:
        self.accepted += 1
        return super().buildProtocol(addr)


class Restartable:
    """Our Site on a fixed port, stopped and started like a process."""

    def __init__(self, store: Store, config: Config, queue: Queue) -> None:
        self.store, self.config, self.queue = store, config, queue
        self.factory = Counting(build_site(store, config, queue))
        self.port = listen(self.factory)
        self.number = self.port.getHost().port
        self.url = f"http://127.0.0.1:{self.number}/json/"

    async def stop(self) -> None:
        """Stop listening and close every connection, as an exiting process does."""
        await self.port.stopListening()
        for protocol in list(self.factory.protocols):
            protocol.transport.loseConnection()
        while self.factory.protocols:
            await deferLater(reactor, 0.001)

    def start(self) -> None:
        self.factory = Counting(build_site(self.store, self.config, self.queue))
        self.port = listen(self.factory, self.number)


@pytest.fixture
def restartable(store: Store, config: Config, queue: Queue) -> Iterator[Restartable]:
    server = Restartable(store, config, queue)
    yield server
    server.port.stopListening()


@pytest_twisted.ensureDeferred
async def test_calls_after_a_restart(restartable: Restartable) -> None:
    """
    The same Proxy keeps working across a server stop and start: its pooled
    connection, closed by the server, is dropped before a call is sent on it.
    """
    proxy = Proxy(restartable.url)
    await proxy.julython.signup(**ADA)
    await restartable.stop()
    restartable.start()
    assert (await proxy.julython.player("ada"))["username"] == "ada"
    await restartable.stop()
    with pytest.raises(TransportError) as caught:
        await proxy.julython.player("ada")
    assert isinstance(caught.value.reason, ConnectionRefusedError)
    restartable.start()
    assert (await proxy.julython.player("ada"))["username"] == "ada"
    assert (await proxy.get.julython.player("ada"))["username"] == "ada"
    await proxy.close()


@pytest_twisted.ensureDeferred
async def test_closed_pooled_connection_is_not_used(restartable: Restartable) -> None:
    """
    A call made the moment the server's close reaches us, before the reactor
    has read it, goes out on a new connection: the idle one is checked first.
    """
    proxy = Proxy(restartable.url)
    await proxy.julython.signup(**ADA)
    for protocol in list(restartable.factory.protocols):
        # Sends the FIN now, not on the reactor's next turn.
        protocol.transport.getHandle().shutdown(socket.SHUT_WR)
    assert (await proxy.julython.player("ada"))["username"] == "ada"
    assert restartable.factory.accepted == 2
    await proxy.close()


@pytest_twisted.ensureDeferred
async def test_connection_lost_in_flight(
    restartable: Restartable, pool: HTTPConnectionPool, agent: RecordingAgent
) -> None:
    """
    A GET whose pooled connection the server closes as it is sent is sent
    again on a new connection; a POST, which may have arrived, is not.
    """
    pool.retryAutomatically = False  # as in the pool a Proxy makes itself
    proxy = proxy_on(restartable.url, agent)
    await proxy.julython.signup(**ADA)
    for protocol in list(restartable.factory.protocols):
        protocol.transport.loseConnection()
    ada = await proxy.get.julython.player("ada")
    assert ada["username"] == "ada" and len(agent.requests) == 3
    for protocol in list(restartable.factory.protocols):
        protocol.transport.loseConnection()
    with pytest.raises(TransportError) as caught:
        await proxy.julython.player("ada")
    assert isinstance(caught.value.reason, ResponseNeverReceived)
    assert (await proxy.julython.player("ada"))["username"] == "ada"


# Another server implementation


def add(a: int, b: int) -> Result:
    return Success(a + b)


def fail() -> Result:
    return Error(7, "no luck", {"why": "testing"})


class PeerResource(Resource):
    """jsonrpcserver's dispatch behind a twisted.web resource."""

    isLeaf = True

    def render_POST(self, request: IRequest) -> bytes:
        text = dispatch(
            request.content.read().decode(), methods={"add": add, "fail": fail}
        )
        if not text:
            request.setResponseCode(204)
            return b""
        request.setHeader(b"Content-Type", b"application/json")
        return text.encode()


@pytest_twisted.ensureDeferred
async def test_another_server_implementation(pool: HTTPConnectionPool) -> None:
    """The client speaks to jsonrpcserver as to ours: a call, a batch, an error."""
    port = listen(Site(PeerResource()))
    client = HTTPClient(Agent(reactor, pool=pool))
    proxy = Proxy(f"http://127.0.0.1:{port.getHost().port}/", treq_client=client)
    try:
        assert await proxy.add(2, 3) == 5
        assert await proxy.add(a=2, b=40) == 42
        with pytest.raises(JSONRPCError) as caught:
            await proxy.fail()
        assert (caught.value.code, caught.value.message) == (7, "no luck")
        assert caught.value.data == {"why": "testing"}
        batch = proxy.batch()
        sums = [batch.add(1, n) for n in range(3)]
        failed, missing = batch.fail(), batch.nope()
        note = batch.notify.add(1, 1)
        await batch.send()
        assert [await d for d in sums] == [1, 2, 3] and await note is None
        for d, code in ((failed, 7), (missing, -32601)):
            with pytest.raises(JSONRPCError) as caught:
                await d
            assert caught.value.code == code
        assert await proxy.notify.add(1, 2) is None
    finally:
        await port.stopListening()


# The blocking ServiceProxy, from a thread


@pytest.fixture(scope="module")
def reactor_run_by_pytest() -> None:
    """crochet must use the reactor pytest-twisted runs, not start its own."""
    import crochet

    with contextlib.suppress(RuntimeError):  # done by an earlier module
        crochet.no_setup()


#: crochet 2.1.1 still calls threading.Event.isSet().
CROCHET_WARNS = pytest.mark.filterwarnings("ignore:isSet:DeprecationWarning")


@CROCHET_WARNS
@pytest_twisted.ensureDeferred
async def test_service_proxy_from_a_thread(
    json_url: str, reactor_run_by_pytest: None
) -> None:
    """django-json-rpc's shape: whole response objects, errors inside them."""

    def script() -> list[Any]:
        s = ServiceProxy(json_url)
        answers = [s.julython.signup(**ADA), s.julython.player("ada")]
        answers.append(s.julython.player("nobody"))
        answers.append(s.get.julython.player(username="ada"))
        answers.append(s.notify.julython.games())
        admin = ServiceProxy(json_url, version="1.0", auth="admin-secret")
        answers.append(admin.admin.approveTeam("nothing"))
        s.close()
        return answers

    answers = await deferToThread(script)
    signed, ada, nobody, by_get, note, approval = answers
    assert ada["result"]["username"] == "ada" and ada["error"] is None
    assert signed["id"] != ada["id"] and set(ada) >= {"result", "error", "id"}
    assert nobody["result"] is None and nobody["error"]["code"] == 404
    assert by_get["result"]["username"] == "ada" and note is None
    assert approval["error"]["code"] == 404 and "jsonrpc" not in approval


@CROCHET_WARNS
@pytest_twisted.ensureDeferred
async def test_service_proxy_raises_transport_errors(
    reactor_run_by_pytest: None,
) -> None:
    """A ServiceProxy raises when no answer comes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def script() -> None:
        ServiceProxy(f"http://127.0.0.1:{port}/json/").julython.games()

    with pytest.raises(TransportError):
        await deferToThread(script)

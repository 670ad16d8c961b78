"""
Fixtures for the code hosts' tests: a stub of each host listening on
127.0.0.1 (a fresh one per test, with julytwisted registered as an OAuth
app), and the HTTP client julytwisted talks to them with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.interfaces import IListeningPort
from twisted.web.client import Agent, HTTPConnectionPool

from julytwisted.hosts import Http, OAuthApp
from tests.hosts.stub import StubHost, listen
from tests.hosts.stub_bitbucket import BitbucketStub
from tests.hosts.stub_bitbucket_server import BitbucketServerStub
from tests.hosts.stub_github import GitHubStub
from tests.hosts.stub_gitlab import GitLabStub

#: julytwisted as each stub knows it.
APP = OAuthApp("julython-client", "julython-secret")
#: The callback julytwisted registers (nothing listens there: the tests
#: read the redirect, as the browser would follow it).
CALLBACK = "http://julython.test/login/callback"


def _serve(stub: StubHost) -> IListeningPort:
    port = listen(reactor, stub)
    stub.register_app(APP.client_id, APP.client_secret, CALLBACK)
    return port


@pytest_twisted.async_yield_fixture
async def github() -> AsyncIterator[GitHubStub]:
    """A GitHub Enterprise stub: its API at C{/api/v3}."""
    stub = GitHubStub(reactor.seconds)
    port = _serve(stub)
    yield stub
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def gitlab() -> AsyncIterator[GitLabStub]:
    """A self-managed GitLab stub: its API at C{/api/v4}."""
    stub = GitLabStub(reactor.seconds)
    port = _serve(stub)
    yield stub
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def bitbucket() -> AsyncIterator[BitbucketStub]:
    """A Bitbucket Cloud stub: its API at C{/2.0}."""
    stub = BitbucketStub(reactor.seconds)
    port = _serve(stub)
    yield stub
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def bitbucket_server() -> AsyncIterator[BitbucketServerStub]:
    """A Bitbucket Data Center stub: its API at C{/rest/api/1.0}."""
    stub = BitbucketServerStub(reactor.seconds)
    port = listen(reactor, stub)
    yield stub
    await port.stopListening()


@pytest.fixture
def http() -> Http:
    """julytwisted's HTTP client: treq's, without persistent connections."""
    pool = HTTPConnectionPool(reactor, persistent=False)
    return Http(HTTPClient(Agent(reactor, pool=pool)), reactor, timeout=5.0)

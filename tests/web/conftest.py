"""
The fixtures of the Bitbucket Data Center tests: its stub, listening, with
one repository; the configuration naming it; a worker running its job; and
Sites built from that configuration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor

from julytwisted.auth.data_center import DataCenterCommitReader
from julytwisted.auth.host_tokens import TokenBox
from julytwisted.config import Config
from julytwisted.jobs import build_jobs
from julytwisted.jobs.product import register_data_center_jobs
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import WorkerService
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.hosts.stub import Commit, StubRepository, listen
from tests.hosts.stub_bitbucket_server import BitbucketServerStub
from tests.web.data_center import HISTORY, SESSION_SECRET, host_client


@pytest_twisted.async_yield_fixture
async def server_host() -> AsyncIterator[BitbucketServerStub]:
    """A Data Center with one repository of six commits made in July."""
    stub = BitbucketServerStub(reactor.seconds)
    port = listen(reactor, stub)
    stub.add_repository(
        StubRepository(
            84,
            "ADA/engine",
            commits=[
                Commit(HISTORY[i], f"step {i}", "Ada", "ada@example.com")
                for i in range(6)
            ],
        )
    )
    yield stub
    await port.stopListening()


@pytest.fixture
def dc_config(config: Config, server_host: BitbucketServerStub) -> Config:
    return attrs.evolve(
        config,
        open_repositories=False,
        session_secret=SESSION_SECRET,
        code_hosts={"bitbucket-server": server_host.host},
    )


@pytest_twisted.async_yield_fixture
async def worker(
    store: Store,
    queue: Queue,
    redis: RedisService,
    dc_config: Config,
    server_host: BitbucketServerStub,
) -> AsyncIterator[None]:
    """A job worker with the Data Center job, reading from the stub."""
    jobs = build_jobs(store, treq.post)
    reader = DataCenterCommitReader(
        store, TokenBox(SESSION_SECRET.encode()), host_client(), server_host.host
    )

    register_data_center_jobs(jobs, store, reader)
    service = WorkerService(queue, redis.dedicated_client(), jobs, reactor, poll=0.1)
    service.startService()
    yield None
    await service.stopService()


@pytest.fixture
def site(server_with: Callable[[Config], str], dc_config: Config) -> Callable[..., str]:
    def start(open_repositories: bool = False, secret: str | None = None) -> str:
        changed = attrs.evolve(
            dc_config, open_repositories=open_repositories, webhook_secret=secret
        )
        return server_with(changed)

    return start

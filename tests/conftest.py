"""
Fixtures, one per real component: a redis-server on a private Unix socket,
the product's Redis client on it, the store, the password hasher's pool, and
a Site listening on 127.0.0.1.  Nothing is faked but the clock the store
reads the time from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
from hypothesis import settings
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.logger import LogLevel, globalLogPublisher

from julytwisted.auth.hashing import PasswordHasher
from julytwisted.config import Config, MailRelay, RedisAddress
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import WorkerService
from julytwisted.redis_service import RedisService, find_redis_server
from julytwisted.store import Store
from tests.mailboxes import SMTP, start_smtp

# The suite is repeatable: hypothesis draws the same examples on every run,
# so that a change, not a draw, turns CI red.  HYPOTHESIS_PROFILE=explore
# draws new ones each run, to look for what the fixed draws miss.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

#: The test files that take minutes: run first, so that the other worker
#: works through the rest meanwhile instead of waiting on them at the end.
LONG_FILES = (
    "tests/live/test_live_conformance.py",
    "tests/store/test_store_machine.py",
    "tests/web/test_schemathesis.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of L{LONG_FILES} first, in their order."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONG_FILES.index(path) if path in LONG_FILES else len(LONG_FILES)

    items.sort(key=rank)


#: The store's "now" in the tests: the middle of Julython 2026.
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def start_redis_server(directory: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """
    Start a throwaway redis-server on a Unix socket under C{directory}.

    @return: the process and its socket path, once it answers.
    """
    socket = directory / "redis.sock"
    process = subprocess.Popen(
        [
            find_redis_server(),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)
    return process, socket


@pytest.fixture(scope="session")
def redis_socket() -> Iterator[Path]:
    """A real redis-server for the whole test session, on a private socket."""
    directory = Path(tempfile.mkdtemp(prefix="julython-redis-"))
    process, socket = start_redis_server(directory)
    yield socket
    process.terminate()
    process.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


@pytest_twisted.async_yield_fixture
async def redis(redis_socket: Path, tmp_path: Path) -> AsyncIterator[RedisService]:
    """The product's Redis service on the session's server, emptied first."""
    service = RedisService(
        reactor, RedisAddress(None, None, str(redis_socket), 0, None), tmp_path
    )
    service.startService()
    await service.client.execute("FLUSHALL")
    yield service
    await service.stopService()


@pytest.fixture
def clock() -> Clock:
    """The clock the store reads the time from, set to L{NOW}."""
    c = Clock()
    c.advance(NOW.timestamp())
    return c


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """
    A configuration with an admin token and no webhook secret, for an open
    event (C{open_repositories=True}): the tests that post webhooks for
    repositories nobody added rely on their being accepted, as before
    repositories were added.  The tests of added repositories turn it off.
    """
    return Config(data_dir=tmp_path, admin_token="admin-secret", open_repositories=True)


@pytest.fixture
def store(redis: RedisService, clock: Clock, config: Config) -> Store:
    """The store over the real Redis."""
    return Store(redis.client, clock, config.games)


@pytest.fixture
def queue(redis: RedisService) -> Queue:
    """The job queue on the real Redis."""
    return Queue(redis.client, reactor)


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    """The password hasher with its own threads, as a node runs it."""
    service = PasswordHasher(reactor)
    service.startService()
    yield service
    service.stopService()


@pytest_twisted.async_yield_fixture
async def server(
    store: Store,
    config: Config,
    queue: Queue,
    redis: RedisService,
    clock: Clock,
    hasher: PasswordHasher,
) -> AsyncIterator[str]:
    """
    A real Site listening on 127.0.0.1, with a job worker running beside it
    as in every node; yields its base URL.  Its pages, sessions and cached
    board reads go by the store's L{Clock}; its passwords go to C{hasher}.
    """
    import treq

    from julytwisted.jobs import build_jobs
    from julytwisted.service import build_site

    worker = WorkerService(
        queue,
        redis.dedicated_client(),
        build_jobs(store, treq.post),
        reactor,
        poll=0.2,
    )
    worker.startService()
    site = build_site(store, config, queue, hasher, clock=clock)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()
    await worker.stopService()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SMTP]:
    """A real SMTP server (aiosmtpd in its own process) delivering to a Maildir."""
    yield from start_smtp(tmp_path)


@attrs.frozen
class MailSite:
    """A listening Site that mails, and the SMTP server its mail goes to."""

    url: str
    smtp: SMTP


@pytest_twisted.async_yield_fixture
async def mail_server(
    store: Store,
    config: Config,
    queue: Queue,
    redis: RedisService,
    clock: Clock,
    smtp: SMTP,
) -> AsyncIterator[MailSite]:
    """
    C{server}'s Site and worker, with C{--smtp} naming the real SMTP server:
    the links mailed point at the Site, signed and expiring by the store's
    L{Clock}.
    """
    import treq

    from julytwisted.jobs import build_jobs
    from julytwisted.service import build_mailer, build_site

    mailing = attrs.evolve(
        config,
        smtp=MailRelay("127.0.0.1", smtp.port),
        mail_from="Julython <noreply@julython.test>",
    )
    site = build_site(store, mailing, queue, clock=clock)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}"
    mailer = build_mailer(store, attrs.evolve(mailing, public_url=url), reactor, clock)
    worker = WorkerService(
        queue,
        redis.dedicated_client(),
        build_jobs(store, treq.post, mailer),
        reactor,
        poll=0.2,
    )
    worker.startService()
    yield MailSite(url, smtp)
    await port.stopListening()
    await worker.stopService()


@pytest_twisted.async_yield_fixture
async def server_with(
    store: Store, queue: Queue
) -> AsyncIterator[Callable[[Config], str]]:
    """
    Starts real Sites like C{server}'s (without a worker) but built from the
    configuration it is given; returns each one's base URL.
    """
    from julytwisted.service import build_site

    ports: list[Any] = []

    def start(config: Config) -> str:
        port = reactor.listenTCP(
            0, build_site(store, config, queue), interface="127.0.0.1"
        )
        ports.append(port)
        return f"http://127.0.0.1:{port.getHost().port}"

    yield start
    for port in ports:
        await port.stopListening()


@pytest_twisted.async_yield_fixture
async def live_server(
    store: Store, config: Config, queue: Queue, redis: RedisService
) -> AsyncIterator[tuple[str, Any]]:
    """
    A real Site with the live feed at /live and its bridge subscribed to the
    real Redis; yields the base URL and the bridge, once it is caught up.
    """
    from julytwisted.live import build_live
    from julytwisted.service import build_limiter, build_site

    limiter = build_limiter(store, config)
    bridge, live = build_live(store, redis.subscriber, config.live, reactor, limiter)
    bridge.startService()
    site = build_site(store, config, queue, live=live, limiter=limiter)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    deadline = time.monotonic() + 10
    while not bridge.live and time.monotonic() < deadline:
        await deferLater(reactor, 0.02, lambda: None)
    yield f"http://127.0.0.1:{port.getHost().port}", bridge
    await port.stopListening()
    bridge.stopService()


@pytest_twisted.async_yield_fixture
async def server_without_redis(
    config: Config, clock: Clock, tmp_path: Path
) -> AsyncIterator[str]:
    """A real Site whose Redis never answers (no server on its socket)."""
    from julytwisted.service import build_site

    dead = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    dead.client.timeout = 0.5
    dead.startService()
    site = build_site(Store(dead.client, clock), config, Queue(dead.client, reactor))
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()
    await dead.stopService()


@pytest.fixture(autouse=True)
def no_logged_errors(request: pytest.FixtureRequest) -> Iterator[list[dict[str, Any]]]:
    """
    Fail a test that logs an error or a failure, as trial would; a test that
    expects some takes this fixture and empties the list.
    """
    errors: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        level = event.get("log_level")
        if "log_failure" in event or level in (LogLevel.error, LogLevel.critical):
            errors.append(event)

    globalLogPublisher.addObserver(observe)
    yield errors
    globalLogPublisher.removeObserver(observe)
    if errors:
        from twisted.logger import formatEvent

        shown = "; ".join(formatEvent(e) for e in errors)
        pytest.fail(f"errors were logged: {shown}")


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """
    Headless Chromium (Debian's chromium and chromium-driver) driven by
    Selenium.  Missing, it skips the test, unless JULYTHON_REQUIRE_BROWSER is
    set, as .ci/run sets it, and then it fails.  Drive it from a thread
    (deferToThread): its calls block, and the reactor must keep serving.
    """
    yield from chromium()


@pytest.fixture
def other_browser() -> Iterator[Any]:
    """
    A second headless Chromium beside L{browser}, with cookies of its own:
    a second player, whose pages stay open while the first acts.
    """
    yield from chromium()


def chromium() -> Iterator[Any]:
    """A headless Chromium driver, quit after use (see L{browser})."""
    import os

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "headless Chromium needs: apt-get install chromium chromium-driver"
        if os.environ.get("JULYTHON_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()

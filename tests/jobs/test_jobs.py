"""
The product's jobs run by a real worker: outgoing notifications to a real
local HTTP receiver, retried while it fails.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from julytwisted.game import CommitEvent
from julytwisted.game.hooks import DataCenterFetch
from julytwisted.jobs.product import (
    build_jobs,
    notification,
    queue_adoption,
    queue_recount,
    register_data_center_jobs,
)
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import Backoff, WorkerService
from julytwisted.models import Job
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.jobs.test_queue import settle

EVENT = {
    "project": {"name": "engine", "url": "https://github.com/ada/engine"},
    "commits": [{"hash": "ab" * 20, "message": "<b>fix</b>", "username": "ada"}],
}


class Receiver(Resource):
    """An incoming webhook that records what it gets and answers C{codes} in turn."""

    isLeaf = True

    def __init__(self, *codes: int) -> None:
        super().__init__()
        self.codes = list(codes)
        self.received: list[Any] = []

    def render_POST(self, request: Request) -> bytes:
        self.received.append(json.loads(request.content.read()))
        request.setResponseCode(
            self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        )
        return b"ok"


@pytest_twisted.async_yield_fixture
async def worker(
    redis: RedisService, store: Store, queue: Queue
) -> AsyncIterator[WorkerService]:
    w = WorkerService(
        queue,
        redis.dedicated_client(),
        build_jobs(store, treq.post),
        reactor,
        backoff=Backoff(base=0.05, cap=0.1),
        poll=0.2,
    )
    w.startService()
    yield w
    await w.stopService()


async def listening(resource: Resource) -> tuple[str, Any]:
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
    return f"http://127.0.0.1:{port.getHost().port}/hook", port


def test_every_job_named_once(store: Store) -> None:
    """
    The registry runs exactly the jobs L{Job} names: nothing enqueued by
    name can miss its function, and no function waits for a name nobody
    spells (the unused approve_team job is gone).
    """
    jobs = build_jobs(store, treq.post)

    async def no_commits(fetch: DataCenterFetch) -> tuple[CommitEvent, ...]:
        return ()

    register_data_center_jobs(jobs, store, no_commits)
    assert set(jobs.functions) == set(Job)


@pytest_twisted.ensureDeferred
async def test_typed_enqueueing_matches_the_jobs(
    worker: WorkerService, queue: Queue, store: Store
) -> None:
    """Each typed helper queues a job its function accepts: it runs to done."""
    ids = [
        await queue_adoption(queue, "nobody@example.com", "nobody"),
        await queue_recount(queue, store.game().slug),
    ]
    for job_id in ids:
        status = await settle(queue, job_id)
        assert status.state == "done", status


def test_notification_speaks_discord_and_slack() -> None:
    """The message carries Discord's content and Slack's text, the same words."""
    message = notification(EVENT)
    assert message["content"] == message["text"]
    assert "1 new commits to engine" in message["text"]
    assert "ada: <b>fix</b>" in message["text"]


@pytest_twisted.ensureDeferred
async def test_notify_posts_the_message(worker: WorkerService, queue: Queue) -> None:
    """A notify job POSTs the message to its URL and reads done."""
    receiver = Receiver(204)
    url, port = await listening(receiver)
    try:
        status = await settle(queue, await queue.enqueue("notify", url, EVENT))
    finally:
        await port.stopListening()
    assert status.state == "done" and status.result == {"status": 204}
    assert receiver.received == [notification(EVENT)]


@pytest_twisted.ensureDeferred
async def test_notify_retries_a_failing_receiver(
    worker: WorkerService, queue: Queue
) -> None:
    """A receiver answering 500 twice gets the message a third time, and it is done."""
    receiver = Receiver(500, 500, 200)
    url, port = await listening(receiver)
    try:
        status = await settle(queue, await queue.enqueue("notify", url, EVENT))
    finally:
        await port.stopListening()
    assert status.state == "done" and status.attempts == 3
    assert len(receiver.received) == 3


@pytest_twisted.ensureDeferred
async def test_notify_gives_up_on_a_receiver_that_never_accepts(
    worker: WorkerService, queue: Queue
) -> None:
    """Past its attempts, a notify job is dead, saying what the receiver answered."""
    url, port = await listening(Receiver(503))
    try:
        job = await queue.enqueue("notify", url, EVENT, max_attempts=2)
        status = await settle(queue, job)
    finally:
        await port.stopListening()
    assert status.state == "failed" and "503" in status.error

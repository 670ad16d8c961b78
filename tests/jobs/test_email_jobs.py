"""
The accounts' jobs run by a real worker: confirmation and reset links
mailed through a real SMTP server, once a minute at most; and the migration
of e-mails claimed before they were verified, run by every node that starts
and taking back, through one recount, what those e-mails scored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from julytwisted.config import Config
from julytwisted.errors import MailFailed
from julytwisted.jobs.product import (
    build_jobs,
    queue_confirmation,
    queue_password_reset,
)
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.schedule import StartupMigration
from julytwisted.jobs.worker import WorkerService
from julytwisted.models import EmailMigration, Job
from julytwisted.redis_service import RedisService, all_of
from julytwisted.service import build_mailer
from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.jobs.test_queue import settle
from tests.mailboxes import SMTP, link_in
from tests.store.test_store_emails import legacy_player

PUBLIC = "https://julython.example"


@pytest_twisted.async_yield_fixture
async def worker(
    redis: RedisService,
    store: Store,
    queue: Queue,
    config: Config,
    clock: Clock,
    smtp: SMTP,
) -> AsyncIterator[WorkerService]:
    """A worker whose jobs mail through the test's SMTP server."""
    import attrs

    from julytwisted.config import MailRelay

    mailing = attrs.evolve(
        config,
        smtp=MailRelay("127.0.0.1", smtp.port),
        mail_from="noreply@julython.example",
        public_url=PUBLIC,
    )
    mailer = build_mailer(store, mailing, reactor, clock)
    w = WorkerService(
        queue,
        redis.dedicated_client(),
        build_jobs(store, treq.post, mailer),
        reactor,
        poll=0.1,
    )
    w.startService()
    yield w
    await w.stopService()


@pytest_twisted.ensureDeferred
async def test_confirmation_mailed_once_a_minute(
    worker: WorkerService, queue: Queue, store: Store, smtp: SMTP
) -> None:
    """
    A pending e-mail gets its link; asked again within the minute, the same
    job answers and nothing more is mailed; a claim withdrawn gets nothing.
    """
    await store.create_player("ada", "Ada", [], claims=["ada@example.com"])
    first = await queue_confirmation(queue, "ada", "ADA@example.com")
    assert await queue_confirmation(queue, "ada", "ada@example.com") == first
    assert (await settle(queue, first)).result == {"sent": True}
    message = await smtp.wait_for("ada@example.com")
    assert link_in(message).startswith(PUBLIC + "/confirm-email/")
    assert "for 24 hours" in message.get_content()
    job = await queue_confirmation(queue, "ada", "gone@example.com")
    assert (await settle(queue, job)).result == {"sent": False}
    assert len(smtp.messages()) == 1


@pytest_twisted.ensureDeferred
async def test_reset_mailed_to_verified_emails_only(
    worker: WorkerService, queue: Queue, store: Store, smtp: SMTP
) -> None:
    """
    A reset link goes to each verified e-mail of the player a username
    names; a pending e-mail, or a login naming nobody, gets nothing.
    """
    await store.create_player("ada", "Ada", ["a@example.com", "b@example.com"])
    await store.claim_email("ada", "c@example.com")
    for login, sent in (("Ada", 2), ("c@example.com", 0), ("nobody", 0)):
        job = await queue_password_reset(queue, login)
        assert (await settle(queue, job)).result == {"sent": sent}
    for address in ("a@example.com", "b@example.com"):
        message = await smtp.wait_for(address)
        assert message["Subject"] == "Reset your Julython password"
        assert link_in(message).startswith(PUBLIC + "/password-reset/")
    assert len(smtp.messages()) == 2


@pytest_twisted.ensureDeferred
async def test_a_node_without_a_relay_fails_its_mail_jobs(store: Store) -> None:
    """Without --smtp a mail job fails (to be retried), sending nothing."""
    jobs = build_jobs(store, treq.post)
    with pytest.raises(MailFailed, match="--smtp"):
        await jobs.functions[Job.MAIL_CONFIRMATION]("ada", "ada@example.com")
    with pytest.raises(MailFailed, match="--smtp"):
        await jobs.functions[Job.MAIL_PASSWORD_RESET]("ada")


@pytest_twisted.ensureDeferred
async def test_starting_nodes_migrate_the_emails(
    worker: WorkerService, queue: Queue, store: Store
) -> None:
    """
    Two nodes start at once: the e-mails a player typed before become
    pending, once, and one recount job is queued, which takes back their
    points.  A node starting later finds nothing to do and queues nothing.
    """
    await legacy_player(store, "mallory", ["ada@example.com"], password=True)
    await ingest(store, push(commit("a1"), commit("a2")))
    assert (await store.player("mallory")).points == 12
    nodes = [StartupMigration(store, queue, reactor) for _ in range(2)]
    migrated = await all_of([Deferred.fromCoroutine(n.migrate()) for n in nodes])
    assert sorted(m.players for m in migrated) == [0, 1]
    assert EmailMigration(1, 1, 2, ("julython-2026",)) in migrated
    [job] = [
        key.removeprefix("j:q:job:")
        for key in await store.redis.execute("KEYS", "j:q:job:*")
    ]
    status = await settle(queue, job)
    assert status.name == Job.RECOUNT and status.state == "done"
    assert (await store.player("mallory")).points == 0
    assert await store.pending_emails("mallory") == ["ada@example.com"]
    later = StartupMigration(store, queue, reactor)
    later.startService()
    await later.stopService()
    assert await later.migrate() == EmailMigration(0, 0, 0, ())
    assert len(await store.redis.execute("KEYS", "j:q:job:*")) == 1

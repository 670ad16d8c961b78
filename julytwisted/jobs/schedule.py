# -*- test-case-name: tests.jobs.test_schedule -*-
"""
Periodic jobs, the original's cron: a nightly recount of the running games,
an hourly sweep that adopts orphan commits and a frequent release of the
commits held for review whose days ran out; and what a node does once
as it starts (L{StartupMigration}).

Every node runs a L{Scheduler}; each occurrence of a periodic job is
enqueued under a unique key naming it (its job and its time), so that
exactly one job is queued for it however many nodes see it come round, and
whichever node's worker is free runs it.  A node that starts within an
occurrence's window (an hour) still enqueues it if nobody did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from julytwisted.errors import RedisUnavailable
from julytwisted.game.games import Game
from julytwisted.game.scoring import games_at
from julytwisted.jobs.queue import Queue
from julytwisted.models import EmailMigration, Job
from julytwisted.store import CommitMigration, Store
from julytwisted.store.games import Games
from julytwisted.supervise import Backoff, Supervised

log = Logger()

#: How long after its time an occurrence may still be enqueued.
WINDOW = timedelta(hours=1)

#: How often the held commits whose review days ran out are let count,
#: on a node with review days.
RELEASE_EVERY = timedelta(minutes=5)


@attrs.frozen
class Occurrence:
    """
    One run of a periodic job.

    @ivar key: names it among every node's (the unique key of its job).
    @ivar job: the job's name.
    @ivar args: its arguments.
    """

    key: str
    job: str
    args: tuple[object, ...] = ()


def nightly_recounts(
    at: time, now: datetime, games: Sequence[Game] = ()
) -> list[Occurrence]:
    """
    The recount due at C{at} (UTC) each day: of every game running then,
    or that ended in the day before (its last commits counted once more),
    a game that began and ended within that day too.

    @param games: the games besides the built-in ones.
    @return: the occurrences whose time is within L{WINDOW} before C{now}.
    """
    when = datetime.combine(now.date(), at, UTC)
    if when > now:
        when -= timedelta(days=1)
    if now - when > WINDOW:
        return []
    day_before = when - timedelta(days=1)
    slugs = {g.slug for g in (*games_at(when, games), *games_at(day_before, games))}
    slugs.update(g.slug for g in games if g.start <= when and day_before < g.end)
    stamp = when.strftime("%Y-%m-%dT%H:%M")
    return [
        Occurrence(f"recount:{slug}:{stamp}", Job.RECOUNT, (slug,))
        for slug in sorted(slugs)
    ]


def _slot(every: timedelta, now: datetime) -> str:
    seconds = int(every.total_seconds())
    slot = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(slot, UTC).strftime("%Y-%m-%dT%H:%M")


def sweeps(every: timedelta, now: datetime) -> list[Occurrence]:
    """
    The orphan sweep, due at each multiple of C{every} since the epoch.
    """
    stamp = _slot(every, now)
    return [Occurrence(f"adopt_all_orphans:{stamp}", Job.ADOPT_ALL_ORPHANS)]


def releases(every: timedelta, now: datetime) -> list[Occurrence]:
    """
    The release of the held commits whose review days ran out
    (C{--review-days}), due at each multiple of C{every} since the epoch.
    """
    stamp = _slot(every, now)
    return [Occurrence(f"release_held:{stamp}", Job.RELEASE_HELD)]


@attrs.frozen
class Plan:
    """
    What to run when: L{None} turns a job off.

    @ivar recount_at: the time of day (UTC) of the nightly recount.
    @ivar sweep_every: the interval of the orphan sweep.
    @ivar release_every: the interval of the release of held commits.
    """

    recount_at: time | None = time(3, 0)
    sweep_every: timedelta | None = timedelta(hours=1)
    release_every: timedelta | None = None

    def due(self, now: datetime, games: Sequence[Game] = ()) -> list[Occurrence]:
        """@return: the occurrences that should be queued by now."""
        found = []
        if self.recount_at is not None:
            found += nightly_recounts(self.recount_at, now, games)
        if self.sweep_every is not None:
            found += sweeps(self.sweep_every, now)
        if self.release_every is not None:
            found += releases(self.release_every, now)
        return found


class StartupMigration(Service):
    """
    Migrates the data a node of this version reads differently, once, as
    the node starts: the e-mails claimed before e-mails were verified become
    pending (L{Store.migrate_emails}, idempotent and safe on several nodes at
    once), and each game whose points they scored is recounted, taking them
    back, in a job queued once whatever the number of nodes; then projects
    are keyed by their repository's canonical URL and old commits get their
    summaries, their messages cut to the limit, and are indexed by their
    arrival (L{Store.migrate_commits}).
    Tried again, backing off, until Redis answers.
    """

    name = "startup-migration"

    def __init__(self, store: Store, queue: Queue, clock: IReactorTime) -> None:
        self._store = store
        self._queue = queue
        self._loop = Supervised(
            "migrating e-mails claimed before they were verified, and projects",
            self.migrate,
            clock,
            interval=None,
            expected=(RedisUnavailable,),
            logger=log,
        )

    def startService(self) -> None:
        Service.startService(self)
        self._loop.start(now=True)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        return self._loop.stop()

    async def migrate(self) -> EmailMigration:
        """
        Migrate, and queue the recounts.

        @return: what the migration changed.
        """
        migrated = await self._store.migrate_emails()
        for game in migrated.games:
            await self._queue.enqueue(
                Job.RECOUNT, game, unique=f"recount:migrate_emails:{game}"
            )
        if migrated.players:
            log.info(
                "Migrated the e-mails of {players} players: {pending} became "
                "pending, {commits} commits returned to orphans",
                players=migrated.players,
                pending=migrated.pending,
                commits=migrated.commits,
            )
        rekeyed = await self._store.migrate_commits()
        if rekeyed != CommitMigration():
            log.info(
                "Keyed {projects} projects by their canonical URL ({merged} were "
                "variants of another's, which keeps the key); gave {commits} "
                "commits their summary ({future} of them flagged as from the "
                "future); indexed {arrivals} by their arrival; counted the "
                "pending commits of {pending} games by player and by project",
                projects=rekeyed.projects,
                merged=rekeyed.merged,
                commits=rekeyed.commits,
                future=rekeyed.future,
                arrivals=rekeyed.arrivals,
                pending=rekeyed.pending,
            )
        return migrated


class Scheduler(Service):
    """
    Enqueues the plan's occurrences as they come due, checking every
    C{interval} seconds.  A check that fails (Redis away, or anything else,
    logged with its traceback) is tried again sooner, backing off from a
    second up to C{interval}; an occurrence stays due for L{WINDOW}.
    """

    name = "scheduler"

    def __init__(
        self,
        queue: Queue,
        plan: Plan,
        clock: IReactorTime,
        games: Games | None = None,
        interval: float = 30.0,
    ) -> None:
        """
        @param games: the games besides the built-in ones, as kept in Redis
            (those made at run time and the C{--game} flags'), reloaded at
            each check so that the nightly recount covers a game made,
            extended or ended on any node; L{None} for the built-in ones
            alone.
        """
        self._queue = queue
        self._plan = plan
        self._clock = clock
        self._games = games
        self._loop = Supervised(
            "scheduling periodic jobs",
            self._enqueue_due,
            clock,
            interval=interval,
            backoff=Backoff(base=min(1.0, interval), cap=interval),
            expected=(RedisUnavailable,),
            logger=log,
        )

    def startService(self) -> None:
        Service.startService(self)
        if self._plan != Plan(None, None, None):
            self._loop.start(now=True)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        return self._loop.stop()

    async def tick(self) -> None:
        """
        Enqueue what is due; a Redis outage waits for the next tick, and any
        other failure is logged.
        """
        try:
            await self._enqueue_due()
        except RedisUnavailable:
            pass
        except Exception:
            log.failure("scheduling periodic jobs failed")

    async def _enqueue_due(self) -> None:
        now = datetime.fromtimestamp(self._clock.seconds(), UTC)
        games: Sequence[Game] = ()
        if self._games is not None:
            await self._games.refresh()
            games = self._games.configured
        for occurrence in self._plan.due(now, games):
            await self._queue.enqueue(
                occurrence.job,
                *occurrence.args,
                unique=occurrence.key,
                unique_for=int(2 * WINDOW.total_seconds()) + 86400,
            )


__all__ = [
    "RELEASE_EVERY",
    "WINDOW",
    "Occurrence",
    "Plan",
    "Scheduler",
    "StartupMigration",
    "nightly_recounts",
    "releases",
    "sweeps",
]

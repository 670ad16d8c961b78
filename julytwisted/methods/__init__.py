# -*- test-case-name: tests.test_methods -*-
"""
The product's JSON-RPC methods at C{/json/}: boards and players under
C{julython.}, the signed-in player's own under C{julython.} too
(authenticated), and the organisers' under C{admin.}.  L{build_registry}
offers them all; the private boards' are in L{private_boards}.

The mapping from L{JulythonError}s to JSON-RPC error codes lives here, in
L{translate}, and nowhere else.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import attrs

from julytwisted import rpc
from julytwisted.auth.accounts import (
    Mailing,
    SignUps,
    claim_email,
    create_vouched_player,
    move_player,
    vouch_for_email,
)
from julytwisted.auth.repositories import PlayerRepository, Registrar
from julytwisted.errors import (
    Conflict,
    Forbidden,
    HostError,
    InvalidInput,
    JulythonError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    RedisUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from julytwisted.game import scoring
from julytwisted.game.games import parse_instant
from julytwisted.jobs.game_edits import GameSaved, create_game, end_game, update_game
from julytwisted.jobs.product import queue_recount, reject_commit
from julytwisted.jobs.queue import Queue
from julytwisted.methods._caller import Said, admin_name, player_of, require_admin
from julytwisted.methods.private_boards import register_private_boards
from julytwisted.models import (
    Board,
    Commit,
    Group,
    JobStatus,
    ListedGame,
    Member,
    Page,
    Player,
    Project,
)
from julytwisted.store import MAX_LIMIT, Store
from julytwisted.store.review import QueuedCommit, ReviewEntry

_T = TypeVar("_T")

#: The largest offset of a page: as the REST API's cursor, 15 digits at most
#: (Redis refuses offsets past a 64-bit integer).
MAX_OFFSET = 10**15 - 1

#: A page's size and offset, as JSON-RPC checks and rpc.discover shows them.
_Limit = Annotated[int, rpc.Bounds(1, MAX_LIMIT)]
_Offset = Annotated[int, rpc.Bounds(0, MAX_OFFSET)]


@attrs.frozen
class Account(Player):
    """
    The signed-in player, with their commit e-mails: all of them, and those
    still pending (scoring nothing until confirmed through a mailed link).
    """

    emails: tuple[str, ...]
    pending: tuple[str, ...]


@attrs.frozen
class EmailAdded:
    """
    A player's commit e-mails (all, and the pending ones), and the job that
    follows: the mail confirming a claimed e-mail, the adoption of a vouched
    one's commits, or none (no mail sent).
    """

    emails: tuple[str, ...]
    pending: tuple[str, ...]
    job: str | None


@attrs.frozen
class JobQueued:
    """The id of the job doing the work; follow it with C{jobs.status}."""

    job: str


@attrs.frozen
class QueueReport:
    """How many jobs wait, run and died, and the dead jobs themselves."""

    queued: int
    running: int
    delayed: int
    dead: int
    dead_jobs: tuple[JobStatus, ...]


#: JSON-RPC codes of the product's errors; HTTP-like outside the reserved range.
_CODES: dict[type[JulythonError], int] = {
    InvalidInput: -32602,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RateLimited: 429,
    RedisUnavailable: 503,
    Overloaded: 503,
    HostError: 502,
}


def translate(error: Exception) -> rpc.JSONRPCError | None:
    """
    The one mapping of product errors to JSON-RPC errors.

    @return: the JSON-RPC error for a L{JulythonError}, else L{None} (an
        internal error, logged and answered -32603 by the rpc layer).  Its
        data names the error's type, and for an error that passes
        (L{RateLimited}, L{Overloaded}, L{RedisUnavailable}) the seconds to
        wait (C{retry_after}), which the rpc layer sends as C{Retry-After}
        with a single call's HTTP 429 or 503.
    """
    if not isinstance(error, JulythonError):
        return None
    for kind in type(error).__mro__:
        if kind in _CODES:
            code = _CODES[kind]
            break
    else:
        return None
    data: dict[str, object] = {"type": type(error).__name__}
    if error.retry_after is not None:
        data["retry_after"] = error.retry_after
    return rpc.JSONRPCError(code, error.message, data)


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def build_registry(
    store: Store,
    queue: Queue,
    sign_ups: SignUps,
    mailing: Mailing | None = None,
    registrar: Registrar | None = None,
) -> rpc.Registry:
    """
    The product's methods, bound to a store and a job queue.

    @param store: where the data is.
    @param queue: where slow follow-ups go.
    @param sign_ups: makes accounts, within the sign-up limit.
    @param mailing: how typed e-mails are confirmed; by default by no mail
        (they stay pending until an admin vouches for them).
    @param registrar: adds players' repositories; without it, the
        repository methods are not offered.
    @return: a registry to serve with L{rpc.JSONRPCResource}.
    """
    registry = rpc.Registry()
    mailing = mailing or Mailing(queue, enabled=False)
    _register_reads(registry, store)
    _register_player(registry, store, mailing, sign_ups)
    _register_admin(registry, store, queue)
    _register_jobs(registry, queue)
    if registrar is not None:
        _register_repositories(registry, registrar)
    register_private_boards(registry, store)
    _register_review(registry, store, queue)
    return registry


def _register_jobs(registry: rpc.Registry, queue: Queue) -> None:
    @registry.method("jobs.status(id=String) -> Object", safe=True)
    async def status(ctx: rpc.CallContext, id: str) -> JobStatus:
        """
        A background job: its state (delayed, queued, running, done or
        failed), attempts, result or error, and when.
        """
        return await queue.status(id)


def _register_reads(registry: rpc.Registry, store: Store) -> None:
    @registry.method(
        "julython.leaders(board=String, game=String, limit=Number, offset=Number)"
        " -> Array",
        safe=True,
    )
    async def leaders(
        ctx: rpc.CallContext,
        board: str = Board.PEOPLE,
        game: str | None = None,
        limit: _Limit = 10,
        offset: _Offset = 0,
    ) -> tuple[Member, ...]:
        """
        A board, highest points first: people, projects, locations, teams or
        languages, of the current game unless C{game} names another.
        """
        if board not in scoring.BOARDS:
            raise InvalidInput(f"board must be one of {', '.join(scoring.BOARDS)}")
        if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"offset must be a whole number from 0 to {MAX_OFFSET}")
        page = await store.board(board, game, offset, _limit(limit))
        return page.models

    @registry.method(
        "julython.player(username=String, game=String) -> Object", safe=True
    )
    async def player(
        ctx: rpc.CallContext, username: str, game: str | None = None
    ) -> Player:
        """A player with points, rank, commits and projects in a game."""
        return await store.player(username, game)

    @registry.method("julython.project(slug=String, game=String) -> Object", safe=True)
    async def project(
        ctx: rpc.CallContext, slug: str, game: str | None = None
    ) -> Project:
        """A project with its points, rank and commits in a game."""
        return await store.project(slug, game)

    @registry.method(
        "julython.commits(username=String, project=String, limit=Number,"
        " cursor=String) -> Object",
        safe=True,
    )
    async def commits(
        ctx: rpc.CallContext,
        username: str | None = None,
        project: str | None = None,
        limit: _Limit = 20,
        cursor: str | None = None,
    ) -> Page[Commit]:
        """
        Commits, newest first, of a player or a project or of everyone:
        C{{"models": [...], "next": cursor}}; pass C{next} back as C{cursor}.
        """
        return await store.commits(
            cursor=cursor, limit=_limit(limit), username=username, project=project
        )

    @registry.method("julython.games() -> Array", safe=True)
    async def games(ctx: rpc.CallContext) -> tuple[ListedGame, ...]:
        """Every game with commits, every configured game and the current one."""
        return (await store.list_games(0, 1000)).models


async def _emails(store: Store, username: str, job: str | None) -> EmailAdded:
    emails, pending = await store.emails(username), await store.pending_emails(username)
    return EmailAdded(tuple(emails), tuple(pending), job)


def _register_player(
    registry: rpc.Registry,
    store: Store,
    mailing: Mailing,
    sign_ups: SignUps,
) -> None:
    queue = mailing.queue

    @registry.method(
        "julython.signup(username=String, password=String, email=String) -> Object"
    )
    async def signup(
        ctx: rpc.CallContext, username: str, password: str, email: str
    ) -> Player:
        """
        Make an account: a username, a password (8 characters or more) and the
        e-mail your commits carry, which scores once you confirm it through
        the link mailed to it.  Sign in afterwards with HTTP Basic.
        """
        return await sign_ups.sign_up(ctx.request, username, password, email)

    @registry.method("julython.whoami() -> Object", authenticated=True)
    async def whoami(ctx: rpc.CallContext) -> Account:
        """The signed-in player, with their commit e-mails and pending ones."""
        username = player_of(ctx)
        player = await store.player(username)
        found = await _emails(store, username, None)
        return Account(
            **attrs.asdict(player, recurse=False),
            emails=found.emails,
            pending=found.pending,
        )

    @registry.method("julython.addEmail(email=String) -> Object", authenticated=True)
    async def add_email(ctx: rpc.CallContext, email: str) -> EmailAdded:
        """
        Add a commit e-mail.  It stays pending, scoring nothing, until you
        open the link mailed to it and confirm; then the commits already
        made with it (orphans) are scored for you.  The job mails the link
        (again, for a pending e-mail); none when this site sends no mail.
        """
        username = player_of(ctx)
        job = await claim_email(store, mailing, username, email)
        return await _emails(store, username, job)

    @registry.method("julython.setName(name=String) -> Object", authenticated=True)
    async def set_name(ctx: rpc.CallContext, name: str) -> Player:
        """
        Change the signed-in player's display name, as the profile does.

        @return: the player, with the new name.
        @raise InvalidInput: for a name that is blank or over 100
            characters; the old name stays.
        """
        username = player_of(ctx)
        await store.set_player_name(username, name)
        return await store.player(username)

    @registry.method("julython.setTimeZone(tz=String) -> Object", authenticated=True)
    async def set_time_zone(ctx: rpc.CallContext, tz: str | None) -> Player:
        """
        Choose the time zone your days follow: your streaks, your calendar
        and your daily badges, each commit counting for the day it was made
        on there.  An IANA name (Europe/Paris, America/Los_Angeles), any
        case; null or empty for none: each commit's own UTC offset.

        @return: the player, with the zone as the database spells it.
        @raise InvalidInput: for a name that is no time zone; the zone you
            had stays.
        """
        username = player_of(ctx)
        await store.set_player_time_zone(username, tz)
        return await store.player(username)

    @registry.method("julython.setLocation(name=String) -> Object", authenticated=True)
    async def set_location(ctx: rpc.CallContext, name: str | None) -> JobQueued:
        """
        Move to a location (by name; null for none).  A background job moves
        your points along: follow it with jobs.status.
        """
        return await _move(ctx, Board.LOCATIONS, name)

    async def _move(ctx: rpc.CallContext, board: Board, name: str | None) -> JobQueued:
        username = player_of(ctx)
        return JobQueued(await move_player(store, queue, username, board, name))

    @registry.method("julython.setTeam(name=String) -> Object", authenticated=True)
    async def set_team(ctx: rpc.CallContext, name: str | None) -> JobQueued:
        """
        Join a team (by name; null for none).  A background job moves your
        points along (jobs.status follows it); a new team scores once an
        admin approves it.
        """
        return await _move(ctx, Board.TEAMS, name)

    @registry.method("julython.createToken() -> String", authenticated=True)
    async def create_token(ctx: rpc.CallContext) -> str:
        """
        A new API token for scripts: send it as C{Authorization: Bearer TOKEN}.
        It is shown this once; only its hash is kept.
        """
        return await store.create_token(player_of(ctx))


def _register_repositories(registry: rpc.Registry, registrar: Registrar) -> None:
    @registry.method(
        "julython.addRepository(url=String, token=String) -> Object",
        authenticated=True,
    )
    async def add_repository(
        ctx: rpc.CallContext, url: str, token: str | None = None
    ) -> PlayerRepository:
        """
        Add a repository you administer.  Signed in on the web site with its
        host, the host must say you administer it, and with webhook access
        the webhook is made for you; otherwise paste the webhook with the
        C{payload_url} and C{secret} returned: the first push signed with
        it proves the repository is yours.  409 when it is added already.
        For a Bitbucket Data Center repository, C{token} is an HTTP access
        token with repository read permission, which reads a private one's
        commits: checked with the server (403 when refused), kept sealed,
        never returned; given again for a repository you added, it replaces
        the kept one.
        """
        username = player_of(ctx)
        base = registrar.site_url(ctx.request)
        return await registrar.add(username, url, base, token)

    @registry.method("julython.listRepositories() -> Array", authenticated=True)
    async def list_repositories(ctx: rpc.CallContext) -> tuple[PlayerRepository, ...]:
        """The repositories you added, oldest first, with their webhooks' state."""
        username = player_of(ctx)
        base = registrar.site_url(ctx.request)
        return tuple(await registrar.listed(username, base))

    @registry.method(
        "julython.pingRepository(url=String) -> Object", authenticated=True
    )
    async def ping_repository(ctx: rpc.CallContext, url: str) -> Said:
        """Have the host send a test delivery to the webhook made for you."""
        return Said(await registrar.ping(player_of(ctx), url))

    @registry.method(
        "julython.removeRepository(url=String) -> Object", authenticated=True
    )
    async def remove_repository(ctx: rpc.CallContext, url: str) -> Said:
        """
        Remove a repository you added, and the webhook made for it: its
        pushes are refused from now on; its project and commits stay.
        """
        return Said(await registrar.remove(player_of(ctx), url))


def _register_admin(registry: rpc.Registry, store: Store, queue: Queue) -> None:
    @registry.method("admin.jobs() -> Object", authenticated=True)
    async def jobs(ctx: rpc.CallContext) -> QueueReport:
        """Queue depth, running and dead jobs, and the dead jobs themselves."""
        require_admin(ctx)
        stats = await queue.stats()
        return QueueReport(**stats, dead_jobs=tuple(await queue.dead()))

    @registry.method("admin.requeueJob(id=String) -> Object", authenticated=True)
    async def requeue_job(ctx: rpc.CallContext, id: str) -> JobStatus:
        """Give a dead job a new round of attempts."""
        require_admin(ctx)
        await queue.requeue(id)
        return await queue.status(id)

    @registry.method("admin.recount(game=String) -> Object", authenticated=True)
    async def recount(ctx: rpc.CallContext, game: str | None = None) -> JobQueued:
        """Rebuild a game's boards from its commits in a background job."""
        require_admin(ctx)
        return JobQueued(await queue_recount(queue, store.game(game).slug))

    @registry.method(
        "admin.deactivateProject(slug=String) -> Object", authenticated=True
    )
    async def deactivate_project(ctx: rpc.CallContext, slug: str) -> Project:
        """Stop a project scoring: its pushes are refused as abuse."""
        require_admin(ctx)
        await store.set_project_active(slug, False)
        return await store.project(slug)

    @registry.method("admin.activateProject(slug=String) -> Object", authenticated=True)
    async def activate_project(ctx: rpc.CallContext, slug: str) -> Project:
        """Let a deactivated project score again."""
        require_admin(ctx)
        await store.set_project_active(slug, True)
        return await store.project(slug)

    @registry.method("admin.approveTeam(slug=String) -> Object", authenticated=True)
    async def approve_team(ctx: rpc.CallContext, slug: str) -> Group:
        """Approve a team: it scores from now on, its members' past commits too."""
        require_admin(ctx)
        await store.approve_team(slug)
        return await store.group(Board.TEAMS, slug)

    @registry.method(
        "admin.addEmail(username=String, email=String) -> Object",
        authenticated=True,
    )
    async def vouch(ctx: rpc.CallContext, username: str, email: str) -> EmailAdded:
        """
        Give a player a commit e-mail, vouched for: verified at once, ending
        every pending claim of it.  The job adopts its commits already made.
        """
        require_admin(ctx)
        job = await vouch_for_email(store, queue, username, email)
        return await _emails(store, username, job)

    @registry.method(
        "admin.createPlayer(username=String, name=String, emails=Array,"
        " location=String, team=String) -> Object",
        authenticated=True,
    )
    async def create_player(
        ctx: rpc.CallContext,
        username: str,
        name: str | None = None,
        emails: list[str] | None = None,
        location: str | None = None,
        team: str | None = None,
    ) -> Player:
        """
        Create a player; the e-mails are vouched for (their commits adopted
        at once), and a team named here is approved.
        """
        require_admin(ctx)
        return await create_vouched_player(
            store, queue, username, name, emails or [], location, team
        )

    _register_game_edits(registry, store, queue)


def _edits(**given: object) -> dict[str, object]:
    """The fields of a game an update gives, instants parsed."""
    fields = {k: v for k, v in given.items() if v is not None}
    for name in ("start", "end"):
        if name in fields:
            fields[name] = parse_instant(name, fields[name])
    return fields


def _register_game_edits(registry: rpc.Registry, store: Store, queue: Queue) -> None:
    @registry.method(
        "admin.createGame(name=String, start=String, end=String,"
        " commitPoints=Number, firstBonus=Number) -> Object",
        authenticated=True,
    )
    async def create_game_(
        ctx: rpc.CallContext,
        name: str,
        start: str,
        end: str,
        commitPoints: int | None = None,
        firstBonus: int | None = None,
    ) -> GameSaved:
        """
        Make a game: its name makes its slug (a new one, not a built-in
        game's), it runs from start (now or later) up to end, instants in
        ISO 8601 with their offset; its points (0 to 100) default to the
        built-in games' (1 a commit, 10 more for a first commit on a project).
        """
        by = admin_name(ctx)
        if not isinstance(name, str):
            raise InvalidInput("name must be a string")
        return await create_game(
            store,
            by,
            name,
            parse_instant("start", start),
            parse_instant("end", end),
            commitPoints,
            firstBonus,
        )

    @registry.method(
        "admin.updateGame(slug=String, start=String, end=String,"
        " commitPoints=Number, firstBonus=Number) -> Object",
        authenticated=True,
    )
    async def update_game_(
        ctx: rpc.CallContext,
        slug: str,
        start: str | None = None,
        end: str | None = None,
        commitPoints: int | None = None,
        firstBonus: int | None = None,
    ) -> GameSaved:
        """
        Change a game made at run time or by --game: anything before it
        starts; once running, its end (not into the past) and its points,
        and a recount job rescores it; once ended, nothing.  The change is
        logged on the game.
        """
        by = admin_name(ctx)
        fields = _edits(
            start=start, end=end, commit_points=commitPoints, first_bonus=firstBonus
        )
        return await update_game(store, queue, by, slug, **fields)

    @registry.method("admin.endGame(slug=String) -> Object", authenticated=True)
    async def end_game_(ctx: rpc.CallContext, slug: str) -> GameSaved:
        """End a running game now; a recount job takes out later commits."""
        by = admin_name(ctx)
        return await end_game(store, queue, by, slug)


@attrs.frozen
class ReviewQueue:
    """
    The commits waiting for an admin (reported first, then held), and the
    latest lines of the review's audit log.
    """

    commits: tuple[QueuedCommit, ...]
    log: tuple[ReviewEntry, ...]


@attrs.frozen
class Rejected:
    """A rejected commit as it stands, and the recount jobs taking it off."""

    commit: Commit
    recount: tuple[str, ...]


def _register_review(registry: rpc.Registry, store: Store, queue: Queue) -> None:
    review = store.review

    @registry.method(
        "julython.reportCommit(hash=String, reason=String) -> Object",
        authenticated=True,
    )
    async def report_commit(ctx: rpc.CallContext, hash: str, reason: str) -> Said:
        """
        Ask the admins to look at a commit, saying why (500 characters at
        most): once per commit, ten commits an hour.
        """
        await review.report(hash, player_of(ctx), reason)
        return Said(f"commit {hash} is reported to the admins")

    @registry.method("admin.reviewQueue(limit=Number) -> Object", authenticated=True)
    async def review_queue(ctx: rpc.CallContext, limit: _Limit = 100) -> ReviewQueue:
        """The commits held or reported, and the review's audit log."""
        require_admin(ctx)
        return ReviewQueue(await review.queue(_limit(limit)), await review.log())

    @registry.method("admin.acceptCommit(hash=String) -> Object", authenticated=True)
    async def accept_commit(ctx: rpc.CallContext, hash: str) -> Commit:
        """Let a held or reported commit count (a held one scores now)."""
        await review.accept(hash, admin_name(ctx))
        return await store.commit(hash)

    @registry.method(
        "admin.rejectCommit(hash=String, reason=String) -> Object",
        authenticated=True,
    )
    async def reject_commit_(ctx: rpc.CallContext, hash: str, reason: str) -> Rejected:
        """
        Refuse a commit for good, with a reason its page shows; the games
        it scored in are recounted without it.
        """
        jobs = await reject_commit(store, queue, hash, admin_name(ctx), reason)
        return Rejected(await store.commit(hash), jobs)


__all__ = [
    "Account",
    "EmailAdded",
    "JobQueued",
    "QueueReport",
    "Rejected",
    "ReviewQueue",
    "Said",
    "build_registry",
    "translate",
]

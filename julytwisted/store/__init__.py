# -*- test-case-name: tests.store.test_store -*-
"""
Everything julytwisted keeps in Redis: players, projects, commits, games,
boards, uploads and the feed.

L{Store} is the one object the rest of the product holds: a thin facade
over one object per concern, each in a module of its own (L{games},
L{ingest}, L{players}, L{emails}, L{credentials}, L{sessions}, L{groups},
L{boards}, L{commits}, L{feed}, L{uploads}, L{repositories},
L{verification}, L{rekey}, L{private_boards}, L{review}).
Every Redis key Python spells is in L{_keys}; the Lua scripts of C{lua/}
spell the rest.
Writes that touch several keys are one Lua script each, so they are atomic
and a redelivered push counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from twisted.internet.interfaces import IReactorTime

from julytwisted.game.events import Push
from julytwisted.game.games import Game
from julytwisted.game.repositories import RepositoryRef
from julytwisted.game.review import BURST_LIMIT
from julytwisted.game.scoring import LATE_GRACE
from julytwisted.models import (
    Commit,
    EmailMigration,
    FileInfo,
    Group,
    ListedGame,
    Member,
    NewFile,
    Page,
    Player,
    Project,
    Recount,
    UploadedFile,
    WaitingTeam,
)
from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store._keys import LIVE_PUBSUB
from julytwisted.store._models import (
    EMAIL_PATTERN,
    NAME_PATTERN,
    USERNAME_PATTERN,
    cursor_int,
    language_slug,
)
from julytwisted.store.boards import PROJECT_SIZES, Boards
from julytwisted.store.commits import Commits
from julytwisted.store.credentials import RESET_SECONDS, Credentials
from julytwisted.store.emails import MAX_PENDING, Emails
from julytwisted.store.feed import Feed, FeedEntry
from julytwisted.store.games import Games
from julytwisted.store.groups import Groups
from julytwisted.store.host_accounts import HostAccounts, LinkedHost
from julytwisted.store.ingest import FEED_LENGTH, Ingest, IngestResult
from julytwisted.store.players import Players
from julytwisted.store.private_boards import PrivateBoards
from julytwisted.store.rekey import CommitMigration, Migration
from julytwisted.store.repositories import (
    MOST_REPOSITORIES,
    PENDING_DAYS,
    Listing,
    Registration,
    Repositories,
)
from julytwisted.store.review import Review
from julytwisted.store.sessions import SessionStore, StoredSession
from julytwisted.store.uploads import FILES_URL, MAX_SCREENSHOTS, Uploads
from julytwisted.store.verification import PendingCommit, Verification

#: The most rows one page of a listing may ask for.
MAX_LIMIT = 100


class Store:
    """
    The product's data, over one L{RedisClient}: each method hands its call
    to the concern that owns it, where it is documented; those that talk to
    Redis are coroutines.  The concerns are
    built here and hold each other only where one reads another's data
    (a new player read back from the boards, a project's screenshots).

    @ivar redis: the client every command goes through.
    """

    def __init__(
        self,
        redis: RedisClient,
        clock: IReactorTime,
        games: Sequence[Game] = (),
        ingest_timeout: float = 30.0,
        late_grace: timedelta = LATE_GRACE,
        review_days: int = 0,
        burst_limit: int = BURST_LIMIT,
    ) -> None:
        """
        @param redis: the client every command goes through.
        @param clock: tells the time for the current game and timestamps.
        @param games: the configured games besides the built-in ones.
        @param ingest_timeout: seconds a push's (or a recount's) script may
            take (2048 commits).
        @param late_grace: how long after a game's window its commits may
            still arrive and score (C{--late-grace}).
        @param review_days: how long new points stay provisional
            (C{--review-days}; 0: off).
        @param burst_limit: the commits by one author dated in one minute
            past which each is held for an admin (C{--burst-limit}).
        """
        self.redis = redis
        self._games = Games(redis, clock, games, late_grace)
        self._ingest = Ingest(
            redis, self._games, ingest_timeout, review_days, burst_limit
        )
        self._uploads = Uploads(redis, self._games)
        self._boards = Boards(
            redis, self._games, self._uploads, ingest_timeout, review_days
        )
        self._players = Players(redis, self._games, self._boards)
        self._emails = Emails(redis)
        self._credentials = Credentials(redis)
        self._sessions = SessionStore(redis)
        self._groups = Groups(redis)
        self._commits = Commits(redis, self._games)
        self._feed = Feed(redis)
        self._migration = Migration(redis, self._games)
        #: Players' accounts at the code hosts, their tokens, and sign-ins
        #: in progress (L{HostAccounts}).
        self.host_accounts = HostAccounts(redis)
        #: The repositories players added, each with its own webhook
        #: secret (L{Repositories}).
        self.repositories = Repositories(redis, self._games.now)
        #: Commits waiting for their host's word, and its verdicts
        #: (L{Verification}).
        self.verification = Verification(redis)
        #: Players' private boards, their members and their rankings
        #: (L{PrivateBoards}).
        self.private_boards = PrivateBoards(redis)
        #: Commits held for review or reported, the admins' verdicts and
        #: their audit log (L{Review}).
        self.review = Review(redis, self._games.now)

    # Games

    def now(self) -> datetime:
        """@return: the clock's time, aware, in UTC (L{Games.now})."""
        return self._games.now()

    @property
    def late_grace(self) -> timedelta:
        """How long after a game its commits may arrive and score."""
        return self._games.late_grace

    def game(self, slug: str | None = None) -> Game:
        """@return: a game by slug, or the current one (L{Games.game})."""
        return self._games.game(slug)

    @property
    def games(self) -> Games:
        """The games, and their changes at run time (L{Games})."""
        return self._games

    async def list_games(self, offset: int = 0, limit: int = 20) -> Page[ListedGame]:
        """@return: a page of the games (L{Games.list_games})."""
        return await self._games.list_games(offset, limit)

    async def game_commits(self, game: str | None = None) -> int:
        """@return: how many commits a game holds (L{Games.game_commits})."""
        return await self._games.game_commits(game)

    # Ingest

    async def ingest(
        self,
        repository: RepositoryRef,
        push: Push,
        arrived: datetime,
        verify: bool = False,
        files_listed: bool = False,
    ) -> IngestResult:
        """Store and score a push's new commits (L{Ingest.ingest})."""
        return await self._ingest.ingest(
            repository, push, arrived, verify, files_listed
        )

    async def migrate_commits(self) -> CommitMigration:
        """Key old projects and commits anew (L{Migration.migrate})."""
        return await self._migration.migrate()

    # Players and e-mails

    async def create_player(
        self,
        username: str,
        name: str,
        emails: Sequence[str],
        location: str | None = None,
        team: str | None = None,
        approve_team: bool = False,
        password_hash: str = "",
        claims: Sequence[str] = (),
    ) -> Player:
        """Create a player (L{Players.create_player})."""
        return await self._players.create_player(
            username, name, emails, location, team, approve_team, password_hash, claims
        )

    async def set_player_name(self, username: str, name: str) -> None:
        """Change a player's display name (L{Players.set_player_name})."""
        await self._players.set_player_name(username, name)

    async def set_player_time_zone(self, username: str, zone: str | None) -> None:
        """Choose the zone a player's days follow (L{Players.set_time_zone})."""
        await self._players.set_time_zone(username, zone)

    async def emails(self, username: str) -> list[str]:
        """@return: a player's commit e-mails (L{Players.emails})."""
        return await self._players.emails(username)

    async def add_email(self, username: str, email: str) -> int:
        """Vouch for a player's commit e-mail (L{Players.add_email})."""
        return await self._players.add_email(username, email)

    async def confirm_email(self, username: str, email: str, nonce: str) -> int:
        """Verify a claim through its link (L{Players.confirm_email})."""
        return await self._players.confirm_email(username, email, nonce)

    async def claim_email(self, username: str, email: str) -> bool:
        """Claim a commit e-mail, pending (L{Emails.claim_email})."""
        return await self._emails.claim_email(username, email)

    async def claim_nonce(self, username: str, email: str) -> str | None:
        """@return: a claim's new link nonce (L{Emails.claim_nonce})."""
        return await self._emails.claim_nonce(username, email)

    async def pending_emails(self, username: str) -> list[str]:
        """@return: a player's pending e-mails (L{Emails.pending_emails})."""
        return await self._emails.pending_emails(username)

    async def mail_to(self, login: str) -> tuple[str, list[str]] | None:
        """@return: where a player's mail may go (L{Emails.mail_to})."""
        return await self._emails.mail_to(login)

    async def migrate_emails(self) -> EmailMigration:
        """Make unverified old e-mails pending (L{Emails.migrate_emails})."""
        return await self._emails.migrate_emails()

    async def email_owner(self, email: str) -> str | None:
        """@return: who has a commit e-mail (L{Players.email_owner})."""
        return await self._players.email_owner(email)

    async def remove_email(self, username: str, email: str) -> None:
        """Take a commit e-mail off a player (L{Players.remove_email})."""
        await self._players.remove_email(username, email)

    async def adopt_orphans(self, email: str) -> int:
        """Score an e-mail's orphan commits (L{Players.adopt_orphans})."""
        return await self._players.adopt_orphans(email)

    async def adopt_all_orphans(self, batch: int = 500) -> dict[str, int]:
        """Adopt every owned e-mail's orphans (L{Players.adopt_all_orphans})."""
        return await self._players.adopt_all_orphans(batch)

    # Credentials

    async def password_hash(self, username: str) -> str | None:
        """@return: a player's password hash (L{Credentials.password_hash})."""
        return await self._credentials.password_hash(username)

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a player's password hash (L{Credentials.set_password_hash})."""
        await self._credentials.set_password_hash(username, password_hash)

    async def create_token(self, username: str) -> str:
        """@return: a new API token (L{Credentials.create_token})."""
        return await self._credentials.create_token(username)

    async def tokens(self, username: str) -> list[str]:
        """@return: the ids of a player's tokens (L{Credentials.tokens})."""
        return await self._credentials.tokens(username)

    async def revoke_token(self, username: str, token_id: str) -> None:
        """Revoke an API token by its id (L{Credentials.revoke_token})."""
        await self._credentials.revoke_token(username, token_id)

    async def token_owner(self, token: str) -> str | None:
        """@return: whose an API token is (L{Credentials.token_owner})."""
        return await self._credentials.token_owner(token)

    # Web sessions

    async def start_session(
        self, session_id: str, username: str | None, admin: str | None, lifetime: float
    ) -> None:
        """Keep a new web session (L{SessionStore.start})."""
        await self._sessions.start(session_id, username, admin, lifetime)

    async def session(self, session_id: str) -> StoredSession | None:
        """@return: a web session, if live (L{SessionStore.read})."""
        return await self._sessions.read(session_id)

    async def end_session(self, session_id: str) -> None:
        """End one web session (L{SessionStore.end})."""
        await self._sessions.end(session_id)

    async def end_sessions(self, username: str, keep: str | None = None) -> int:
        """End a player's web sessions (L{SessionStore.end_all})."""
        return await self._sessions.end_all(username, keep)

    async def count_sessions(self, username: str, besides: str | None = None) -> int:
        """@return: a player's live web sessions (L{SessionStore.count})."""
        return await self._sessions.count(username, besides)

    async def reset_nonce(self, username: str) -> str:
        """@return: a new reset link's nonce (L{Credentials.reset_nonce})."""
        return await self._credentials.reset_nonce(username)

    async def reset_password(
        self, username: str, nonce: str, password_hash: str
    ) -> None:
        """Set a password through a link (L{Credentials.reset_password})."""
        await self._credentials.reset_password(username, nonce, password_hash)

    # Locations and teams

    async def move_member(
        self, username: str, board: str, name: str | None, approve: bool = False
    ) -> list[str]:
        """Move a player to another group (L{Groups.move_member})."""
        return await self._groups.move_member(username, board, name, approve)

    def check_group_name(self, name: str | None, board: str) -> None:
        """Check a location's or team's name (L{Groups.check_group_name})."""
        self._groups.check_group_name(name, board)

    async def approve_team(self, slug: str, approved: bool = True) -> list[str]:
        """Approve or unapprove a team (L{Groups.approve_team})."""
        return await self._groups.approve_team(slug, approved)

    async def teams_waiting(self, limit: int = 100) -> list[WaitingTeam]:
        """@return: teams not approved yet (L{Groups.teams_waiting})."""
        return await self._groups.teams_waiting(limit)

    async def group_members(
        self, kind: str, slug: str, game: str | None = None, limit: int = 100
    ) -> Page[Player]:
        """@return: a group's members by points in a game (L{Groups.members})."""
        return await self._groups.members(
            kind, slug, self._games.game(game).slug, limit
        )

    # Boards

    async def board(
        self, kind: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Page[Member]:
        """@return: a page of a board (L{Boards.board})."""
        return await self._boards.board(kind, game, offset, limit)

    async def projects_by_size(
        self, size: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Page[Project]:
        """@return: a page of projects of a size (L{Boards.projects_by_size})."""
        return await self._boards.projects_by_size(size, game, offset, limit)

    async def detail(self, kind: str, member: str, game: str | None = None) -> Member:
        """@return: one member of a board (L{Boards.detail})."""
        return await self._boards.detail(kind, member, game)

    async def player(self, username: str, game: str | None = None) -> Player:
        """@return: a player in a game (L{Boards.player})."""
        return await self._boards.player(username, game)

    async def project(self, slug: str, game: str | None = None) -> Project:
        """@return: a project in a game (L{Boards.project})."""
        return await self._boards.project(slug, game)

    async def group(self, kind: str, slug: str, game: str | None = None) -> Group:
        """@return: a location or team in a game (L{Boards.group})."""
        return await self._boards.group(kind, slug, game)

    async def set_project_active(self, slug: str, active: bool) -> None:
        """(De)activate a project (L{Boards.set_project_active})."""
        await self._boards.set_project_active(slug, active)

    async def recount(self, game: str) -> Recount:
        """Rebuild a game's boards from its commits (L{Boards.recount}), as
        the game is now in Redis."""
        await self._games.refresh()
        return await self._boards.recount(game)

    # Commits

    async def commit(self, hash: str) -> Commit:
        """@return: one commit (L{Commits.commit})."""
        return await self._commits.commit(hash)

    async def commits(
        self,
        game: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
        username: str | None = None,
        project: str | None = None,
    ) -> Page[Commit]:
        """@return: a page of commits, newest first (L{Commits.commits})."""
        return await self._commits.commits(game, cursor, limit, username, project)

    async def project_names(self, slugs: Iterable[str]) -> dict[str, str]:
        """@return: the projects' names by slug (L{Commits.project_names})."""
        return await self._commits.project_names(slugs)

    # The live feed

    async def feed_after(
        self, channels: Sequence[str], since: str, count: int = FEED_LENGTH
    ) -> list[FeedEntry]:
        """@return: the entries after one (L{Feed.feed_after})."""
        return await self._feed.feed_after(channels, since, count)

    async def feed_tail(self, channels: Sequence[str], count: int) -> list[FeedEntry]:
        """@return: the last entries of channels (L{Feed.feed_tail})."""
        return await self._feed.feed_tail(channels, count)

    # Uploaded files

    async def record_uploads(
        self, username: str, files: Sequence[NewFile], quota: int
    ) -> list[UploadedFile]:
        """Record the files of one upload (L{Uploads.record_uploads})."""
        return await self._uploads.record_uploads(username, files, quota)

    async def upload_usage(self, username: str) -> int:
        """@return: a player's uploaded bytes (L{Uploads.upload_usage})."""
        return await self._uploads.upload_usage(username)

    async def file_info(self, sha256: str) -> FileInfo:
        """@return: a stored file's facts (L{Uploads.file_info})."""
        return await self._uploads.file_info(sha256)


__all__ = [
    "EMAIL_PATTERN",
    "FEED_LENGTH",
    "FILES_URL",
    "LIVE_PUBSUB",
    "MAX_LIMIT",
    "MAX_PENDING",
    "MAX_SCREENSHOTS",
    "MOST_REPOSITORIES",
    "NAME_PATTERN",
    "PENDING_DAYS",
    "PROJECT_SIZES",
    "RESET_SECONDS",
    "USERNAME_PATTERN",
    "CommitMigration",
    "FeedEntry",
    "HostAccounts",
    "IngestResult",
    "LinkedHost",
    "Listing",
    "Page",
    "PendingCommit",
    "Registration",
    "Repositories",
    "Store",
    "StoredSession",
    "Verification",
    "all_of",
    "cursor_int",
    "language_slug",
]

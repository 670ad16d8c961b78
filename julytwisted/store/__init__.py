# -*- test-case-name: tests.store.test_store -*-
"""
Everything julytwisted keeps in Redis: players, projects, commits, games,
boards, uploads and the feed.

L{Store} is the one object the rest of the product holds: a thin facade
over one object per concern, each in a module of its own (L{games},
L{ingest}, L{players}, L{emails}, L{credentials}, L{groups}, L{boards},
L{commits}, L{feed}, L{uploads}).  Every Redis key Python spells is in L{_keys}; the
Lua scripts of C{lua/} spell the rest.  Writes that touch several keys are
one Lua script each, so they are atomic and a redelivered push counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from julytwisted.game.events import Push
from julytwisted.game.games import Game
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
from julytwisted.store.ingest import FEED_LENGTH, Ingest, IngestResult
from julytwisted.store.players import Players
from julytwisted.store.uploads import FILES_URL, MAX_SCREENSHOTS, Uploads

#: The most rows one page of a listing may ask for.
MAX_LIMIT = 100


class Store:
    """
    The product's data, over one L{RedisClient}: each method hands its call
    to the concern that owns it, where it is documented.  The concerns are
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
    ) -> None:
        """
        @param redis: the client every command goes through.
        @param clock: tells the time for the current game and timestamps.
        @param games: the configured games besides the built-in ones.
        @param ingest_timeout: seconds a push's (or a recount's) script may
            take (2048 commits).
        """
        self.redis = redis
        self._games = Games(redis, clock, games)
        self._ingest = Ingest(redis, self._games, ingest_timeout)
        self._uploads = Uploads(redis, self._games)
        self._boards = Boards(redis, self._games, self._uploads, ingest_timeout)
        self._players = Players(redis, self._games, self._boards)
        self._emails = Emails(redis)
        self._credentials = Credentials(redis)
        self._groups = Groups(redis)
        self._commits = Commits(redis, self._games)
        self._feed = Feed(redis)

    # Games

    def now(self) -> datetime:
        """@return: the clock's time, aware, in UTC (L{Games.now})."""
        return self._games.now()

    def game(self, slug: str | None = None) -> Game:
        """@return: a game by slug, or the current one (L{Games.game})."""
        return self._games.game(slug)

    def list_games(
        self, offset: int = 0, limit: int = 20
    ) -> Deferred[Page[ListedGame]]:
        """@return: a page of the games (L{Games.list_games})."""
        return self._games.list_games(offset, limit)

    def game_commits(self, game: str | None = None) -> Deferred[int]:
        """@return: how many commits a game holds (L{Games.game_commits})."""
        return self._games.game_commits(game)

    # Ingest

    def ingest(self, push: Push) -> Deferred[IngestResult]:
        """Store and score a push's new commits (L{Ingest.ingest})."""
        return self._ingest.ingest(push)

    # Players and e-mails

    def create_player(
        self,
        username: str,
        name: str,
        emails: Sequence[str],
        location: str | None = None,
        team: str | None = None,
        approve_team: bool = False,
        password_hash: str = "",
        claims: Sequence[str] = (),
    ) -> Deferred[Player]:
        """Create a player (L{Players.create_player})."""
        return self._players.create_player(
            username, name, emails, location, team, approve_team, password_hash, claims
        )

    def set_player_name(self, username: str, name: str) -> Deferred[None]:
        """Change a player's display name (L{Players.set_player_name})."""
        return self._players.set_player_name(username, name)

    def emails(self, username: str) -> Deferred[list[str]]:
        """@return: a player's commit e-mails (L{Players.emails})."""
        return self._players.emails(username)

    def add_email(self, username: str, email: str) -> Deferred[int]:
        """Vouch for a player's commit e-mail (L{Players.add_email})."""
        return self._players.add_email(username, email)

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

    def remove_email(self, username: str, email: str) -> Deferred[None]:
        """Take a commit e-mail off a player (L{Players.remove_email})."""
        return self._players.remove_email(username, email)

    def adopt_orphans(self, email: str) -> Deferred[int]:
        """Score an e-mail's orphan commits (L{Players.adopt_orphans})."""
        return self._players.adopt_orphans(email)

    def adopt_all_orphans(self, batch: int = 500) -> Deferred[dict[str, int]]:
        """Adopt every owned e-mail's orphans (L{Players.adopt_all_orphans})."""
        return self._players.adopt_all_orphans(batch)

    # Credentials

    def password_hash(self, username: str) -> Deferred[str | None]:
        """@return: a player's password hash (L{Credentials.password_hash})."""
        return self._credentials.password_hash(username)

    def create_token(self, username: str) -> Deferred[str]:
        """@return: a new API token (L{Credentials.create_token})."""
        return self._credentials.create_token(username)

    def tokens(self, username: str) -> Deferred[list[str]]:
        """@return: the ids of a player's tokens (L{Credentials.tokens})."""
        return self._credentials.tokens(username)

    def revoke_token(self, username: str, token_id: str) -> Deferred[None]:
        """Revoke an API token by its id (L{Credentials.revoke_token})."""
        return self._credentials.revoke_token(username, token_id)

    def token_owner(self, token: str) -> Deferred[str | None]:
        """@return: whose an API token is (L{Credentials.token_owner})."""
        return self._credentials.token_owner(token)

    async def reset_nonce(self, username: str) -> str:
        """@return: a new reset link's nonce (L{Credentials.reset_nonce})."""
        return await self._credentials.reset_nonce(username)

    async def reset_password(
        self, username: str, nonce: str, password_hash: str
    ) -> None:
        """Set a password through a link (L{Credentials.reset_password})."""
        await self._credentials.reset_password(username, nonce, password_hash)

    # Locations and teams

    def move_member(
        self, username: str, board: str, name: str | None, approve: bool = False
    ) -> Deferred[list[str]]:
        """Move a player to another group (L{Groups.move_member})."""
        return self._groups.move_member(username, board, name, approve)

    def check_group_name(self, name: str | None, board: str) -> None:
        """Check a location's or team's name (L{Groups.check_group_name})."""
        self._groups.check_group_name(name, board)

    def approve_team(self, slug: str, approved: bool = True) -> Deferred[list[str]]:
        """Approve or unapprove a team (L{Groups.approve_team})."""
        return self._groups.approve_team(slug, approved)

    def teams_waiting(self, limit: int = 100) -> Deferred[list[WaitingTeam]]:
        """@return: teams not approved yet (L{Groups.teams_waiting})."""
        return self._groups.teams_waiting(limit)

    # Boards

    def board(
        self, kind: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Deferred[Page[Member]]:
        """@return: a page of a board (L{Boards.board})."""
        return self._boards.board(kind, game, offset, limit)

    def projects_by_size(
        self, size: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Deferred[Page[Project]]:
        """@return: a page of projects of a size (L{Boards.projects_by_size})."""
        return self._boards.projects_by_size(size, game, offset, limit)

    def detail(
        self, kind: str, member: str, game: str | None = None
    ) -> Deferred[Member]:
        """@return: one member of a board (L{Boards.detail})."""
        return self._boards.detail(kind, member, game)

    def player(self, username: str, game: str | None = None) -> Deferred[Player]:
        """@return: a player in a game (L{Boards.player})."""
        return self._boards.player(username, game)

    def project(self, slug: str, game: str | None = None) -> Deferred[Project]:
        """@return: a project in a game (L{Boards.project})."""
        return self._boards.project(slug, game)

    def group(self, kind: str, slug: str, game: str | None = None) -> Deferred[Group]:
        """@return: a location or team in a game (L{Boards.group})."""
        return self._boards.group(kind, slug, game)

    def set_project_active(self, slug: str, active: bool) -> Deferred[None]:
        """(De)activate a project (L{Boards.set_project_active})."""
        return self._boards.set_project_active(slug, active)

    def recount(self, game: str) -> Deferred[Recount]:
        """Rebuild a game's boards from its commits (L{Boards.recount})."""
        return self._boards.recount(game)

    # Commits

    def commit(self, hash: str) -> Deferred[Commit]:
        """@return: one commit (L{Commits.commit})."""
        return self._commits.commit(hash)

    def commits(
        self,
        game: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
        username: str | None = None,
        project: str | None = None,
    ) -> Deferred[Page[Commit]]:
        """@return: a page of commits, newest first (L{Commits.commits})."""
        return self._commits.commits(game, cursor, limit, username, project)

    # The live feed

    def feed_after(
        self, channels: Sequence[str], since: str, count: int = FEED_LENGTH
    ) -> Deferred[list[FeedEntry]]:
        """@return: the entries after one (L{Feed.feed_after})."""
        return self._feed.feed_after(channels, since, count)

    def feed_tail(
        self, channels: Sequence[str], count: int
    ) -> Deferred[list[FeedEntry]]:
        """@return: the last entries of channels (L{Feed.feed_tail})."""
        return self._feed.feed_tail(channels, count)

    # Uploaded files

    def record_uploads(
        self, username: str, files: Sequence[NewFile], quota: int
    ) -> Deferred[list[UploadedFile]]:
        """Record the files of one upload (L{Uploads.record_uploads})."""
        return self._uploads.record_uploads(username, files, quota)

    def upload_usage(self, username: str) -> Deferred[int]:
        """@return: a player's uploaded bytes (L{Uploads.upload_usage})."""
        return self._uploads.upload_usage(username)

    def file_info(self, sha256: str) -> Deferred[FileInfo]:
        """@return: a stored file's facts (L{Uploads.file_info})."""
        return self._uploads.file_info(sha256)


__all__ = [
    "EMAIL_PATTERN",
    "FEED_LENGTH",
    "FILES_URL",
    "LIVE_PUBSUB",
    "MAX_LIMIT",
    "MAX_PENDING",
    "MAX_SCREENSHOTS",
    "NAME_PATTERN",
    "PROJECT_SIZES",
    "RESET_SECONDS",
    "USERNAME_PATTERN",
    "FeedEntry",
    "IngestResult",
    "Page",
    "Store",
    "all_of",
    "cursor_int",
    "language_slug",
]

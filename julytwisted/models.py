# -*- test-case-name: tests.test_models -*-
"""
The records every part shares: what the store returns and what REST,
JSON-RPC, the pages and uploads show.

Each record is a frozen attrs class whose fields are exactly the keys a
client sees; L{to_json} is the one function that turns records into
JSON-ready data, and L{julytwisted.web.openapi} derives each record's JSON
Schema from its fields' types and the constraints their metadata carries
(L{schema}).  Times are kept as the ISO 8601 text the wire carries (Redis
holds them so), and job times as Unix seconds.

The names the parts share are spelled here once: the boards (L{Board}) and
the code hosts (L{Host}), defined with the rules in L{julytwisted.game},
and the product's jobs (L{Job}).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cache
from typing import Any, Final, Generic, Literal, TypeVar

import attrs

from julytwisted.game.events import Host
from julytwisted.game.scoring import BOARDS, GROUPS, Board


class Job(enum.StrEnum):
    """
    The product's background jobs, by the name the queue stores
    (L{julytwisted.jobs.product} runs them).
    """

    ADOPT_ORPHANS = "adopt_orphans"
    ADOPT_ALL_ORPHANS = "adopt_all_orphans"
    MOVE_PLAYER_POINTS = "move_player_points"
    RECOUNT = "recount"
    NOTIFY = "notify"
    MAIL_CONFIRMATION = "mail_confirmation"
    MAIL_PASSWORD_RESET = "mail_password_reset"
    DATA_CENTER_COMMITS = "data_center_commits"
    COMPLETE_PUSH = "complete_push"
    VERIFY_COMMITS = "verify_commits"
    RELEASE_HELD = "release_held"


#: The metadata key of a field's JSON Schema constraints (L{schema}).
SCHEMA: Final = "julytwisted.schema"
#: The metadata key that keeps a field off the wire (L{Page.total}).
WIRE: Final = "julytwisted.wire"

#: The language of JSON: what L{to_json} returns.
JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]

_T_co = TypeVar("_T_co", covariant=True)


class Unset(enum.Enum):
    """The type of L{UNSET}."""

    UNSET = "unset"


#: The value of a field a record leaves out: L{to_json} omits it, and its
#: schema does not require it.
UNSET: Final = Unset.UNSET


def schema(description: str | None = None, **constraints: object) -> dict[str, Any]:
    """
    A field's metadata: what its JSON Schema says beyond its type.

    @param description: the field's C{description}.
    @param constraints: other keywords (C{pattern}, C{minimum}, C{format});
        C{items} is merged into the schema of an array's items.
    """
    found = dict(constraints)
    if description is not None:
        found["description"] = description
    return {SCHEMA: found}


_POINTS = schema("Points in the game asked for (by default the current).", minimum=0)
_RANK = schema("1 is first; null without points.", minimum=1)
_COMMITS = schema("Commits scored in the game.", minimum=0)
_NAME = schema("The display name.")
_SLUG = schema("The name in URLs.")
_PENDING = schema(
    "Points its commits waiting for verification on their host"
    " (--verify-commits) will add in the game once verified: one per commit"
    " (a first commit's bonus shows once it scores).",
    minimum=0,
)
_COUNT = schema("As the host reported it, up to a billion.", minimum=0, maximum=10**9)


@attrs.frozen
class Player:
    """
    A person whose commit e-mails earn points.
    """

    username: str = attrs.field(metadata=schema(pattern="^[a-z0-9][a-z0-9_.-]{0,38}$"))
    name: str = attrs.field(metadata=_NAME)
    points: int = attrs.field(metadata=_POINTS)
    rank: int | None = attrs.field(metadata=_RANK)
    commits: int = attrs.field(metadata=_COMMITS)
    projects: int = attrs.field(
        metadata=schema("Projects the player scored on in the game.", minimum=0)
    )
    location: str | None = attrs.field(metadata=schema("The location's slug."))
    team: str | None = attrs.field(metadata=schema("The team's slug."))
    picture_url: str | None = attrs.field(metadata=schema("The avatar's URL."))
    pending_points: int = attrs.field(metadata=_PENDING)
    time_zone: str | None = attrs.field(
        metadata=schema(
            "The IANA time zone the player's days follow (streaks, calendar,"
            " daily badges); null: each commit's own UTC offset."
        )
    )


@attrs.frozen
class Project:
    """
    A repository that pushed commits.
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=schema("The display name.", maxLength=100))
    url: str = attrs.field(
        metadata=schema("The repository's canonical URL.", maxLength=2048)
    )
    service: str = attrs.field(
        metadata=schema("github, bitbucket, gitlab or bitbucket-server.")
    )
    description: str = attrs.field(metadata=schema(maxLength=1000))
    watchers: int = attrs.field(metadata=_COUNT)
    forks: int = attrs.field(metadata=_COUNT)
    active: bool = attrs.field(metadata=schema("False if deactivated."))
    points: int = attrs.field(metadata=_POINTS)
    rank: int | None = attrs.field(metadata=_RANK)
    commits: int = attrs.field(metadata=_COMMITS)
    pending_points: int = attrs.field(metadata=_PENDING)
    screenshots: tuple[str, ...] | Unset = attrs.field(
        default=UNSET,
        metadata=schema(
            "The URLs of its latest screenshots, latest first (in a project's "
            "detail, not in the board).",
            items={"pattern": "^/files/[0-9a-f]{64}$"},
        ),
    )


@attrs.frozen
class Group:
    """
    A location or a team; a team carries approved.
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=_NAME)
    points: int = attrs.field(metadata=_POINTS)
    rank: int | None = attrs.field(metadata=_RANK)
    commits: int = attrs.field(metadata=_COMMITS)
    approved: bool | Unset = attrs.field(default=UNSET, metadata=schema("Teams only."))


@attrs.frozen
class Language:
    """
    A language, scored by the files commits touch.
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=_NAME)
    points: int = attrs.field(metadata=_POINTS)
    rank: int | None = attrs.field(metadata=_RANK)
    commits: int = attrs.field(metadata=_COMMITS)


#: A member of any board.
Member = Player | Project | Group | Language


@attrs.frozen
class WaitingTeam:
    """
    A team waiting for an admin's approval.
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=_NAME)


@attrs.frozen
class Repair:
    """
    One board entry a recount found drifted, and put right.
    """

    board: str
    member: str
    was: int
    now: int


@attrs.frozen
class Recount:
    """
    What rebuilding a game's boards from its commits found.
    """

    commits: int = attrs.field(metadata=schema("The game's commits.", minimum=0))
    repaired: tuple[Repair, ...]
    added: int = attrs.field(
        default=0,
        metadata=schema(
            "Of the game's commits, those it did not hold before: stored"
            " while the rules kept them out (its window extended since).",
            minimum=0,
        ),
    )


@attrs.frozen
class EmailMigration:
    """
    What the start-up migration of e-mails claimed before they were verified
    found: the players whose e-mails became pending, and the commits they
    scored with them, returned to orphans until an e-mail is confirmed.
    """

    players: int = attrs.field(metadata=schema("Players migrated.", minimum=0))
    pending: int = attrs.field(
        metadata=schema("Their e-mails that became pending.", minimum=0)
    )
    commits: int = attrs.field(
        metadata=schema("Their commits returned to orphans.", minimum=0)
    )
    games: tuple[str, ...] = attrs.field(
        metadata=schema("The games those commits scored in, recounted after.")
    )


@attrs.frozen
class CommitFile:
    """
    One file a stored commit touched.
    """

    path: str
    change: Literal["added", "modified", "removed"]
    language: str | None = attrs.field(metadata=schema("The language of its name."))


@attrs.frozen
class Commit:
    """
    A stored commit.
    """

    hash: str = attrs.field(metadata=schema(pattern="^([0-9a-f]{40}|[0-9a-f]{64})$"))
    url: str = attrs.field(metadata=schema(maxLength=2048))
    summary: str = attrs.field(
        metadata=schema(
            "The message's first line, at most 200 characters.", maxLength=200
        )
    )
    timestamp: str = attrs.field(metadata=schema(format="date-time"))
    author: str = attrs.field(metadata=schema("The author's name.", maxLength=200))
    username: str | None = attrs.field(
        metadata=schema("The player; null for an orphan.")
    )
    project: str = attrs.field(metadata=schema("The project's slug."))
    files: tuple[CommitFile, ...]
    languages: tuple[str, ...]
    games: tuple[str, ...] = attrs.field(
        metadata=schema("The slugs of the games it scored in.")
    )
    arrived: str | None = attrs.field(
        default=None,
        metadata=schema(
            "When its push arrived; null for a commit stored before arrivals were.",
            format="date-time",
        ),
    )
    future: bool = attrs.field(
        default=False,
        metadata=schema(
            "Its own time is more than a day after its arrival: it scores nowhere."
        ),
    )
    pending: bool = attrs.field(
        default=False,
        metadata=schema(
            "Waiting for its host to confirm it (--verify-commits): it scores"
            " nothing until then, and then as its push would have."
        ),
    )
    rejected: str | None = attrs.field(
        default=None,
        metadata=schema(
            "Why its host did not confirm it (no such commit in the repository,"
            " or another author); a rejected commit never scores."
        ),
    )
    utc_offset: int | None = attrs.field(
        default=None,
        metadata=schema(
            "The UTC offset, in minutes, its push gave its time in (its"
            " author's clock); null when the push gave none.  Its player's"
            " days follow it until they choose a time zone.",
            minimum=-1439,
            maximum=1439,
        ),
    )
    review: str | None = attrs.field(
        default=None,
        metadata=schema(
            "Where it stands in review: held (its points provisional, it scores"
            " nothing yet), accepted (it counts), rejected (by an admin, for"
            " review_reason: it never scores); null when never held or reported."
        ),
    )
    review_reason: str | None = attrs.field(
        default=None,
        metadata=schema("Why an admin rejected it.", maxLength=500),
    )
    review_flags: tuple[str, ...] = attrs.field(
        default=(),
        metadata=schema(
            "Why it is held until an admin decides: burst, stale, empty, history."
        ),
    )
    review_until: str | None = attrs.field(
        default=None,
        metadata=schema(
            "When a held commit counts unless rejected (--review-days); null"
            " for one flagged or reported, which waits for an admin.",
            format="date-time",
        ),
    )
    reports: int = attrs.field(
        default=0, metadata=schema("How many players reported it.", minimum=0)
    )
    message: str | Unset = attrs.field(
        default=UNSET,
        metadata=schema(
            "The whole message, its first 64 KiB of UTF-8; in a commit's own "
            "detail only, not in lists."
        ),
    )


@attrs.frozen
class ListedGame:
    """
    A window of time in which commits score.
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=_NAME)
    start: str = attrs.field(metadata=schema(format="date-time"))
    end: str = attrs.field(metadata=schema(format="date-time"))
    current: bool


@attrs.frozen
class GameChange:
    """
    One field an edit of a game changed.
    """

    field: Literal["start", "end", "commit_points", "first_bonus"]
    old: str | None = attrs.field(metadata=schema("Null when the game was made."))
    new: str


@attrs.frozen
class GameLogEntry:
    """
    One change of a game: who made it, when, and what it changed.
    """

    at: str = attrs.field(metadata=schema(format="date-time"))
    by: str = attrs.field(
        metadata=schema("The admin player, 'admin' (the token) or '--game'.")
    )
    action: Literal["created", "updated", "ended"]
    changes: tuple[GameChange, ...]


@attrs.frozen
class GameDetail:
    """
    A game, its points, and the log of its changes (oldest first).
    """

    slug: str = attrs.field(metadata=_SLUG)
    name: str = attrs.field(metadata=_NAME)
    start: str = attrs.field(metadata=schema(format="date-time"))
    end: str = attrs.field(metadata=schema(format="date-time"))
    current: bool
    state: Literal["upcoming", "running", "ended"]
    editable: bool = attrs.field(
        metadata=schema("Whether admins may change it: no built-in game is.")
    )
    commit_points: int = attrs.field(metadata=schema(minimum=0, maximum=100))
    first_bonus: int = attrs.field(metadata=schema(minimum=0, maximum=100))
    log: tuple[GameLogEntry, ...]


JobState = Literal["delayed", "queued", "running", "done", "failed"]


@attrs.frozen
class JobStatus:
    """
    A background job.
    """

    id: str
    name: str = attrs.field(metadata=schema("The job function's name."))
    state: JobState
    attempts: int = attrs.field(metadata=schema("Runs started so far.", minimum=0))
    max_attempts: int = attrs.field(
        metadata=schema("Runs before it is given up as dead.", minimum=0)
    )
    created: float | None = attrs.field(
        metadata=schema("When it was queued (Unix time).")
    )
    run_at: float | None = attrs.field(
        metadata=schema("When it may run next (Unix time).")
    )
    started: float | None = attrs.field(metadata=schema("When its last run started."))
    finished: float | None = attrs.field(
        metadata=schema("When it ended, done or failed.")
    )
    result: JSON | Unset = attrs.field(
        default=UNSET, metadata=schema("What the job returned, once done.")
    )
    error: str | Unset = attrs.field(
        default=UNSET, metadata=schema("Why its last run failed.")
    )


@attrs.frozen
class NewFile:
    """
    A file of an upload, stored on disk, for the store to record.

    @ivar kind: C{"file"}, C{"avatar"} or C{"screenshot"}, one for an
        upload's files.
    @ivar project: the screenshot's project's slug, else empty.
    """

    sha256: str
    size: int
    content_type: str
    filename: str
    kind: str
    project: str


@attrs.frozen
class UploadedFile:
    """
    A file of an upload, as the upload's answer lists it.
    """

    sha256: str = attrs.field(metadata=schema(pattern="^[0-9a-f]{64}$"))
    size: int = attrs.field(metadata=schema("Bytes.", minimum=0))
    content_type: str = attrs.field(metadata=schema("As its bytes show it."))
    url: str = attrs.field(
        metadata=schema("Where it is served: /files/ and its SHA-256.")
    )


@attrs.frozen
class FileInfo(UploadedFile):
    """
    An uploaded file, stored once however often uploaded.
    """

    created: str = attrs.field(
        metadata=schema("When it was first uploaded.", format="date-time")
    )


@attrs.frozen
class Page(Generic[_T_co]):
    """
    One page of a listing.

    @ivar models: the rows.
    @ivar next: the cursor of the next page, or L{None} on the last one.
    @ivar total: how many rows the whole listing has, when known; for the
        pages' own navigation, never sent.
    """

    models: tuple[_T_co, ...]
    next: str | None = attrs.field(
        metadata=schema("The next page's cursor.", pattern="^[0-9]{1,15}$")
    )
    total: int | None = attrs.field(default=None, metadata={WIRE: False})


@cache
def wire_fields(record: type) -> tuple[attrs.Attribute[Any], ...]:
    """
    @param record: an attrs class.
    @return: the fields of C{record} a client sees, in order.
    """
    return tuple(f for f in attrs.fields(record) if f.metadata.get(WIRE, True))


def to_json(value: object) -> JSON:
    """
    The one encoder of records: turn a record, or a list, tuple or mapping
    holding records, into JSON-ready data, leaving out L{UNSET} fields.

    @raise TypeError: for a value JSON cannot carry.
    """
    if value is None or isinstance(value, str | int | float):
        return value
    kind = type(value)
    if attrs.has(kind):
        found = {f.name: getattr(value, f.name) for f in wire_fields(kind)}
        return {k: to_json(v) for k, v in found.items() if v is not UNSET}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    raise TypeError(f"{kind.__name__} is not JSON")


__all__ = [
    "BOARDS",
    "GROUPS",
    "JSON",
    "SCHEMA",
    "UNSET",
    "WIRE",
    "Board",
    "Commit",
    "CommitFile",
    "EmailMigration",
    "FileInfo",
    "GameChange",
    "GameDetail",
    "GameLogEntry",
    "Group",
    "Host",
    "Job",
    "JobState",
    "JobStatus",
    "Language",
    "ListedGame",
    "Member",
    "NewFile",
    "Page",
    "Player",
    "Project",
    "Recount",
    "Repair",
    "Unset",
    "UploadedFile",
    "WaitingTeam",
    "schema",
    "to_json",
    "wire_fields",
]

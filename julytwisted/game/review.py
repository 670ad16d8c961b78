# -*- test-case-name: tests.game.test_review -*-
"""
Provisional points: which new commits are held for review before they
score, and the words of a review.

With C{--review-days N} every new commit that would score is held for
C{N} days after its arrival, then counts unless an admin rejected it.
Whatever C{--review-days} says, a commit that looks wrong is held until an
admin decides (L{Flag}): those are suspicious, not merely new.

Pure functions with no I/O; L{julytwisted.store.review} applies them, the
burst count in the ingest's Lua script (one counter shared by every node).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from julytwisted.game.events import CommitEvent, Host
from julytwisted.game.games import Game


class Flag(StrEnum):
    """Why a commit is held until an admin decides, whatever the review days."""

    #: More than L{BURST_LIMIT} commits by one author dated in one minute.
    BURST = "burst"
    #: Dated more than L{STALE_AGE} before its push arrived.
    STALE = "stale"
    #: Touches no file, from a host whose pushes list the files.
    EMPTY = "empty"
    #: Pushed with history from before the game it scores in.
    HISTORY = "history"


class ReviewState(StrEnum):
    """Where a commit stands in review; a commit never reviewed has none."""

    #: Waiting: it scores nothing until released or accepted.
    HELD = "held"
    #: Counts: released after the review days, or accepted by an admin.
    ACCEPTED = "accepted"
    #: Refused by an admin, with a reason: it never scores.
    REJECTED = "rejected"


#: Commits by one author dated within one minute past which each is a burst.
BURST_LIMIT = 30

#: How long before its arrival a commit may be dated and not look stale.
STALE_AGE = timedelta(days=7)

#: The hosts whose push payloads list each commit's files: there, a commit
#: with none is empty (the others' commits never carry files).
FILE_LISTING_HOSTS = frozenset({Host.GITHUB, Host.GITLAB})

#: The longest reason of a report or a rejection, in characters.
MAX_REASON = 500

#: The most review days C{--review-days} takes.
MAX_REVIEW_DAYS = 90


def minute_of(when: datetime) -> str:
    """
    @param when: a commit's own time, aware.
    @return: its UTC minute, C{"YYYY-MM-DDTHH:MM"}: the bucket of its
        author's burst count.
    """
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def is_burst(count: int, limit: int = BURST_LIMIT) -> bool:
    """
    @param count: how many commits of its author, it included, are dated in
        its minute so far.
    @return: whether this one is past the limit.
    """
    return count > limit


def is_stale(when: datetime, arrived: datetime) -> bool:
    """
    @return: whether a commit dated C{when} is more than L{STALE_AGE}
        older than its push's arrival.
    """
    return arrived - when > STALE_AGE


def commit_flags(
    commit: CommitEvent,
    arrived: datetime,
    scored: Sequence[Game],
    oldest: datetime,
    files_listed: bool,
) -> tuple[Flag, ...]:
    """
    The flags of one commit of a push, all but the burst (counted across
    pushes by the store).

    A commit that scores in no game is never flagged: holding it would
    change nothing.  History: the push also carries a commit dated before
    the start of a game this one scores in, as a repository imported whole
    (or kept unpushed since before the game) does.

    @param commit: the commit.
    @param arrived: when its push arrived, aware.
    @param scored: the games it scores in.
    @param oldest: the own time of the push's oldest commit.
    @param files_listed: whether the push came from a host that lists
        files (L{FILE_LISTING_HOSTS}) in a webhook that carried them.
    @return: its flags, in L{Flag}'s order.
    """
    if not scored:
        return ()
    found = []
    if is_stale(commit.timestamp, arrived):
        found.append(Flag.STALE)
    if files_listed and not commit.files:
        found.append(Flag.EMPTY)
    if any(oldest < game.start for game in scored):
        found.append(Flag.HISTORY)
    return tuple(found)


def release_at(arrived: datetime, days: int) -> datetime | None:
    """
    @param arrived: when a commit's push arrived.
    @param days: the review days; 0 turns review off.
    @return: when an unflagged new commit starts to count; L{None} when it
        counts at once.
    """
    if days <= 0:
        return None
    return arrived + timedelta(days=days)


def reason_text(reason: object) -> str:
    """
    A reason as a report or a rejection keeps it: stripped, one line.

    @raise ValueError: when it is not text, is empty, or is longer than
        L{MAX_REASON} characters.
    """
    if not isinstance(reason, str):
        raise ValueError("the reason must be text")
    text = " ".join(reason.split())
    if not text:
        raise ValueError("give a reason")
    if len(text) > MAX_REASON:
        raise ValueError(f"a reason is {MAX_REASON} characters at most")
    return text


__all__ = [
    "BURST_LIMIT",
    "FILE_LISTING_HOSTS",
    "MAX_REASON",
    "MAX_REVIEW_DAYS",
    "STALE_AGE",
    "Flag",
    "ReviewState",
    "commit_flags",
    "is_burst",
    "is_stale",
    "minute_of",
    "reason_text",
    "release_at",
]

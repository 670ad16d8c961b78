# -*- test-case-name: tests.game.test_hooks,tests.game.test_hooks_limits -*-
"""
What every host's push reader shares: the commit list checked and each hash
kept once, the commit shape GitHub and GitLab share, the repository's
canonical address, and the project with its texts cut to their limits.

Private to L{julytwisted.game.hooks}; raises only L{InvalidPayload}.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from julytwisted.errors import InvalidPayload
from julytwisted.game._payload import (
    AUTHOR_LENGTH,
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    Field,
    clean_email,
    commit_hash,
    cut,
    cut_message,
    elements_or_none,
    is_zero_sha,
    text_or,
    utc_time,
    web_url,
)
from julytwisted.game.days import offset_minutes
from julytwisted.game.events import CommitEvent, FileChange, Host, ProjectInfo
from julytwisted.game.languages import language_for
from julytwisted.game.repositories import RepositoryRef, canonical_url

#: The most commits one push may carry: GitHub's own limit per payload.
MAX_COMMITS = 2048
CHANGES = ("added", "modified", "removed")


def collect(
    commits: Sequence[Field],
    where: str,
    parse_one: Callable[[Field], CommitEvent | None],
) -> tuple[CommitEvent, ...]:
    """
    Parse C{commits} in order, dropping those C{parse_one} skips and every
    repeat of a hash.
    """
    if len(commits) > MAX_COMMITS:
        raise InvalidPayload(
            f"{where} holds {len(commits)} commits; at most {MAX_COMMITS} are accepted"
        )
    events: dict[str, CommitEvent] = {}
    for field in commits:
        event = parse_one(field)
        if event is not None:
            events.setdefault(event.hash, event)
    return tuple(events.values())


def listed_files(commit: Field) -> tuple[FileChange, ...]:
    """The C{added}, C{modified} and C{removed} path lists of a commit."""
    files = []
    for change in CHANGES:
        for item in elements_or_none(commit, change):
            path = item.text()
            files.append(FileChange(path, change, language_for(path)))
    return tuple(files)


def listed_commit(commit: Field) -> CommitEvent:
    """A commit in the shape GitHub and GitLab share."""
    author = commit["author"]
    return CommitEvent(
        hash=commit_hash(commit["id"]),
        author_name=cut(text_or(author, "name"), AUTHOR_LENGTH),
        author_email=clean_email(text_or(author, "email")),
        message=cut_message(commit["message"].text()),
        timestamp=utc_time(commit["timestamp"]),
        url=web_url(commit["url"]),
        files=listed_files(commit),
        utc_offset=given_offset(commit["timestamp"]),
    )


def given_offset(field: Field) -> int | None:
    """
    The UTC offset, in minutes, an ISO 8601 time is written in: the day the
    commit counts for until its player chooses a time zone.

    @param field: a time L{utc_time} has read already.
    @return: the offset; L{None} when the time names none.
    """
    try:
        return offset_minutes(datetime.fromisoformat(field.text().strip()))
    except (ValueError, OverflowError):
        return None


def bounded(commit: CommitEvent) -> CommitEvent:
    """
    A commit read elsewhere (a host's API) held to the limits a push's
    commits are: its message's first 64 KiB, its author's name cut, an
    e-mail no player can own dropped.
    """
    return attrs.evolve(
        commit,
        author_name=cut(commit.author_name, AUTHOR_LENGTH),
        author_email=clean_email(commit.author_email),
        message=cut_message(commit.message),
    )


def page(field: Field) -> str:
    """A repository's address as its canonical URL, the project's name."""
    try:
        return canonical_url(web_url(field))
    except InvalidPayload:
        field.fail("is not a repository's address such as https://host/owner/name")


def project(
    host: Host,
    ident: str,
    page: str,
    repo: Field,
    watchers: int = 0,
    forks: int = 0,
    forked: bool = False,
) -> ProjectInfo:
    """
    The repository C{ident} of C{host} at C{page}, its name and description
    (those of C{repo}) cut to their limits.
    """
    return ProjectInfo(
        service=host,
        slug=RepositoryRef(host, ident, page).slug,
        name=cut(repo["name"].text(), NAME_LENGTH),
        url=page,
        description=cut(text_or(repo, "description"), DESCRIPTION_LENGTH),
        watchers=watchers,
        forks=forks,
        forked=forked,
        host_id=ident,
    )


def full_or_empty(node: Field, key: str) -> str:
    """The full hash C{node[key]} names, or empty when absent or all zeros."""
    field = node.get(key)
    if field is None or is_zero_sha(field.text().strip()):
        return ""
    return commit_hash(field)


__all__ = [
    "CHANGES",
    "MAX_COMMITS",
    "bounded",
    "collect",
    "full_or_empty",
    "given_offset",
    "listed_commit",
    "page",
    "project",
]

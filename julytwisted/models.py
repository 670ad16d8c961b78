# -*- test-case-name: tests.test_models -*-
"""
Value types shared between the parts: what a push carries and what a game is.

Pure and immutable; every part may import this module.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """
    Turn a display name into a URL slug.

    @param name: any text, such as C{"Julython 2026"}.
    @return: the text lower-cased with every run of other characters turned into
        one C{-} and none at either end (C{"julython-2026"}); empty when the
        name holds no letter or digit.
    """
    return _NOT_SLUG.sub("-", name.lower()).strip("-")


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} carries no time zone")
    return value


@attrs.frozen
class Game:
    """
    A competition window: commits whose own timestamp falls in [start, end)
    score in it.

    @ivar name: the display name, such as C{"Julython 2026"}.
    @ivar start: the first instant of the window, aware.
    @ivar end: the first instant after the window, aware.
    """

    name: str
    start: datetime = attrs.field(converter=_aware_utc)
    end: datetime = attrs.field(converter=_aware_utc)

    @end.validator
    def _check_end(self, attribute: attrs.Attribute[datetime], value: datetime) -> None:
        if value <= self.start:
            raise ValueError(f"game {self.name!r} ends before it starts")

    #: The game's slug: its name lower-cased, other runs turned into C{-}.
    slug: str = attrs.field(init=False, eq=False, repr=False)

    @slug.default
    def _slug(self) -> str:
        return slugify(self.name)

    def holds(self, when: datetime) -> bool:
        """
        @param when: an aware instant.
        @return: whether C{when} falls inside this game's window.
        """
        return self.start <= when < self.end


@attrs.frozen
class FileChange:
    """
    One file a commit touched.

    @ivar path: the path inside the repository.
    @ivar change: C{"added"}, C{"modified"} or C{"removed"}.
    @ivar language: the language the file's name points to, or L{None}.
    """

    path: str
    change: str
    language: str | None


@attrs.frozen
class CommitEvent:
    """
    One commit of a push, as every service's payload is reduced to.

    @ivar hash: the commit id, lower-case hex.
    @ivar author_name: the author's name as the commit gives it.
    @ivar author_email: the author's e-mail, lower-cased; may be empty.
    @ivar message: the whole commit message.
    @ivar timestamp: when the commit was made, aware, in UTC.
    @ivar url: the commit's page at the service.
    @ivar files: the files it touched.
    """

    hash: str
    author_name: str
    author_email: str
    message: str
    timestamp: datetime = attrs.field(converter=_aware_utc)
    url: str
    files: tuple[FileChange, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The distinct languages of the files, sorted."""
        return tuple(sorted({f.language for f in self.files if f.language}))


@attrs.frozen
class ProjectInfo:
    """
    The repository a push came from.

    @ivar service: C{"github"}, C{"bitbucket"} or C{"gitlab"}.
    @ivar slug: the project's preferred slug, such as C{"gh-rmyers-julython"};
        the store may suffix it when another repository holds it already.
    @ivar name: the repository's name.
    @ivar url: the repository's page: the project's identity.
    @ivar description: the repository's description, possibly empty.
    @ivar watchers: the watcher (or star) count the payload gives, else 0.
    @ivar forks: the fork count the payload gives, else 0.
    @ivar forked: whether the repository is a fork.
    """

    service: str
    slug: str
    name: str
    url: str
    description: str = ""
    watchers: int = 0
    forks: int = 0
    forked: bool = False


@attrs.frozen
class Push:
    """
    What one webhook delivery carries.

    @ivar project: the repository.
    @ivar commits: the commits to consider, oldest first; empty for tag pushes,
        deletions and empty pushes.
    @ivar ref: the ref pushed to, such as C{"refs/heads/main"}, when known.
    """

    project: ProjectInfo
    commits: tuple[CommitEvent, ...]
    ref: str = ""


__all__ = ["CommitEvent", "FileChange", "Game", "ProjectInfo", "Push", "slugify"]

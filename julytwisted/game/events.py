# -*- test-case-name: tests.game.test_hooks,tests.game.test_hooks_limits -*-
"""
What a push carries, parsed from any host's payload: the project and its
commits with their files. Pure and immutable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from julytwisted.game.days import valid_offset
from julytwisted.game.games import aware_utc


class Host(StrEnum):
    """
    The code hosts that send pushes, spelled as their webhook URLs
    (C{/api/v1/github}), projects and configuration spell them.
    C{BITBUCKET} is Bitbucket Cloud; C{BITBUCKET_SERVER} is a self-managed
    Bitbucket Data Center (or Server), which has no public site.
    """

    GITHUB = "github"
    BITBUCKET = "bitbucket"
    GITLAB = "gitlab"
    BITBUCKET_SERVER = "bitbucket-server"


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
    @ivar utc_offset: the UTC offset, in minutes, the payload gave its time
        in (the author's clock), which sets the day it counts for until
        its player chooses a time zone; L{None} when the payload gave none.
    """

    hash: str
    author_name: str
    author_email: str
    message: str
    timestamp: datetime = attrs.field(converter=aware_utc)
    url: str
    files: tuple[FileChange, ...] = ()
    utc_offset: int | None = attrs.field(default=None, converter=valid_offset)

    @property
    def languages(self) -> tuple[str, ...]:
        """The distinct languages of the files, sorted."""
        return tuple(sorted({f.language for f in self.files if f.language}))


@attrs.frozen
class ProjectInfo:
    """
    The repository a push came from.

    @ivar service: the host that sent the push.
    @ivar slug: the project's preferred slug, such as C{"gh-rmyers-julython"};
        the store may suffix it when another repository holds it already.
    @ivar name: the repository's name.
    @ivar url: the repository's canonical URL (see
        L{julytwisted.game.repositories.canonical_url}), its name.
    @ivar description: the repository's description, possibly empty.
    @ivar watchers: the watcher (or star) count the payload gives, else 0.
    @ivar forks: the fork count the payload gives, else 0.
    @ivar forked: whether the repository is a fork.
    @ivar host_id: the host's id of the repository (GitHub C{repository.id},
        GitLab C{project.id}, Bitbucket C{repository.uuid}), the project's
        identity; empty when the payload carries none.
    """

    service: Host
    slug: str
    name: str
    url: str
    description: str = ""
    watchers: int = 0
    forks: int = 0
    forked: bool = False
    host_id: str = ""


@attrs.frozen
class Push:
    """
    What one webhook delivery carries.

    @ivar project: the repository.
    @ivar commits: the commits to consider, oldest first; empty for tag pushes,
        deletions and empty pushes.
    @ivar ref: the ref pushed to, such as C{"refs/heads/main"}, when known.
    @ivar before: the full hash the ref pointed to before the push, or empty
        when the payload does not say (or the ref is new: all zeros).
    @ivar after: the full hash the ref points to after the push, or empty.
    @ivar listed: how many commits the payload listed, before commits
        pushed already (not distinct) and repeats were dropped.
    @ivar announced: how many commits the push says it brought, at least:
        more than C{listed} when the host cut its list short (GitLab lists
        20, Bitbucket 5 per branch, GitHub 2048).
    """

    project: ProjectInfo
    commits: tuple[CommitEvent, ...]
    ref: str = ""
    before: str = ""
    after: str = ""
    listed: int = attrs.field()
    announced: int = attrs.field()

    @listed.default
    def _listed(self) -> int:
        return len(self.commits)

    @announced.default
    def _announced(self) -> int:
        return self.listed

    @property
    def truncated(self) -> bool:
        """Whether the push announces more commits than it lists."""
        return self.announced > self.listed


__all__ = ["CommitEvent", "FileChange", "Host", "ProjectInfo", "Push"]

# -*- test-case-name: tests.hosts.test_records -*-
"""
What julytwisted reads from a code host, as frozen records: the signed-in
account with its verified e-mails, a repository, a webhook.  Commits come
back as L{julytwisted.game.CommitEvent}s, as pushes give them.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


def verified(addresses: Iterable[str]) -> tuple[str, ...]:
    """
    @return: C{addresses} lower-cased, stripped, without repeats or anything
        that is not an address, in their first order.
    """
    seen: dict[str, None] = {}
    for address in addresses:
        email = address.strip().lower()
        if "@" in email.strip("@"):
            seen.setdefault(email, None)
    return tuple(seen)


@attrs.frozen
class Account:
    """
    The account a token belongs to.

    @ivar provider: the host's kind, C{"github"}, C{"gitlab"} or
        C{"bitbucket"}.
    @ivar id: its stable id at the host, as text: GitHub's and GitLab's
        C{id}, Bitbucket's C{uuid} (braces included).  A login can change;
        this cannot.
    @ivar login: the username it signs in with.
    @ivar name: its display name; may be empty.
    @ivar emails: only the addresses the host has verified, lower-cased,
        without repeats (see L{verified}).
    """

    provider: str
    id: str
    login: str
    name: str
    emails: tuple[str, ...] = attrs.field(converter=verified)


@attrs.frozen
class Repository:
    """
    A repository, as the host's API describes it to the token's account.

    @ivar provider: the host's kind.
    @ivar id: the host's id for it, as text (GitHub C{id}, GitLab project
        C{id}, Bitbucket C{uuid}): a rename or a transfer keeps it.
    @ivar path: its current C{owner/name} (GitLab: the whole namespace).
    @ivar url: its web page, as the host gives it, without a trailing slash.
    @ivar name: its name.
    @ivar description: its description; may be empty.
    @ivar admin: whether the token's account administers it (may manage
        its webhooks).
    @ivar private: whether only some accounts see it.
    @ivar forked: whether it is a fork.
    @ivar watchers: its stars (GitHub, GitLab); 0 where the host has none.
    @ivar forks: its forks; 0 where the answer does not say.
    @ivar default_branch: the name of its default branch (GitHub
        C{default_branch}, GitLab C{default_branch}, Bitbucket
        C{mainbranch.name}); empty for an empty repository or where unknown.
    """

    provider: str
    id: str
    path: str
    url: str
    name: str
    description: str
    admin: bool
    private: bool = False
    forked: bool = False
    watchers: int = 0
    forks: int = 0
    default_branch: str = ""


@attrs.frozen
class Hook:
    """
    A webhook of a repository.

    @ivar id: the host's id for it, as text.
    @ivar url: where it delivers.
    @ivar events: the events it delivers, in the host's names.
    @ivar active: whether the host delivers it now.
    """

    id: str
    url: str
    events: tuple[str, ...]
    active: bool


__all__ = ["Account", "Hook", "Repository", "verified"]

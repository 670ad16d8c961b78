# -*- test-case-name: tests.hosts.test_records -*-
"""
What julytwisted reads from a code host, as frozen records: the signed-in
account with its verified e-mails.
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


__all__ = ["Account", "verified"]

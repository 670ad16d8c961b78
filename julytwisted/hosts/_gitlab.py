# -*- test-case-name: tests.hosts.test_gitlab -*-
"""
GitLab's REST API v4 (gitlab.com and self-managed): the signed-in user and
their e-mails.

Each answer is read by a pure C{read_*} function, tested without a reactor;
the C{async} functions make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from julytwisted.hosts._http import (
    Http,
    Request,
    api_request,
    get_json,
    link_next,
    pages,
)
from julytwisted.hosts._json import Node, text_or
from julytwisted.hosts._providers import Host
from julytwisted.hosts._records import Account
from julytwisted.hosts.oauth import Token

_PER_PAGE = 100
_MOST_PAGES = 10


def _call(host: Host, method: str, path: str, token: Token, **options: Any) -> Request:
    return api_request(host, method, path, token.access_token, **options)


# The account


def read_account(host: Host, user: Node, email_pages: Iterable[Node]) -> Account:
    """
    @param user: the answer of C{GET /user}.
    @param email_pages: the pages of C{GET /user/emails}.
    @return: the account with its confirmed addresses: those of
        C{/user/emails} with a C{confirmed_at}, and the primary address of
        C{/user} (which that list may leave out) when the user's
        C{confirmed_at} says it was confirmed.
    """
    primary = [user["email"].text()] if user.get("confirmed_at") is not None else []
    listed = [
        item["email"].text()
        for page in email_pages
        for item in page.elements()
        if item.get("confirmed_at") is not None
    ]
    return Account(
        provider=host.provider,
        id=user["id"].ident(),
        login=user["username"].text(),
        name=text_or(user, "name"),
        emails=primary + listed,
    )


async def fetch_account(http: Http, host: Host, token: Token) -> Account:
    """@return: the account of C{token}, with its confirmed e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    first = _call(host, "GET", "/user/emails", token, params={"per_page": _PER_PAGE})
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    return read_account(host, user, [page async for page in listed])


__all__ = [
    "fetch_account",
    "read_account",
]

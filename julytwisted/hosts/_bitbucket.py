# -*- test-case-name: tests.hosts.test_bitbucket -*-
"""
Bitbucket Cloud's REST API 2.0: the signed-in user and their e-mails.

Lists are pages whose body names the C{next} one.  Each answer is read by a
pure C{read_*} function, tested without a reactor; the C{async} functions
make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from julytwisted.hosts._http import (
    Http,
    Request,
    api_request,
    body_next,
    get_json,
    pages,
)
from julytwisted.hosts._json import Node, flag_or, text_or
from julytwisted.hosts._providers import Host
from julytwisted.hosts._records import Account
from julytwisted.hosts.oauth import Token

_PAGE_LENGTH = 100
_MOST_PAGES = 10


def _call(host: Host, method: str, path: str, token: Token, **options: Any) -> Request:
    return api_request(host, method, path, token.access_token, **options)


def _values(page: Node) -> list[Node]:
    return page["values"].elements()


# The account


def read_account(host: Host, user: Node, email_pages: Iterable[Node]) -> Account:
    """
    @param user: the answer of C{GET /user}.
    @param email_pages: the pages of C{GET /user/emails}.
    @return: the account with its addresses marked C{is_confirmed}, the
        primary one first.
    """
    emails = [
        (not flag_or(item, "is_primary", False), item["email"].text())
        for page in email_pages
        for item in _values(page)
        if flag_or(item, "is_confirmed", False)
    ]
    return Account(
        provider=host.provider,
        id=user["uuid"].text(),
        login=text_or(user, "username") or user["nickname"].text(),
        name=text_or(user, "display_name"),
        emails=[email for _, email in sorted(emails, key=lambda e: e[0])],
    )


async def fetch_account(http: Http, host: Host, token: Token) -> Account:
    """@return: the account of C{token}, with its confirmed e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    params = {"pagelen": _PAGE_LENGTH}
    first = _call(host, "GET", "/user/emails", token, params=params)
    listed = pages(http, host, first, body_next, _MOST_PAGES)
    return read_account(host, user, [page async for page in listed])


__all__ = [
    "fetch_account",
    "read_account",
]

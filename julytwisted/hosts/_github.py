# -*- test-case-name: tests.hosts.test_github -*-
"""
GitHub's REST API (github.com and GitHub Enterprise Server), in the shapes
of its published OpenAPI description: the signed-in user and their
e-mails.

Each answer is read by a pure C{read_*} function, tested without a reactor;
the C{async} functions make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from julytwisted.hosts._http import (
    Http,
    Request,
    api_request,
    get_json,
    link_next,
    pages,
)
from julytwisted.hosts._json import Node, flag_or, text_or
from julytwisted.hosts._providers import Host
from julytwisted.hosts._records import Account
from julytwisted.hosts.oauth import Token

#: Sent with every call, as GitHub asks: its media type and the API version
#: these shapes are read in.
_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
_PER_PAGE = 100
_MOST_PAGES = 10


def _call(host: Host, method: str, path: str, token: Token, **options: Any) -> Request:
    return api_request(
        host, method, path, token.access_token, headers=_HEADERS, **options
    )


# The account


def noreply_domain(host: Host) -> str:
    """@return: where the noreply addresses of C{host}'s users live."""
    hostname = (urlsplit(host.web_url).hostname or "").lower()
    return f"users.noreply.{hostname}"


def read_account(host: Host, user: Node, email_pages: Iterable[Node]) -> Account:
    """
    @param user: the answer of C{GET /user}.
    @param email_pages: the pages of C{GET /user/emails}.
    @return: the account, with its verified addresses (primary first) and
        both forms of its noreply address, C{ID+LOGIN@} and C{LOGIN@}.
    """
    ident, login = user["id"].ident(), user["login"].text()
    emails = [
        (not flag_or(item, "primary", False), item["email"].text())
        for page in email_pages
        for item in page.elements()
        if item["verified"].flag()
    ]
    noreply = noreply_domain(host)
    return Account(
        provider=host.provider,
        id=ident,
        login=login,
        name=text_or(user, "name"),
        emails=[email for _, email in sorted(emails, key=lambda e: e[0])]
        + [f"{ident}+{login}@{noreply}", f"{login}@{noreply}"],
    )


async def fetch_account(http: Http, host: Host, token: Token) -> Account:
    """@return: the account of C{token}, with its verified e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    first = _call(host, "GET", "/user/emails", token, params={"per_page": _PER_PAGE})
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    email_pages = [page async for page in listed]
    return read_account(host, user, email_pages)


__all__ = [
    "fetch_account",
    "noreply_domain",
    "read_account",
]

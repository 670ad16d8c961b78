# -*- test-case-name: tests.hosts.test_github -*-
"""
GitHub's REST API (github.com and GitHub Enterprise Server), in the shapes
of its published OpenAPI description: the signed-in user and their
e-mails, a repository, its webhooks, and the commits between two others.

Each answer is read by a pure C{read_*} function, tested without a reactor;
the C{async} functions make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit

from julytwisted.errors import HostNotFound
from julytwisted.game import CommitEvent
from julytwisted.hosts._http import (
    Http,
    Request,
    api_request,
    check,
    delete,
    get_json,
    link_next,
    pages,
    segment,
    send,
)
from julytwisted.hosts._json import Node, flag_or, full_hash, text_or
from julytwisted.hosts._providers import ConfiguredHost
from julytwisted.hosts._records import Account, Hook, Repository
from julytwisted.hosts.oauth import Token

#: Sent with every call, as GitHub asks: its media type and the API version
#: these shapes are read in.
_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
_PER_PAGE = 100
_MOST_PAGES = 10
#: The first page of a comparison lists the changed files (up to 300, with
#: their patches): it is bounded apart.
_COMPARE_LIMIT = 16 * 1024 * 1024


def _call(
    host: ConfiguredHost, method: str, path: str, token: Token, **options: Any
) -> Request:
    return api_request(
        host, method, path, token.access_token, headers=_HEADERS, **options
    )


def _repo_path(repository: Repository) -> str:
    owner, _, name = repository.path.partition("/")
    return f"/repos/{segment(owner)}/{segment(name)}"


# The account


def noreply_domain(host: ConfiguredHost) -> str:
    """@return: where the noreply addresses of C{host}'s users live."""
    hostname = (urlsplit(host.web_url).hostname or "").lower()
    return f"users.noreply.{hostname}"


def read_account(
    host: ConfiguredHost, user: Node, email_pages: Iterable[Node]
) -> Account:
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


async def fetch_account(http: Http, host: ConfiguredHost, token: Token) -> Account:
    """@return: the account of C{token}, with its verified e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    first = _call(host, "GET", "/user/emails", token, params={"per_page": _PER_PAGE})
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    email_pages = [page async for page in listed]
    return read_account(host, user, email_pages)


# Repositories and their hooks


def read_repository(host: ConfiguredHost, repo: Node) -> Repository:
    """@param repo: the answer of C{GET /repos/{owner}/{repo}}."""
    permissions = repo.get("permissions")
    return Repository(
        provider=host.provider,
        id=repo["id"].ident(),
        path=repo["full_name"].text(),
        url=repo["html_url"].text().rstrip("/"),
        name=repo["name"].text(),
        description=text_or(repo, "description"),
        admin=permissions is not None and flag_or(permissions, "admin", False),
        private=flag_or(repo, "private", False),
        forked=flag_or(repo, "fork", False),
        watchers=repo["stargazers_count"].number(),
        forks=repo["forks_count"].number(),
        default_branch=text_or(repo, "default_branch"),
    )


async def fetch_repository(
    http: Http, host: ConfiguredHost, token: Token, path: str
) -> Repository:
    """@param path: C{owner/name}."""
    owner, _, name = path.partition("/")
    request = _call(host, "GET", f"/repos/{segment(owner)}/{segment(name)}", token)
    _, repo = await get_json(http, request)
    return read_repository(host, repo)


def read_hook(hook: Node) -> Hook:
    """@param hook: one hook, as C{GET /repos/{owner}/{repo}/hooks} lists."""
    return Hook(
        id=hook["id"].ident(),
        url=text_or(hook["config"], "url"),
        events=tuple(event.text() for event in hook["events"].elements()),
        active=hook["active"].flag(),
    )


async def create_hook(
    http: Http,
    host: ConfiguredHost,
    token: Token,
    repository: Repository,
    url: str,
    secret: str,
) -> Hook:
    """Add a push webhook signed with C{secret} (C{X-Hub-Signature-256})."""
    body = {
        "name": "web",
        "active": True,
        "events": ["push"],
        "config": {
            "url": url,
            "content_type": "json",
            "secret": secret,
            "insecure_ssl": "0",
        },
    }
    path = f"{_repo_path(repository)}/hooks"
    _, hook = await get_json(http, _call(host, "POST", path, token, json=body))
    return read_hook(hook)


async def list_hooks(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository
) -> tuple[Hook, ...]:
    """@return: every webhook of C{repository}."""
    params = {"per_page": _PER_PAGE}
    first = _call(host, "GET", f"{_repo_path(repository)}/hooks", token, params=params)
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    return tuple([read_hook(hook) async for page in listed for hook in page.elements()])


async def ping_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """Have GitHub send the hook its C{ping} event; @return: L{True}."""
    path = f"{_repo_path(repository)}/hooks/{segment(hook_id)}/pings"
    check(http, await send(http, _call(host, "POST", path, token)))
    return True


async def delete_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """@return: whether the hook was there to delete."""
    path = f"{_repo_path(repository)}/hooks/{segment(hook_id)}"
    return await delete(http, _call(host, "DELETE", path, token))


# Commits


def read_commit(commit: Node) -> CommitEvent:
    """@param commit: one of a comparison's C{commits}."""
    detail = commit["commit"]
    author = detail["author"]
    return CommitEvent(
        hash=full_hash(commit["sha"]),
        author_name=text_or(author, "name").strip(),
        author_email=text_or(author, "email").strip().lower(),
        message=detail["message"].text(),
        timestamp=author["date"].time(),
        url=commit["html_url"].text(),
    )


async def compare(
    http: Http,
    host: ConfiguredHost,
    token: Token,
    repository: Repository,
    base: str,
    head: str,
    most: int,
) -> tuple[CommitEvent, ...]:
    """
    The commits of C{head} that C{base} lacks, oldest first (GitHub lists
    them so when asked page by page), at most C{most}.
    """
    path = f"{_repo_path(repository)}/compare/{segment(base)}...{segment(head)}"
    first = _call(
        host, "GET", path, token, limit=_COMPARE_LIMIT, params={"per_page": _PER_PAGE}
    )
    found: list[CommitEvent] = []
    listed = pages(http, host, first, link_next, most // _PER_PAGE + 1)
    async with aclosing(listed):
        async for page in listed:
            found.extend(read_commit(c) for c in page["commits"].elements())
            if len(found) >= most:
                break
    return tuple(found[:most])


async def fetch_commit(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, sha: str
) -> CommitEvent:
    """
    One commit of the repository, from C{GET /repos/{owner}/{repo}/commits/{ref}}.

    @raise HostNotFound: when the repository has no such commit: GitHub
        answers 422 ("No commit found for SHA") for a hash it does not know,
        404 for a repository it does not show.
    """
    path = f"{_repo_path(repository)}/commits/{segment(sha)}"
    request = _call(host, "GET", path, token, limit=_COMPARE_LIMIT)
    answer = await send(http, request)
    if answer.status == 422:
        said = answer.message() or "no such commit"
        raise HostNotFound(f"{request.what} answered 422: {said}")
    return read_commit(check(http, answer).json())


__all__ = [
    "compare",
    "create_hook",
    "delete_hook",
    "fetch_account",
    "fetch_commit",
    "fetch_repository",
    "list_hooks",
    "noreply_domain",
    "ping_hook",
    "read_account",
    "read_commit",
    "read_hook",
    "read_repository",
]

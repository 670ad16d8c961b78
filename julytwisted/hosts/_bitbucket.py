# -*- test-case-name: tests.hosts.test_bitbucket -*-
"""
Bitbucket Cloud's REST API 2.0: the signed-in user and their e-mails, a
repository and the account's permission on it, its webhooks, and the
commits one revision has that another lacks.

Lists are pages whose body names the C{next} one.  Each answer is read by a
pure C{read_*} function, tested without a reactor; the C{async} functions
make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import aclosing
from typing import Any

from julytwisted.game import CommitEvent
from julytwisted.hosts._http import (
    Http,
    Request,
    api_request,
    body_next,
    delete,
    get_json,
    pages,
    segment,
)
from julytwisted.hosts._json import Node, flag_or, full_hash, text_or
from julytwisted.hosts._providers import ConfiguredHost
from julytwisted.hosts._records import Account, Hook, Repository
from julytwisted.hosts.oauth import Token

_PAGE_LENGTH = 100
_MOST_PAGES = 10


def _call(
    host: ConfiguredHost, method: str, path: str, token: Token, **options: Any
) -> Request:
    return api_request(host, method, path, token.access_token, **options)


def _repo_path(repository: Repository) -> str:
    workspace, _, slug = repository.path.partition("/")
    return f"/repositories/{segment(workspace)}/{segment(slug)}"


def _values(page: Node) -> list[Node]:
    return page["values"].elements()


# The account


def read_account(
    host: ConfiguredHost, user: Node, email_pages: Iterable[Node]
) -> Account:
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


async def fetch_account(http: Http, host: ConfiguredHost, token: Token) -> Account:
    """@return: the account of C{token}, with its confirmed e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    params = {"pagelen": _PAGE_LENGTH}
    first = _call(host, "GET", "/user/emails", token, params=params)
    listed = pages(http, host, first, body_next, _MOST_PAGES)
    return read_account(host, user, [page async for page in listed])


# Repositories and their hooks


def read_repository(host: ConfiguredHost, repo: Node, permission: str) -> Repository:
    """
    @param repo: the answer of C{GET /repositories/{workspace}/{repo_slug}}.
    @param permission: the account's, C{"admin"}, C{"write"}, C{"read"}, or
        empty when it holds none of its own.
    """
    return Repository(
        provider=host.provider,
        id=repo["uuid"].text(),
        path=repo["full_name"].text(),
        url=repo["links"]["html"]["href"].text().rstrip("/"),
        name=repo["name"].text(),
        description=text_or(repo, "description"),
        admin=permission == "admin",
        private=flag_or(repo, "is_private", False),
        forked=repo.get("parent") is not None,
        default_branch=_main_branch(repo),
    )


def _main_branch(repo: Node) -> str:
    """The name of a repository's main branch; empty for an empty one."""
    branch = repo.get("mainbranch")
    return "" if branch is None else text_or(branch, "name")


def read_permission(page: Node) -> str:
    """
    @param page: the answer of C{GET /user/permissions/repositories} asked
        for one repository.
    @return: the account's permission on it; empty when not listed.
    """
    permissions = [text_or(item, "permission") for item in _values(page)]
    return permissions[0] if permissions else ""


async def fetch_repository(
    http: Http, host: ConfiguredHost, token: Token, path: str
) -> Repository:
    """@param path: C{workspace/repo_slug}."""
    workspace, _, slug = path.partition("/")
    where = f"/repositories/{segment(workspace)}/{segment(slug)}"
    _, repo = await get_json(http, _call(host, "GET", where, token))
    query = {"q": f'repository.uuid="{repo["uuid"].text()}"'}
    asked = _call(host, "GET", "/user/permissions/repositories", token, params=query)
    _, permissions = await get_json(http, asked)
    return read_repository(host, repo, read_permission(permissions))


def read_hook(hook: Node) -> Hook:
    """@param hook: one webhook subscription, as the hooks list gives it."""
    return Hook(
        id=hook["uuid"].text(),
        url=hook["url"].text(),
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
    """Add a C{repo:push} webhook signed with C{secret} (C{X-Hub-Signature})."""
    body = {
        "description": "julytwisted",
        "url": url,
        "active": True,
        "secret": secret,
        "events": ["repo:push"],
    }
    path = f"{_repo_path(repository)}/hooks"
    _, hook = await get_json(http, _call(host, "POST", path, token, json=body))
    return read_hook(hook)


async def list_hooks(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository
) -> tuple[Hook, ...]:
    """@return: every webhook of C{repository}."""
    params = {"pagelen": _PAGE_LENGTH}
    first = _call(host, "GET", f"{_repo_path(repository)}/hooks", token, params=params)
    listed = pages(http, host, first, body_next, _MOST_PAGES)
    return tuple([read_hook(hook) async for page in listed for hook in _values(page)])


async def ping_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """Bitbucket Cloud has no call that pings a webhook: @return: L{False}."""
    return False


async def delete_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """@return: whether the hook was there to delete."""
    path = f"{_repo_path(repository)}/hooks/{segment(hook_id)}"
    return await delete(http, _call(host, "DELETE", path, token))


# Commits


def read_commit(commit: Node) -> CommitEvent:
    """@param commit: one commit of the commits list."""
    author = commit["author"]
    raw = text_or(author, "raw").strip()
    name, email = raw, ""
    if raw.endswith(">") and "<" in raw:
        name, _, email = raw[:-1].rpartition("<")
    name = name.strip() or text_or(author.get("user"), "display_name")
    return CommitEvent(
        hash=full_hash(commit["hash"]),
        author_name=name.strip(),
        author_email=email.strip().lower(),
        message=commit["message"].text(),
        timestamp=commit["date"].time(),
        url=commit["links"]["html"]["href"].text(),
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
    The commits C{head} includes and C{base} excludes, oldest first; at most
    C{most} (the newest, when there are more: Bitbucket lists newest first).
    """
    params = {"include": head, "exclude": base, "pagelen": _PAGE_LENGTH}
    path = f"{_repo_path(repository)}/commits"
    first = _call(host, "GET", path, token, params=params)
    found: list[CommitEvent] = []
    listed = pages(http, host, first, body_next, most // _PAGE_LENGTH + 1)
    async with aclosing(listed):
        async for page in listed:
            found.extend(read_commit(commit) for commit in _values(page))
            if len(found) >= most:
                break
    return tuple(reversed(found[:most]))


async def fetch_commit(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, sha: str
) -> CommitEvent:
    """
    One commit of the repository, from
    C{GET /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}}.

    @raise HostNotFound: when the repository has no such commit.
    """
    path = f"{_repo_path(repository)}/commit/{segment(sha)}"
    _, commit = await get_json(http, _call(host, "GET", path, token))
    return read_commit(commit)


__all__ = [
    "compare",
    "create_hook",
    "delete_hook",
    "fetch_account",
    "fetch_commit",
    "fetch_repository",
    "list_hooks",
    "ping_hook",
    "read_account",
    "read_commit",
    "read_hook",
    "read_permission",
    "read_repository",
]

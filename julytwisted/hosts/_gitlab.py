# -*- test-case-name: tests.hosts.test_gitlab -*-
"""
GitLab's REST API v4 (gitlab.com and self-managed): the signed-in user and
their e-mails, a project, its hooks, and a repository comparison.

Each answer is read by a pure C{read_*} function, tested without a reactor;
the C{async} functions make the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from julytwisted.hosts._json import Node, full_hash, text_or
from julytwisted.hosts._providers import ConfiguredHost
from julytwisted.hosts._records import Account, Hook, Repository
from julytwisted.hosts.oauth import Token

_PER_PAGE = 100
_MOST_PAGES = 10
#: A comparison carries its diffs too: it is bounded apart.
_COMPARE_LIMIT = 16 * 1024 * 1024
#: The least access level that manages a project's hooks: Maintainer (40);
#: Owner is 50.
_MAINTAINER = 40


def _call(
    host: ConfiguredHost, method: str, path: str, token: Token, **options: Any
) -> Request:
    return api_request(host, method, path, token.access_token, **options)


def _project(repository: Repository) -> str:
    return f"/projects/{segment(repository.id)}"


# The account


def read_account(
    host: ConfiguredHost, user: Node, email_pages: Iterable[Node]
) -> Account:
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


async def fetch_account(http: Http, host: ConfiguredHost, token: Token) -> Account:
    """@return: the account of C{token}, with its confirmed e-mails."""
    _, user = await get_json(http, _call(host, "GET", "/user", token))
    first = _call(host, "GET", "/user/emails", token, params={"per_page": _PER_PAGE})
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    return read_account(host, user, [page async for page in listed])


# Projects and their hooks


def _access(project: Node) -> int:
    """The highest access level the token's user holds on C{project}."""
    permissions = project.get("permissions")
    if permissions is None:
        return 0
    levels = [0]
    for kind in ("project_access", "group_access"):
        access = permissions.get(kind)
        if access is not None:
            levels.append(access["access_level"].number())
    return max(levels)


def read_repository(host: ConfiguredHost, project: Node) -> Repository:
    """@param project: the answer of C{GET /projects/:id}."""
    return Repository(
        provider=host.provider,
        id=project["id"].ident(),
        path=project["path_with_namespace"].text(),
        url=project["web_url"].text().rstrip("/"),
        name=project["name"].text(),
        description=text_or(project, "description"),
        admin=_access(project) >= _MAINTAINER,
        private=text_or(project, "visibility", "private") != "public",
        forked=project.get("forked_from_project") is not None,
        watchers=project["star_count"].number(),
        forks=project["forks_count"].number(),
        default_branch=text_or(project, "default_branch"),
    )


async def fetch_repository(
    http: Http, host: ConfiguredHost, token: Token, path: str
) -> Repository:
    """@param path: the project's whole path, C{group/subgroup/name}."""
    request = _call(host, "GET", f"/projects/{segment(path)}", token)
    _, project = await get_json(http, request)
    return read_repository(host, project)


def read_hook(hook: Node) -> Hook:
    """
    @param hook: one hook, as C{GET /projects/:id/hooks} lists it; its
        events are the C{*_events} flags it has set.
    """
    flags = hook.value if isinstance(hook.value, dict) else {}
    events = sorted(k for k, v in flags.items() if k.endswith("_events") and v is True)
    return Hook(
        id=hook["id"].ident(),
        url=hook["url"].text(),
        events=tuple(events),
        active=text_or(hook, "alert_status", "executable") == "executable",
    )


async def create_hook(
    http: Http,
    host: ConfiguredHost,
    token: Token,
    repository: Repository,
    url: str,
    secret: str,
) -> Hook:
    """Add a push hook whose C{X-Gitlab-Token} is C{secret}."""
    body = {
        "url": url,
        "token": secret,
        "push_events": True,
        "tag_push_events": False,
        "merge_requests_events": False,
        "enable_ssl_verification": True,
    }
    path = f"{_project(repository)}/hooks"
    _, hook = await get_json(http, _call(host, "POST", path, token, json=body))
    return read_hook(hook)


async def list_hooks(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository
) -> tuple[Hook, ...]:
    """@return: every hook of the project."""
    params = {"per_page": _PER_PAGE}
    first = _call(host, "GET", f"{_project(repository)}/hooks", token, params=params)
    listed = pages(http, host, first, link_next, _MOST_PAGES)
    return tuple([read_hook(hook) async for page in listed for hook in page.elements()])


async def ping_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """Have GitLab send the hook a test push event; @return: L{True}."""
    path = f"{_project(repository)}/hooks/{segment(hook_id)}/test/push_events"
    check(http, await send(http, _call(host, "POST", path, token)))
    return True


async def delete_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """@return: whether the hook was there to delete."""
    path = f"{_project(repository)}/hooks/{segment(hook_id)}"
    return await delete(http, _call(host, "DELETE", path, token))


# Commits


def read_commit(commit: Node) -> CommitEvent:
    """@param commit: one of a comparison's C{commits}."""
    return CommitEvent(
        hash=full_hash(commit["id"]),
        author_name=text_or(commit, "author_name").strip(),
        author_email=text_or(commit, "author_email").strip().lower(),
        message=commit["message"].text(),
        timestamp=commit["authored_date"].time(),
        url=commit["web_url"].text(),
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
    The commits of C{head} that C{base} lacks (from their merge base), as
    GitLab lists them, oldest first; at most C{most}.
    """
    params = {"from": base, "to": head}
    path = f"{_project(repository)}/repository/compare"
    request = _call(host, "GET", path, token, limit=_COMPARE_LIMIT, params=params)
    _, comparison = await get_json(http, request)
    commits = comparison["commits"].elements()
    return tuple(read_commit(commit) for commit in commits[:most])


async def fetch_commit(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, sha: str
) -> CommitEvent:
    """
    One commit of the project, from
    C{GET /projects/:id/repository/commits/:sha}.

    @raise HostNotFound: when the project has no such commit (or is not
        shown to the token).
    """
    path = f"{_project(repository)}/repository/commits/{segment(sha)}"
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
    "read_repository",
]

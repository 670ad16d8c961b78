# -*- test-case-name: tests.hosts.test_bitbucket_server -*-
"""
Bitbucket Data Center's (and Server's) REST API 1.0: a repository, read
to check the HTTP access token its owner gives, and the commits one revision
has that another lacks, which its push webhooks leave out.

Lists are pages of C{values} with C{isLastPage} and C{nextPageStart}.
Commits come newest first, each with its C{author} (C{name},
C{emailAddress}, a linked user's C{displayName}), C{authorTimestamp} in
milliseconds and C{message}.  A public repository answers without a token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from julytwisted.game import CommitEvent
from julytwisted.hosts._http import Http, Request, get_json, segment
from julytwisted.hosts._json import Node, flag_or, full_hash, text_or
from julytwisted.hosts._providers import BITBUCKET_SERVER, ConfiguredHost
from julytwisted.hosts._records import Repository
from julytwisted.hosts.oauth import Token

_PAGE_LENGTH = 100


def read_commit(page: str, commit: Node) -> CommitEvent:
    """
    @param page: the repository's page (C{.../projects/K/repos/S}), which
        the commit's own page is under.
    @param commit: one commit of the commits list.
    """
    sha = full_hash(commit["id"])
    author = commit["author"]
    name = text_or(author, "displayName") or text_or(author, "name")
    millis = commit["authorTimestamp"]
    count = millis.number()
    try:
        when = datetime.fromtimestamp(count / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        millis.fail("is not a time in milliseconds")
    return CommitEvent(
        hash=sha,
        author_name=name.strip(),
        author_email=text_or(author, "emailAddress").strip().lower(),
        message=commit["message"].text(),
        timestamp=when,
        url=f"{page.rstrip('/')}/commits/{sha}",
    )


def _request(
    host: ConfiguredHost, path: str, token: Token | None, params: dict[str, object]
) -> Request:
    what = f"{host.spec.title}'s GET {path}"
    access = None if token is None else token.access_token
    return Request("GET", host.api(path), what, access, {"params": params})


async def data_center_repository(
    http: Http, host: ConfiguredHost, token: Token | None, key: str, slug: str
) -> Repository:
    """
    Read a repository (C{GET /projects/{key}/repos/{slug}}), as a token
    with repository read permission may.

    @param token: the bearer token to send; L{None} to ask anonymously.
    @param key: the project's key (C{~USER} for a personal repository).
    @return: the repository; C{admin} is always false, since reading it
        tells nothing of its administrators.
    @raise TokenRejected: when the server refuses the token, or asks for
        one (Data Center answers 401 for a token lacking the permission).
    @raise HostNotFound: when the token's account sees no such repository.
    """
    path = f"/projects/{segment(key)}/repos/{segment(slug)}"
    _, repo = await get_json(http, _request(host, path, token, {}))
    links = repo.get("links")
    pages = None if links is None else links.get("self")
    hrefs = [] if pages is None else [text_or(p, "href") for p in pages.elements()]
    page = next((h for h in hrefs if h), host.web(path + "/browse"))
    return Repository(
        provider=BITBUCKET_SERVER,
        id=str(repo["id"].number()),
        path=f"{repo['project']['key'].text()}/{repo['slug'].text()}",
        url=page.split("?", 1)[0].removesuffix("/browse"),
        name=repo["name"].text(),
        description=text_or(repo, "description"),
        admin=False,
        private=not flag_or(repo, "public", False),
        forked=repo.get("origin") is not None,
    )


async def data_center_commits(
    http: Http,
    host: ConfiguredHost,
    token: Token | None,
    key: str,
    slug: str,
    page: str,
    since: str,
    until: str,
    most: int,
) -> tuple[CommitEvent, ...]:
    """
    The commits C{until} has and C{since} lacks (C{GET
    /projects/{key}/repos/{slug}/commits?since=&until=}), oldest first; at
    most C{most} (the newest, when there are more).

    @param token: the bearer token to send; L{None} to ask anonymously,
        as a public repository allows.
    @param key: the project's key (C{~USER} for a personal repository).
    @param page: the repository's page, which commit links are made from.
    @param since: the revision already known; empty for every ancestor of
        C{until} (a new branch).
    @param until: the revision pushed.
    @return: the commits, without their files.
    """
    path = f"/projects/{segment(key)}/repos/{segment(slug)}/commits"
    params: dict[str, object] = {"until": until, "limit": _PAGE_LENGTH}
    if since:
        params["since"] = since
    found: list[CommitEvent] = []
    start = 0
    for _ in range(most // _PAGE_LENGTH + 1):
        asked = _request(host, path, token, params | {"start": start})
        _, listed = await get_json(http, asked)
        found.extend(read_commit(page, c) for c in listed["values"].elements())
        following = listed.get("nextPageStart")
        last = listed.get("isLastPage")
        if len(found) >= most or following is None or (last and last.flag()):
            break
        if following.number() <= start:
            following.fail("does not move past the page it ends")
        start = following.number()
    return tuple(reversed(found[:most]))


__all__ = ["data_center_commits", "data_center_repository", "read_commit"]

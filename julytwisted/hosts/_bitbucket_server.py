# -*- test-case-name: tests.hosts.test_bitbucket_server -*-
"""
Bitbucket Data Center's (and Server's) REST API 1.0: the commits one
revision has that another lacks, which its push webhooks leave out.

Lists are pages of C{values} with C{isLastPage} and C{nextPageStart}.
Commits come newest first, each with its C{author} (C{name},
C{emailAddress}, a linked user's C{displayName}), C{authorTimestamp} in
milliseconds and C{message}.  A public repository answers without a token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from julytwisted.game import CommitEvent
from julytwisted.hosts._http import Http, Request, get_json, segment
from julytwisted.hosts._json import Node, full_hash, text_or
from julytwisted.hosts._providers import ConfiguredHost
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


__all__ = ["data_center_commits", "read_commit"]

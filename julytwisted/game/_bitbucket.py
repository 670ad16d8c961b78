# -*- test-case-name: tests.game.test_hooks,tests.game.test_hooks_limits -*-
"""
Bitbucket Cloud's pushes: webhooks 2.0 C{repo:push} payloads and those of
the old POST service, which Julython first received.

Private to L{julytwisted.game.hooks}; raises only L{InvalidPayload}.
"""

from __future__ import annotations

import re
from functools import partial

import attrs

from julytwisted.game import _push
from julytwisted.game._payload import (
    Field,
    commit_hash,
    cut_message,
    elements_or_none,
    flag_or,
    raw_author,
    repository_id,
    text_or,
    utc_time,
    web_url,
)
from julytwisted.game.events import CommitEvent, FileChange, Host, Push
from julytwisted.game.languages import language_for

_REPOSITORY_PATH = re.compile(r"[\w.~-]+(?:/[\w.~-]+)*")
_BITBUCKET = "https://bitbucket.org"


def _bitbucket_files(commit: Field) -> tuple[FileChange, ...]:
    files = []
    for item in elements_or_none(commit, "files"):
        path = item["file"].text()
        kind = item["type"]
        if kind.text() not in _push.CHANGES:
            kind.fail("is not added, modified or removed")
        files.append(FileChange(path, kind.text(), language_for(path)))
    return tuple(files)


def _bitbucket_post_commit(commit: Field, page: str) -> CommitEvent:
    """A commit of the old POST service, whose repository page is C{page}."""
    sha = commit_hash(commit.get("raw_node") or commit["node"])
    name, email = raw_author(commit.get("raw_author"), text_or(commit, "author"))
    return CommitEvent(
        hash=sha,
        author_name=name,
        author_email=email,
        message=cut_message(commit["message"].text()),
        timestamp=utc_time(commit.get("utctimestamp") or commit["timestamp"]),
        url=f"{page}/commits/{sha}",
        files=_bitbucket_files(commit),
    )


def _bitbucket_post(root: Field) -> Push:
    """A payload of Bitbucket's old POST service."""
    canon = root.get("canon_url")
    repo = root["repository"]
    absolute = repo["absolute_url"]
    path = absolute.text().strip("/")
    if not _REPOSITORY_PATH.fullmatch(path):
        absolute.fail("is not a repository path such as /owner/name/")
    site = web_url(canon).rstrip("/") if canon else _BITBUCKET
    page = _push.page(Field(f"{site}/{path}", absolute.path))
    project = _push.project(
        Host.BITBUCKET, "", page, repo, forked=flag_or(repo, "fork", False)
    )
    commits = elements_or_none(root, "commits")
    branch = text_or(commits[-1], "branch") if commits else ""
    events = _push.collect(
        commits, "commits", partial(_bitbucket_post_commit, page=page)
    )
    return Push(project, events, f"refs/heads/{branch}" if branch else "")


def _bitbucket_cloud_commit(commit: Field, page: str) -> CommitEvent:
    """A commit of a webhooks 2.0 change; C{page} is the repository's."""
    sha = commit_hash(commit["hash"])
    author = commit["author"]
    user = author.get("user")
    name, email = raw_author(
        author.get("raw"), text_or(user, "display_name") if user else ""
    )
    links = commit.get("links")
    html = links.get("html") if links else None
    link = html.get("href") if html else None
    return CommitEvent(
        hash=sha,
        author_name=name,
        author_email=email,
        message=cut_message(commit["message"].text()),
        timestamp=utc_time(commit["date"]),
        url=web_url(link) if link else f"{page}/commits/{sha}",
        utc_offset=_push.given_offset(commit["date"]),
    )


@attrs.define
class _Changes:
    """
    The branch updates of a Bitbucket push: their commits, oldest first
    (Bitbucket lists each change's newest first), the first ref updated, the
    first branch's hashes before and after, and how many changes were cut
    short (C{truncated}: more commits than listed).
    """

    commits: list[Field] = attrs.Factory(list)
    refs: list[str] = attrs.Factory(list)
    before: str = ""
    after: str = ""
    truncated: int = 0

    def add(self, change: Field, new: Field) -> None:
        tagged = text_or(new, "type") in ("tag", "annotated_tag")
        self.refs.append(f"refs/{'tags' if tagged else 'heads'}/{new['name'].text()}")
        if tagged:
            return
        self.commits.extend(reversed(elements_or_none(change, "commits")))
        self.truncated += flag_or(change, "truncated", False)
        if not self.after:
            self.after = _target_hash(new)
            old = change.get("old")
            self.before = "" if old is None else _target_hash(old)


def _target_hash(branch: Field) -> str:
    target = branch.get("target")
    return "" if target is None else _push.full_or_empty(target, "hash")


def _bitbucket_cloud(root: Field) -> Push:
    """A C{repo:push} payload of Bitbucket webhooks 2.0."""
    repo = root["repository"]
    page = _push.page(repo["links"]["html"]["href"])
    project = _push.project(
        Host.BITBUCKET,
        repository_id(repo.get("uuid")),
        page,
        repo,
        forked=repo.get("parent") is not None,
    )
    changes = _Changes()
    for change in root["push"]["changes"].elements():
        new = change.get("new")
        if new is not None:
            changes.add(change, new)
    events = _push.collect(
        changes.commits, "push.changes", partial(_bitbucket_cloud_commit, page=page)
    )
    listed = len(changes.commits)
    return Push(
        project,
        events,
        changes.refs[0] if changes.refs else "",
        before=changes.before,
        after=changes.after,
        listed=listed,
        announced=listed + changes.truncated,
    )


def parse_bitbucket(payload: object) -> Push:
    """
    Reduce a Bitbucket Cloud push: a webhooks 2.0 C{repo:push} payload, or
    one of the old POST service, which Julython first received.

    Branch deletions and tag pushes give no commits.  The 2.0 format carries
    no file lists (so its commits have no files) and at most five commits per
    branch.

    @param payload: the decoded JSON body.
    @return: the push.
    @raise InvalidPayload: when the payload is not a Bitbucket push.
    """
    root = Field(payload, "")
    if root.get("push") is None and (root.get("canon_url") or root.get("commits")):
        return _bitbucket_post(root)
    return _bitbucket_cloud(root)


__all__ = ["parse_bitbucket"]

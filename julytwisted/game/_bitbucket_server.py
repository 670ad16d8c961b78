# -*- test-case-name: tests.game.test_bitbucket_server -*-
"""
Bitbucket Data Center's (and Server's) pushes: C{repo:refs_changed}
payloads, which name the repository and each ref's hashes before and after
the push, and carry no commits of their own (recent versions list a few;
they are not read).  The commits come from the host's REST API afterwards
(L{julytwisted.hosts.data_center_commits}), one L{DataCenterFetch} per
branch the push moved.

Private to L{julytwisted.game.hooks}; raises only L{InvalidPayload}.
"""

from __future__ import annotations

from typing import Any

import attrs

from julytwisted.errors import InvalidPayload
from julytwisted.game import _push
from julytwisted.game._payload import (
    AUTHOR_LENGTH,
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    Field,
    clean_email,
    cut,
    cut_message,
    is_zero_sha,
    repository_id,
    text_or,
    web_url,
)
from julytwisted.game.events import CommitEvent, Host, ProjectInfo, Push
from julytwisted.game.repositories import RepositoryRef, canonical_url

#: Ref changes one push may carry: more is refused, as a push of more
#: commits than GitHub sends is.
MAX_CHANGES = 256


@attrs.frozen
class DataCenterFetch:
    """
    One branch a Bitbucket Data Center push moved: what the job that
    fetches its commits needs, as JSON-ready fields.

    @ivar host_id: the server's id of the repository, as text.
    @ivar url: the repository's canonical URL.
    @ivar name: its name, cut to its limit.
    @ivar description: its description, cut to its limit.
    @ivar forked: whether it is a fork.
    @ivar key: its project's key as the REST API takes it (C{PROJ}, or
        C{~USER} for a personal repository).
    @ivar slug: its slug.
    @ivar page: its page as the server spells it (C{.../repos/SLUG}),
        which commit links are made from.
    @ivar ref: the branch, such as C{refs/heads/main}.
    @ivar before: the full hash the branch pointed to; empty for a new one.
    @ivar after: the full hash it points to now.
    """

    host_id: str
    url: str
    name: str
    description: str
    forked: bool
    key: str
    slug: str
    page: str
    ref: str
    before: str
    after: str

    @property
    def repository(self) -> RepositoryRef:
        """The repository, as the store keys it."""
        return RepositoryRef(Host.BITBUCKET_SERVER, self.host_id, self.url)

    def push(self, commits: tuple[CommitEvent, ...]) -> Push:
        """
        @param commits: the commits the server lists for this change,
            oldest first.
        @return: the push they make, as the ingest takes it.
        """
        project = ProjectInfo(
            service=Host.BITBUCKET_SERVER,
            slug=self.repository.slug,
            name=self.name,
            url=self.url,
            description=self.description,
            forked=self.forked,
            host_id=self.host_id,
        )
        unique = tuple({c.hash: bounded(c) for c in commits}.values())
        return Push(project, unique, self.ref, before=self.before, after=self.after)

    def to_json(self) -> dict[str, Any]:
        """@return: the fields, for a job's arguments."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, fields: dict[str, Any]) -> DataCenterFetch:
        """@return: the fetch that L{to_json} gave C{fields}."""
        names = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in fields.items() if k in names})


@attrs.frozen
class RefsChanged:
    """
    A C{repo:refs_changed} delivery.

    @ivar repository: the repository it names.
    @ivar fetches: one per branch created or moved, in the payload's order;
        deleted branches and tags are left out.
    """

    repository: RepositoryRef
    fetches: tuple[DataCenterFetch, ...]


def bounded(commit: CommitEvent) -> CommitEvent:
    """
    @return: a commit a host's API described, cut to the limits a
        payload's commits are cut to (author, e-mail, message).
    """
    return attrs.evolve(
        commit,
        author_name=cut(commit.author_name, AUTHOR_LENGTH),
        author_email=clean_email(commit.author_email),
        message=cut_message(commit.message),
    )


def _checked_page(repo: Field, key: str, slug: str) -> str:
    """
    The repository's page from C{links.self[0].href}, which must name the
    repository of C{key} and C{slug}: the job asks the REST API for those.
    """
    links = repo["links"]["self"].elements()
    if not links:
        repo["links"]["self"].fail("is empty")
    href = links[0]["href"]
    address = web_url(href)
    try:
        url = canonical_url(address, Host.BITBUCKET_SERVER)
    except InvalidPayload:
        href.fail(
            "is not a repository's address such as https://host/projects/K/repos/S"
        )
    kind, owner, _, name = url.split("/")[-4:]
    named = f"~{owner}" if kind == "users" else owner
    if named.lower() != key.lower() or name.lower() != slug.lower():
        href.fail(f"does not name repository {slug} of project {key}")
    page = address.split("?", 1)[0].split("#", 1)[0]
    at = page.lower().rfind(f"/repos/{name.lower()}")
    return page[: at + len(f"/repos/{name}")]


def _fetch(base: dict[str, Any], change: Field) -> DataCenterFetch | None:
    """The fetch of one change; L{None} for a tag or a deletion."""
    ref = change.get("ref")
    kind = text_or(ref, "type", "BRANCH") if ref is not None else "BRANCH"
    ref_id = text_or(ref, "id") if ref is not None else ""
    ref_id = ref_id or change["refId"].text()
    after = change["toHash"].text().strip()
    if kind.upper() == "TAG" or ref_id.startswith("refs/tags/"):
        return None
    if text_or(change, "type").upper() == "DELETE" or is_zero_sha(after):
        return None
    return DataCenterFetch(
        **base,
        ref=ref_id,
        before=_push.full_or_empty(change, "fromHash"),
        after=_push.full_or_empty(change, "toHash"),
    )


def parse_refs_changed(payload: object) -> RefsChanged:
    """
    Read a Bitbucket Data Center C{repo:refs_changed} payload.

    @param payload: the decoded JSON body.
    @return: the repository and the branches whose commits to fetch.
    @raise InvalidPayload: naming the field that is wrong.
    """
    root = Field(payload, "")
    repo = root["repository"]
    key = repo["project"]["key"].text().strip()
    slug = repo["slug"].text().strip()
    if not key or not slug:
        repo.fail("has an empty project key or slug")
    page = _checked_page(repo, key, slug)
    ident = repository_id(repo.get("id"))
    url = canonical_url(page, Host.BITBUCKET_SERVER)
    base: dict[str, Any] = {
        "host_id": ident,
        "url": url,
        "name": cut(repo["name"].text(), NAME_LENGTH),
        "description": cut(text_or(repo, "description"), DESCRIPTION_LENGTH),
        "forked": repo.get("origin") is not None,
        "key": key,
        "slug": slug,
        "page": page,
    }
    changes = root["changes"].elements()
    if len(changes) > MAX_CHANGES:
        raise InvalidPayload(
            f"changes holds {len(changes)} refs; at most {MAX_CHANGES} are accepted"
        )
    fetches = [_fetch(base, change) for change in changes]
    ref = RepositoryRef(Host.BITBUCKET_SERVER, ident, url)
    return RefsChanged(ref, tuple(f for f in fetches if f is not None))


__all__ = ["MAX_CHANGES", "DataCenterFetch", "RefsChanged", "bounded"]

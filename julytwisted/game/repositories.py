# -*- test-case-name: tests.game.test_repositories -*-
"""
Which repository a push is about, read before anything else of it.

A repository is its host and the id that host gives it (GitHub
C{repository.id}, GitLab C{project.id}, Bitbucket C{repository.uuid},
Bitbucket Data Center C{repository.id}); its canonical URL is its name.
Every spelling of one repository's address (any scheme, C{www.}, a port,
C{.git}, a query, a fragment, the owner's case) canonicalises to one URL, so
a project cannot be counted twice under variants of its address.

Pure: no I/O.  The signature of a delivery is checked with the secret of the
repository this module finds in it, so these functions read only the
repository's part of a payload, and fail with L{InvalidPayload} naming the
field.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from julytwisted.game._payload import Field, make_slug, repository_id, text_or, web_url
from julytwisted.game.events import Host

_SLUG_PREFIX = {
    Host.GITHUB: "gh",
    Host.GITLAB: "gl",
    Host.BITBUCKET: "bb",
    Host.BITBUCKET_SERVER: "bbs",
}
#: The public site of each host that has one; a Bitbucket Data Center is
#: only ever the one configured (C{--provider-url bitbucket-server=URL}).
_DEFAULT_SITE = {
    Host.GITHUB: "github.com",
    Host.GITLAB: "gitlab.com",
    Host.BITBUCKET: "bitbucket.org",
}


@attrs.frozen
class RepositoryRef:
    """
    A repository as a push names it.

    @ivar host: the host whose endpoint the push came to.
    @ivar id: the host's id of the repository, as text; empty when the
        payload carries none (GitHub's 2012 format, Bitbucket's POST service).
    @ivar url: its canonical URL (see L{canonical_url}).
    """

    host: Host
    id: str
    url: str

    @property
    def slug(self) -> str:
        """The project slug a new project of this repository prefers."""
        parts = self.url.split("/", 3)[3].split("/")
        if self.host == Host.BITBUCKET_SERVER:
            # .../projects/KEY/repos/SLUG: the key and the slug.
            parts = [parts[-3], parts[-1]]
        return make_slug(_SLUG_PREFIX[self.host], parts)


def canonical_url(url: str, host: Host | None = None) -> str:
    """
    The one spelling of a repository's web address: C{https}, the host
    lower-cased without C{www.} or a port, the owner (every namespace part
    before the repository's own name) lower-cased, and no C{.git}, trailing
    slash, query or fragment.

    @param url: an http(s) URL with a host and a path (GitLab's oldest
        payloads name a repository by one path part).
    @param host: the host it is on, when known: a Bitbucket Data Center
        address ends at C{projects/KEY/repos/SLUG} (or C{users/NAME/...}),
        whatever page of the repository it names (C{/browse}, C{/commits}).
    @return: such as C{https://github.com/rmyers/Julython}.
    @raise InvalidPayload: when C{url} is not such a URL.
    """
    return _canonical(Field(url, "url"), host)


def same_repository(a: str, b: str) -> bool:
    """
    Whether two canonical URLs name the same repository: the hosts compare
    repository names without regard to case.
    """
    return a.lower() == b.lower()


def _canonical(field: Field, host: Host | None = None) -> str:
    parts = _split(web_url(field))
    if parts is None:
        field.fail("is not a repository's address such as https://host/owner/name")
    site, path = parts
    if host == Host.BITBUCKET_SERVER:
        path = _data_center_path(field, path)
    *owner, name = path
    return "/".join(["https:/", site, *(part.lower() for part in owner), name])


def _data_center_path(field: Field, path: list[str]) -> list[str]:
    """
    The path of a Bitbucket Data Center repository's address up to its
    slug, after any context path the server lives under.
    """
    for at in range(len(path) - 3):
        kind, _, repos, _ = path[at : at + 4]
        if kind.lower() in ("projects", "users") and repos.lower() == "repos":
            return path[: at + 4]
    field.fail(
        "is not a Bitbucket Data Center repository's address such as "
        "https://host/projects/KEY/repos/SLUG"
    )


def _split(url: str) -> tuple[str, list[str]] | None:
    """The lower-cased site and the path parts of C{url}, or L{None}."""
    rest = url.split("://", 1)[1].split("#", 1)[0].split("?", 1)[0]
    authority, _, path = rest.partition("/")
    site = authority.rpartition("@")[2].lower()
    if site.startswith("["):
        return None
    site = site.partition(":")[0].removeprefix("www.").rstrip(".")
    parts = [part for part in path.split("/") if part]
    if parts:
        parts[-1] = parts[-1].removesuffix(".git")
    if not site or not parts or not all(parts) or ".." in parts:
        return None
    return site, parts


def _github(root: Field) -> tuple[str, Field]:
    repo = root["repository"]
    return repository_id(repo.get("id")), repo.get("html_url") or repo["url"]


def _gitlab(root: Field) -> tuple[str, Field]:
    project = root.get("project")
    if project is not None:
        ident = project.get("id") or root.get("project_id")
        return repository_id(ident), project["web_url"]
    return repository_id(root.get("project_id")), root["repository"]["homepage"]


def _bitbucket(root: Field) -> tuple[str, Field]:
    repo = root["repository"]
    if root.get("push") is None and root.get("canon_url") is not None:
        canon = text_or(root, "canon_url").rstrip("/")
        path = repo["absolute_url"].text().strip("/")
        return "", Field(f"{canon}/{path}", repo["absolute_url"].path)
    return repository_id(repo.get("uuid")), repo["links"]["html"]["href"]


def _bitbucket_server(root: Field) -> tuple[str, Field]:
    repo = root["repository"]
    links = repo["links"]["self"].elements()
    if not links:
        repo["links"]["self"].fail("is empty")
    return repository_id(repo.get("id")), links[0]["href"]


_READERS = {
    Host.GITHUB: _github,
    Host.GITLAB: _gitlab,
    Host.BITBUCKET: _bitbucket,
    Host.BITBUCKET_SERVER: _bitbucket_server,
}


def repository_of(
    host: Host, payload: object, sites: Collection[str] = ()
) -> RepositoryRef:
    """
    The repository a push payload of C{host} names.

    @param host: the host whose endpoint the payload came to.
    @param payload: the decoded JSON body.
    @param sites: the web hosts (such as C{"gitlab.example.com"}) that
        repositories of C{host} may live on; empty for the host's public
        site alone.
    @return: the repository.
    @raise InvalidPayload: when the payload names no repository, or names
        one on another site than C{host}'s.
    """
    ident, address = _READERS[host](Field(payload, ""))
    url = _canonical(address, host)
    allowed = {site.lower().removeprefix("www.") for site in sites if site}
    if not allowed and host in _DEFAULT_SITE:
        allowed = {_DEFAULT_SITE[host]}
    site = url.split("/")[2]
    if not allowed:
        address.fail(
            f"is on {site}, and no {host} site is configured here: the "
            f"organiser names it with --provider-url {host}=URL"
        )
    if site not in allowed:
        address.fail(f"is on {site}, not on {' or '.join(sorted(allowed))}")
    return RepositoryRef(host, ident, url)


__all__ = ["RepositoryRef", "canonical_url", "repository_of", "same_repository"]

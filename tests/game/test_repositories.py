"""
Tests for L{julytwisted.game.repositories}: one repository, one name, however
a payload spells its address.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from julytwisted.errors import InvalidPayload
from julytwisted.game.events import Host
from julytwisted.game.repositories import (
    RepositoryRef,
    canonical_url,
    repository_of,
    same_repository,
)

PAYLOADS = Path(__file__).parent.parent / "payloads"

#: The variants of one address that made eight projects of one repository.
VARIANTS = [
    "https://github.com/Octo-Cat/Hello-World",
    "https://github.com/octo-cat/Hello-World.git",
    "https://www.github.com/octo-cat/Hello-World",
    "http://github.com/octo-cat/Hello-World",
    "https://github.com:443/octo-cat/Hello-World",
    "https://github.com/octo-cat/Hello-World?tab=readme",
    "https://github.com/octo-cat/Hello-World#readme",
    "https://GitHub.com/OCTO-CAT/Hello-World/",
]


def _payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


@pytest.mark.parametrize("url", VARIANTS)
def test_variants_are_one_url(url: str) -> None:
    """Scheme, www., port, .git, query, fragment and owner case drop away."""
    assert canonical_url(url) == "https://github.com/octo-cat/Hello-World"


def test_namespaces_lower_cased() -> None:
    """Every namespace part (GitLab subgroups) is lower-cased; the name keeps case."""
    assert (
        canonical_url("https://gitlab.com/Group/Sub/Project.git")
        == "https://gitlab.com/group/sub/Project"
    )


def test_same_repository_ignores_case() -> None:
    """Hosts look repository names up without regard to case."""
    assert same_repository(
        "https://github.com/a/Hello", canonical_url("https://github.com/A/hello")
    )
    assert not same_repository("https://github.com/a/b", "https://github.com/a/c")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://github.com/a/b",
        "https://github.com/",
        "https://github.com/a/../b",
        "javascript:alert(1)",
        "https://[::1]/a/b",
        "not a url",
    ],
)
def test_not_repository_addresses(url: str) -> None:
    """What cannot name a repository is refused, naming the field."""
    with pytest.raises(InvalidPayload, match="url"):
        canonical_url(url)


@given(st.sampled_from(VARIANTS), st.text(max_size=20))
def test_canonical_is_stable(url: str, junk: str) -> None:
    """Canonicalising twice changes nothing; junk after # changes nothing."""
    once = canonical_url(url + "#" + junk)
    assert canonical_url(once) == once


def test_github_payload() -> None:
    """GitHub's repository.id and html_url."""
    ref = repository_of(Host.GITHUB, _payload("github_push.json"))
    assert ref.host == Host.GITHUB
    assert ref.id == "186853002"
    assert ref.url.startswith("https://github.com/")
    assert ref.slug.startswith("gh-")


def test_gitlab_payloads() -> None:
    """GitLab's project.id, and project_id in the legacy format."""
    for name in ("gitlab_push.json", "gitlab_push_legacy.json"):
        ref = repository_of(Host.GITLAB, _payload(name))
        assert ref.id == "15"


def test_bitbucket_payloads() -> None:
    """Bitbucket's repository.uuid; the POST service had none."""
    cloud = repository_of(Host.BITBUCKET, _payload("bitbucket_push.json"))
    assert cloud.id == "{0d8e6b2f-7f42-4d1e-9c63-3b1a2e9f8c11}"
    post = repository_of(Host.BITBUCKET, _payload("bitbucket_post.json"))
    assert post.id == ""
    assert post.url.startswith("https://bitbucket.org/")


def test_url_on_another_site_refused() -> None:
    """A push to the GitHub endpoint may not name a repository elsewhere."""
    payload = _payload("github_push.json")
    payload["repository"]["html_url"] = "https://evil.example/octo/hello"
    with pytest.raises(InvalidPayload, match=r"html_url is on evil\.example"):
        repository_of(Host.GITHUB, payload)


def test_self_managed_site_allowed() -> None:
    """A configured self-managed site is the only one allowed for its host."""
    payload = _payload("gitlab_push.json")
    payload["project"]["web_url"] = "https://git.example.org/team/tool"
    ref = repository_of(Host.GITLAB, payload, {"git.example.org"})
    assert ref == RepositoryRef(Host.GITLAB, "15", "https://git.example.org/team/tool")
    with pytest.raises(InvalidPayload):
        repository_of(Host.GITLAB, payload)


@pytest.mark.parametrize("bad", [True, -1, 0, 1.5, [], {}, "x" * 65, "a\nb"])
def test_bad_ids_refused(bad: object) -> None:
    """An id that is not a whole number or a short printable text is refused."""
    payload = _payload("github_push.json")
    payload["repository"]["id"] = bad
    with pytest.raises(InvalidPayload, match=r"repository\.id"):
        repository_of(Host.GITHUB, payload)


@pytest.mark.parametrize("payload", [None, [], {}, {"repository": 3}])
def test_no_repository(payload: object) -> None:
    """A payload without a repository fails with InvalidPayload, nothing else."""
    with pytest.raises(InvalidPayload):
        repository_of(Host.GITHUB, payload)

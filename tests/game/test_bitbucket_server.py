"""
Tests for Bitbucket Data Center's payloads (L{julytwisted.game.hooks}'s
C{parse_refs_changed}, its signature and the repository a payload names),
and for telling the events that are not pushes apart
(L{julytwisted.game.hooks.ignored_event}): pure, without a reactor.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from julytwisted.errors import BadSignature, InvalidPayload
from julytwisted.game.events import CommitEvent, Host
from julytwisted.game.hooks import (
    MAX_CHANGES,
    DataCenterFetch,
    ignored_event,
    names_repository,
    parse_refs_changed,
    verify,
)
from julytwisted.game.repositories import RepositoryRef, canonical_url, repository_of

PAYLOADS = Path(__file__).parent.parent / "payloads"
SITE = ["bitbucket.example.com"]
BEFORE = "ecddabb624f6f5ba43816f5926e580a5f680a932"
AFTER = "178864a7d521b6f5e720b386b2c2b0ef8563e0dc"


def refs_changed() -> Any:
    return json.loads((PAYLOADS / "bitbucket_server_refs_changed.json").read_text())


# Telling events apart


@pytest.mark.parametrize(
    ("service", "event", "payload", "ignored"),
    [
        (Host.GITHUB, "push", {}, None),
        (Host.GITHUB, "ping", {}, None),
        (Host.GITHUB, None, {}, None),
        (Host.GITHUB, "issues", {}, "issues"),
        (Host.GITHUB, "pull_request", {}, "pull_request"),
        (Host.GITHUB, "create", {}, "create"),
        (Host.GITLAB, "Push Hook", {"object_kind": "push"}, None),
        (Host.GITLAB, "Tag Push Hook", {"object_kind": "tag_push"}, None),
        (Host.GITLAB, "System Hook", {"object_kind": "push"}, None),
        (Host.GITLAB, None, {}, None),
        (Host.GITLAB, "Issue Hook", {"object_kind": "issue"}, "Issue Hook"),
        (Host.GITLAB, None, {"object_kind": "note"}, "note"),
        (Host.GITLAB, "Push Hook", {"object_kind": "pipeline"}, "pipeline"),
        (Host.GITLAB, "System Hook", {"event_name": "key_create"}, "key_create"),
        (Host.BITBUCKET, "repo:push", {}, None),
        (Host.BITBUCKET, None, {}, None),
        (Host.BITBUCKET, "pullrequest:fulfilled", {}, "pullrequest:fulfilled"),
        (Host.BITBUCKET, "issue:created", {}, "issue:created"),
        (Host.BITBUCKET_SERVER, "repo:refs_changed", {}, None),
        (Host.BITBUCKET_SERVER, "diagnostics:ping", {}, None),
        (Host.BITBUCKET_SERVER, "pr:opened", {}, "pr:opened"),
    ],
)  # fmt: skip
def test_ignored_event(
    service: Host, event: str | None, payload: object, ignored: str | None
) -> None:
    """Pushes and pings are read; every other event is named, to be ignored."""
    assert ignored_event(service, event, payload) == ignored


def test_ignored_event_name_is_bounded() -> None:
    """The name an answer repeats is at most 100 characters."""
    assert ignored_event(Host.GITHUB, "x" * 5000, {}) == "x" * 100


def test_ping_names_no_repository() -> None:
    """Data Center's connection test has no repository part."""
    assert not names_repository({"test": True})
    assert names_repository(refs_changed())


# Signatures


def test_verify_signed_like_bitbucket_cloud() -> None:
    """Data Center signs with X-Hub-Signature: sha256=HMAC of the body."""
    body = b'{"test": true}'
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    verify(
        Host.BITBUCKET_SERVER, "s3cret", {"x-hub-signature": f"sha256={digest}"}, body
    )
    with pytest.raises(BadSignature):
        verify(
            Host.BITBUCKET_SERVER,
            "other",
            {"x-hub-signature": f"sha256={digest}"},
            body,
        )
    with pytest.raises(BadSignature):
        verify(Host.BITBUCKET_SERVER, "s3cret", {}, body)


# The repository


def test_repository_of_data_center_push() -> None:
    """A Data Center repository is its id; its address ends at its slug."""
    ref = repository_of(Host.BITBUCKET_SERVER, refs_changed(), SITE)
    assert ref == RepositoryRef(
        Host.BITBUCKET_SERVER,
        "84",
        "https://bitbucket.example.com/projects/ada/repos/engine",
    )
    assert ref.slug == "bbs-ada-engine"


def test_data_center_needs_its_configured_site() -> None:
    """
    A Data Center has no public site: without one configured, its pushes
    are refused naming the option; on another site, naming it.
    """
    with pytest.raises(InvalidPayload, match="--provider-url bitbucket-server"):
        repository_of(Host.BITBUCKET_SERVER, refs_changed(), [])
    with pytest.raises(InvalidPayload, match=r"not on bitbucket\.other\.org"):
        repository_of(Host.BITBUCKET_SERVER, refs_changed(), ["bitbucket.other.org"])


@pytest.mark.parametrize(
    "url",
    [
        "https://bitbucket.example.com/projects/ADA/repos/engine/browse",
        "https://bitbucket.example.com/projects/ada/repos/engine",
        "https://bitbucket.example.com:7990/projects/ADA/repos/engine/commits?at=x",
        "http://www.bitbucket.example.com/projects/ADA/repos/engine/browse/src/a.py",
    ],
)
def test_data_center_pages_are_one_url(url: str) -> None:
    """Any page of a Data Center repository names it, in one spelling."""
    assert (
        canonical_url(url, Host.BITBUCKET_SERVER)
        == "https://bitbucket.example.com/projects/ada/repos/engine"
    )


def test_data_center_context_path_and_personal_repository() -> None:
    """A server under a context path; a personal repository under users/."""
    assert (
        canonical_url(
            "https://example.com/bitbucket/users/Ada/repos/notes/browse",
            Host.BITBUCKET_SERVER,
        )
        == "https://example.com/bitbucket/users/ada/repos/notes"
    )


def test_data_center_address_must_name_a_repository() -> None:
    """An address with no projects/K/repos/S in it names no repository."""
    with pytest.raises(InvalidPayload, match="projects/KEY/repos/SLUG"):
        canonical_url("https://bitbucket.example.com/ada/engine", Host.BITBUCKET_SERVER)


# repo:refs_changed


def test_refs_changed() -> None:
    """One branch moved: one fetch from its old hash to its new one."""
    refs = parse_refs_changed(refs_changed())
    assert (
        refs.repository.url == "https://bitbucket.example.com/projects/ada/repos/engine"
    )
    [fetch] = refs.fetches
    assert fetch == DataCenterFetch(
        host_id="84",
        url="https://bitbucket.example.com/projects/ada/repos/engine",
        name="Engine",
        description="",
        forked=False,
        key="ADA",
        slug="engine",
        page="https://bitbucket.example.com/projects/ADA/repos/engine",
        ref="refs/heads/main",
        before=BEFORE,
        after=AFTER,
    )
    assert DataCenterFetch.from_json(json.loads(json.dumps(fetch.to_json()))) == fetch


def test_new_branch_tags_and_deletions() -> None:
    """A new branch has no before; tags and deleted branches fetch nothing."""
    payload = refs_changed()
    new = copy.deepcopy(payload["changes"][0])
    new |= {"fromHash": "0" * 40, "type": "ADD", "refId": "refs/heads/feature"}
    new["ref"] |= {"id": "refs/heads/feature"}
    tag = copy.deepcopy(new)
    tag["ref"] |= {"id": "refs/tags/v1", "type": "TAG"}
    deleted = copy.deepcopy(payload["changes"][0])
    deleted |= {"toHash": "0" * 40, "type": "DELETE"}
    payload["changes"] = [new, tag, deleted]
    [fetch] = parse_refs_changed(payload).fetches
    assert (fetch.ref, fetch.before, fetch.after) == ("refs/heads/feature", "", AFTER)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"toHash": "178864a"}, "changes[0].toHash is not a full commit hash"),
        ({"fromHash": 7}, "changes[0].fromHash is not a string"),
    ],
)
def test_bad_change_names_its_field(change: dict[str, Any], problem: str) -> None:
    payload = refs_changed()
    payload["changes"][0] |= change
    with pytest.raises(InvalidPayload, match=re.escape(problem)):
        parse_refs_changed(payload)


def test_link_must_name_the_repository() -> None:
    """
    The page a payload links must be the repository of its key and slug,
    which the commits are asked for: another is refused naming the link.
    """
    payload = refs_changed()
    payload["repository"]["project"]["key"] = "EVE"
    with pytest.raises(InvalidPayload, match=r"links.self\[0\].href does not name"):
        parse_refs_changed(payload)


def test_too_many_changes_refused() -> None:
    payload = refs_changed()
    payload["changes"] = payload["changes"] * (MAX_CHANGES + 1)
    with pytest.raises(InvalidPayload, match=f"at most {MAX_CHANGES}"):
        parse_refs_changed(payload)


def test_fetched_commits_are_bounded() -> None:
    """Commits from the server are cut as a payload's are, each hash once."""
    fetch = parse_refs_changed(refs_changed()).fetches[0]
    big = CommitEvent(
        hash=AFTER,
        author_name="A" * 500,
        author_email="not an address",
        message="m" * 100_000,
        timestamp=datetime(2026, 7, 10, tzinfo=UTC),
        url=f"{fetch.page}/commits/{AFTER}",
    )
    push = fetch.push((big, big))
    [commit] = push.commits
    assert len(commit.author_name) == 200
    assert commit.author_email == ""
    assert len(commit.message.encode()) == 64 * 1024
    assert push.project.slug == "bbs-ada-engine"
    assert (push.before, push.after) == (BEFORE, AFTER)

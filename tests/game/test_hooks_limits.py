"""
Tests for L{julytwisted.game.hooks}: what a push may hold (the limits of its
counts, names, descriptions, authors, e-mails, URLs and messages), the
repository it names, and what it announces for completion (C{before},
C{after}, C{announced}).
"""

from __future__ import annotations

from typing import Any

import pytest

from julytwisted.errors import InvalidPayload
from julytwisted.game.hooks import (
    parse_bitbucket,
    parse_github,
    parse_gitlab,
    repository,
)
from julytwisted.game.repositories import RepositoryRef, repository_of
from tests.game.test_hooks import github_commit, load


@pytest.mark.parametrize("count", [10**9, 10**9 + 1, 10**30])
def test_counts_clamped(count: int) -> None:
    """Watchers and forks past a billion are a billion, never a float or 500."""
    payload = load("github_push")
    payload["repository"]["watchers_count"] = count
    payload["repository"]["forks_count"] = count
    project = parse_github(payload).project
    assert (project.watchers, project.forks) == (10**9, 10**9)
    assert isinstance(project.watchers, int)


def test_negative_count_refused() -> None:
    """A negative count is no count: refused, naming the field."""
    payload = load("github_push")
    payload["repository"]["forks_count"] = -1
    with pytest.raises(InvalidPayload, match=r"^repository\.forks_count is not"):
        parse_github(payload)


def test_name_and_description_cut() -> None:
    """A name keeps 100 characters, a description 1000."""
    payload = load("github_push")
    payload["repository"]["name"] = "n" * 5000
    payload["repository"]["description"] = " " + "d" * 5000
    project = parse_github(payload).project
    assert (project.name, project.description) == ("n" * 100, "d" * 1000)


def test_author_cut_and_long_email_dropped() -> None:
    """
    An author's name keeps 200 characters; an e-mail over 254 cannot be an
    address, so the commit keeps none (it stays an orphan), and is not lost.
    """
    payload = load("github_push")
    payload["commits"][0]["author"]["name"] = "A" * 300
    payload["commits"][0]["author"]["email"] = "a" * 250 + "@example.com"
    payload["commits"][1]["author"]["email"] = "b" * 242 + "@example.com"
    first, second = parse_github(payload).commits
    assert (first.author_name, first.author_email) == ("A" * 200, "")
    assert second.author_email == "b" * 242 + "@example.com"


def test_bitbucket_raw_author_cut() -> None:
    """Bitbucket's C{Name <email>} keeps 200 characters of the name."""
    payload = load("bitbucket_push")
    commit = payload["push"]["changes"][0]["commits"][0]
    commit["author"]["raw"] = "R" * 500 + " <r@example.com>"
    newest = parse_bitbucket(payload).commits[-1]
    assert (newest.author_name, newest.author_email) == ("R" * 200, "r@example.com")


def test_long_url_refused() -> None:
    """A commit URL over 2048 characters is no host's: refused, by name."""
    payload = load("github_push")
    payload["commits"][1]["url"] = "https://github.com/" + "x" * 2048
    with pytest.raises(InvalidPayload) as caught:
        parse_github(payload)
    assert caught.value.message == ("commits[1].url is longer than 2048 characters")


def test_message_keeps_its_first_64_kib() -> None:
    """A long message is cut to 64 KiB of UTF-8, never inside a character."""
    payload = load("github_push")
    payload["commits"][0]["message"] = "x" + "\u00e9" * 40000
    payload["commits"][1]["message"] = "y" * (64 * 1024)
    first, second = parse_github(payload).commits
    kept = first.message.encode("utf-8")
    assert len(kept) == 64 * 1024 - 1
    assert first.message == "x" + "\u00e9" * (len(first.message) - 1)
    assert second.message == "y" * (64 * 1024)


@pytest.mark.parametrize(
    ("name", "parse"),
    [
        ("github_push", parse_github),
        ("github_push_2012", parse_github),
        ("gitlab_push", parse_gitlab),
        ("gitlab_push_legacy", parse_gitlab),
        ("bitbucket_push", parse_bitbucket),
        ("bitbucket_post", parse_bitbucket),
    ],
)
def test_repository_as_the_signature_check_reads_it(name: str, parse: Any) -> None:
    """
    The repository a parsed push names is the one read before its signature
    is checked (L{repository_of}): one id, one canonical URL.
    """
    payload = load(name)
    push = parse(payload)
    ref = repository(push)
    assert isinstance(ref, RepositoryRef)
    found = repository_of(ref.host, payload, [ref.url.split("/")[2]])
    assert (ref.url, ref.slug) == (found.url, found.slug)
    assert ref.id == found.id or not found.id
    assert push.project.slug == ref.slug


def test_github_before_after_announced() -> None:
    """A GitHub push's hashes before and after, and its commits, counted."""
    push = parse_github(load("github_push"))
    assert (push.before, push.after) == (
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "7a9f3c2d5e0b1a4c6d8e2f9b0c3a5d7e1f4b6c8a",
    )
    assert (push.listed, push.announced, push.truncated) == (2, 2, False)


def test_github_size_and_cap() -> None:
    """
    GitHub's C{size}, when given, says how many commits came; a list at
    the cap of 2048 without it means at least one more.
    """
    payload = load("github_push")
    payload["size"] = 2500
    payload["commits"] = [github_commit(i + 1) for i in range(4)]
    push = parse_github(payload)
    assert (push.listed, push.announced, push.truncated) == (4, 2500, True)
    del payload["size"]
    payload["commits"] = [github_commit(i + 1) for i in range(2048)]
    push = parse_github(payload)
    assert (push.listed, push.announced, push.truncated) == (2048, 2049, True)


def test_new_branch_has_no_before() -> None:
    """A branch pushed for the first time was at all zeros: no hash before."""
    payload = load("github_push")
    payload["before"] = "0" * 40
    assert parse_github(payload).before == ""


def test_before_must_be_full() -> None:
    """An abbreviated C{after} is refused like any commit id."""
    payload = load("github_push")
    payload["after"] = payload["after"][:12]
    with pytest.raises(InvalidPayload, match=r"^after is not a full commit hash"):
        parse_github(payload)


def test_gitlab_total_commits_count() -> None:
    """GitLab lists 20 commits at most; total_commits_count says how many came."""
    payload = load("gitlab_push")
    push = parse_gitlab(payload)
    assert (push.before, push.after) == (
        "95790bf891e76fee5e1747ab589903a6a1f80f22",
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    )
    assert (push.listed, push.announced, push.truncated) == (2, 2, False)
    payload["total_commits_count"] = 25
    push = parse_gitlab(payload)
    assert (push.listed, push.announced, push.truncated) == (2, 25, True)


def test_bitbucket_truncated_change() -> None:
    """
    A Bitbucket change marked truncated holds fewer commits than it brought:
    the push announces at least one more.
    """
    payload = load("bitbucket_push")
    push = parse_bitbucket(payload)
    assert (push.before, push.after) == (
        "1e65c05c1d5171631d92438a13901ca7dae9618c",
        "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
    )
    assert (push.listed, push.announced, push.truncated) == (2, 2, False)
    payload["push"]["changes"][0]["truncated"] = True
    push = parse_bitbucket(payload)
    assert (push.listed, push.announced, push.truncated) == (2, 3, True)

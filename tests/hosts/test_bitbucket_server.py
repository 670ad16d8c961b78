"""
Bitbucket Data Center, driven over real HTTP against its stub: the commits
between two revisions (C{since} and C{until}) over pages named by
C{nextPageStart}, oldest first, with a token or anonymously, and the
provider as C{--provider-url} configures it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_twisted

from julytwisted.hosts import (
    PROVIDERS,
    HostNotFound,
    Http,
    MalformedAnswer,
    Token,
    TokenRejected,
    data_center_commits,
    data_center_repository,
    parse_provider_url,
    repository_sites,
)
from julytwisted.hosts._bitbucket_server import read_commit
from julytwisted.hosts._json import Node
from tests.hosts.stub import Commit, StubRepository, sha
from tests.hosts.stub_bitbucket_server import BitbucketServerStub

PAGE = "https://bitbucket.example.com/projects/ADA/repos/engine"


def _history(stub: BitbucketServerStub, count: int, private: bool = False) -> None:
    stub.add_repository(
        StubRepository(
            84,
            "ADA/engine",
            readers={"ada"},
            private=private,
            commits=[
                Commit(
                    sha(f"c{i}"),
                    f"commit {i}\n\nits body",
                    "Ada Lovelace" if i % 2 else "Someone Else",
                    "ada@example.com" if i % 2 else "Someone@Example.com",
                    f"2026-07-{1 + i % 28:02d}T10:00:00+00:00",
                )
                for i in range(count)
            ],
        )
    )


@pytest_twisted.ensureDeferred
async def test_commits_between_two_revisions(
    http: Http, bitbucket_server: BitbucketServerStub
) -> None:
    """
    The commits after C{since} up to C{until}, oldest first, over three
    pages of 100; each with its full hash, author, time and page.
    """
    _history(bitbucket_server, 260)
    found = await data_center_commits(
        http,
        bitbucket_server.host,
        None,
        "ADA",
        "engine",
        PAGE,
        sha("c3"),
        sha("c253"),
        2048,
    )
    assert [c.hash for c in found] == [sha(f"c{i}") for i in range(4, 254)]
    asked = bitbucket_server.asked_for(
        "GET", "/rest/api/1.0/projects/ADA/repos/engine/commits"
    )
    assert [a.arg("start") for a in asked] == ["0", "100", "200"]
    assert all(a.arg("since") == sha("c3") for a in asked)
    assert "authorization" not in asked[0].headers
    first = found[0]
    assert (first.author_name, first.author_email) == (
        "Someone Else",
        "someone@example.com",
    )
    assert found[1].author_name == "Ada Lovelace"
    assert first.timestamp == datetime(2026, 7, 5, 10, tzinfo=UTC)
    assert first.url == f"{PAGE}/commits/{sha('c4')}"
    assert first.message == "commit 4\n\nits body"


@pytest_twisted.ensureDeferred
async def test_new_branch_takes_the_newest(
    http: Http, bitbucket_server: BitbucketServerStub
) -> None:
    """Without C{since} (a new branch), every ancestor, the newest C{most}."""
    _history(bitbucket_server, 30)
    found = await data_center_commits(
        http, bitbucket_server.host, None, "ADA", "engine", PAGE, "", sha("c29"), 10
    )
    assert [c.hash for c in found] == [sha(f"c{i}") for i in range(20, 30)]
    [asked] = bitbucket_server.asked
    assert "since" not in asked.query


@pytest_twisted.ensureDeferred
async def test_private_repository_takes_a_token(
    http: Http, bitbucket_server: BitbucketServerStub
) -> None:
    """A private repository answers a bearer token; anonymously, 401."""
    _history(bitbucket_server, 3, private=True)
    host = bitbucket_server.host
    with pytest.raises(TokenRejected, match="Authentication failed"):
        await data_center_commits(
            http, host, None, "ADA", "engine", PAGE, "", sha("c2"), 10
        )
    bitbucket_server.add_token("pat-123", "ada")
    found = await data_center_commits(
        http, host, Token("pat-123"), "ADA", "engine", PAGE, "", sha("c2"), 10
    )
    assert len(found) == 3
    assert bitbucket_server.asked[-1].headers["authorization"] == "Bearer pat-123"


@pytest_twisted.ensureDeferred
async def test_repository_read_checks_a_token(
    http: Http, bitbucket_server: BitbucketServerStub
) -> None:
    """
    Reading a private repository takes the token of an account that may
    read it; an unknown token, or one of an account without read
    permission, is 401 (L{TokenRejected}), as anonymously.
    """
    _history(bitbucket_server, 1, private=True)
    host = bitbucket_server.host
    bitbucket_server.add_token("pat-ada", "ada")
    bitbucket_server.add_token("pat-bob", "bob")
    for token in (None, Token("pat-guess"), Token("pat-bob")):
        with pytest.raises(TokenRejected):
            await data_center_repository(http, host, token, "ADA", "engine")
    repo = await data_center_repository(http, host, Token("pat-ada"), "ADA", "engine")
    assert (repo.id, repo.path, repo.name, repo.private, repo.admin) == (
        "84",
        "ADA/engine",
        "engine",
        True,
        False,
    )
    assert repo.url == f"{bitbucket_server.url}/projects/ADA/repos/engine"
    assert bitbucket_server.asked[-1].headers["authorization"] == "Bearer pat-ada"
    with pytest.raises(HostNotFound):
        await data_center_repository(http, host, Token("pat-ada"), "ADA", "nope")


@pytest_twisted.ensureDeferred
async def test_unknown_revision(
    http: Http, bitbucket_server: BitbucketServerStub
) -> None:
    _history(bitbucket_server, 3)
    with pytest.raises(HostNotFound):
        await data_center_commits(
            http,
            bitbucket_server.host,
            None,
            "ADA",
            "engine",
            PAGE,
            sha("nope"),
            sha("c2"),
            10,
        )


@pytest.mark.parametrize(
    ("commit", "problem"),
    [
        ({"id": "178864a"}, "id is not a commit's 40 or 64 hex digits"),
        ({"authorTimestamp": 10**30}, "authorTimestamp is not a time"),
        ({"authorTimestamp": "yesterday"}, "authorTimestamp is not a whole number"),
        ({"author": None}, "author is missing"),
    ],
)
def test_malformed_commit(commit: dict[str, object], problem: str) -> None:
    """A commit the server describes wrongly is a MalformedAnswer naming it."""
    good: dict[str, object] = {
        "id": sha("x"),
        "author": {"name": "ada", "emailAddress": "ada@example.com"},
        "authorTimestamp": 1783677731000,
        "message": "m",
    }
    with pytest.raises(MalformedAnswer, match=problem):
        read_commit(PAGE, Node(good | commit, "answer", "values[0]"))


def test_provider_url_of_a_data_center() -> None:
    """
    --provider-url bitbucket-server=URL puts its API under /rest/api/1.0;
    with none, it has no site (no public service), and no sign-in.
    """
    host = parse_provider_url("bitbucket-server=https://git.example.com/bitbucket")
    assert host.api_url == "https://git.example.com/bitbucket/rest/api/1.0"
    assert repository_sites({})["github"] == "github.com"
    assert "bitbucket-server" not in repository_sites({})
    assert repository_sites({"bitbucket-server": host})["bitbucket-server"] == (
        "git.example.com"
    )
    assert not PROVIDERS["bitbucket-server"].sign_in

"""
Tests for L{julytwisted.hooks}: signatures, bodies and the payloads of every
service, from sample payloads under C{tests/payloads/} modelled on the ones
each service documents.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from julytwisted.errors import (
    BadSignature,
    InvalidInput,
    InvalidPayload,
    UnsupportedMediaType,
)
from julytwisted.game.events import CommitEvent, FileChange, ProjectInfo, Push
from julytwisted.game.hooks import (
    decode_body,
    parse,
    parse_bitbucket,
    parse_github,
    parse_gitlab,
    verify,
)

PAYLOADS = Path(__file__).parent.parent / "payloads"
SECRET = "It's a Secret to Everybody"
ZEROS = "0" * 40


def load(name: str) -> Any:
    """A fresh copy of the sample payload C{name}.json."""
    return json.loads((PAYLOADS / f"{name}.json").read_text("utf-8"))


def hub_signature(body: bytes, secret: str = SECRET) -> str:
    """The C{sha256=...} value GitHub and Bitbucket send for C{body}."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_commit(index: int) -> dict[str, Any]:
    """A minimal GitHub commit whose hash is made from C{index}."""
    sha = f"{index:040x}"
    return {
        "id": sha,
        "distinct": True,
        "message": f"commit {index}",
        "timestamp": "2026-07-04T12:00:00+00:00",
        "url": f"https://github.com/Codertocat/Hello-World/commit/{sha}",
        "author": {"name": "Mona", "email": "mona@github.com"},
        "added": [],
        "removed": [],
        "modified": ["app.py"],
    }


# verify


def test_verify_github_good_signature() -> None:
    """A body signed with the secret in X-Hub-Signature-256 passes."""
    body = json.dumps(load("github_push")).encode()
    headers = {"x-hub-signature-256": hub_signature(body)}
    verify("github", SECRET, headers, body)


def test_verify_github_uppercase_hex() -> None:
    """The hex digest of a GitHub signature is compared case-insensitively."""
    body = b'{"zen": "Keep it logically awesome."}'
    headers = {"x-hub-signature-256": hub_signature(body).upper()}
    verify("github", SECRET, headers, body)


def test_verify_github_bad_signature() -> None:
    """A body signed with another secret is refused."""
    body = b'{"ref": "refs/heads/main"}'
    headers = {"x-hub-signature-256": hub_signature(body, "wrong")}
    with pytest.raises(BadSignature, match=r"^signature does not match$"):
        verify("github", SECRET, headers, body)


def test_verify_github_tampered_body() -> None:
    """A body changed after signing is refused."""
    headers = {"x-hub-signature-256": hub_signature(b'{"a": 1}')}
    with pytest.raises(BadSignature, match="does not match"):
        verify("github", SECRET, headers, b'{"a": 2}')


def test_verify_github_missing_header() -> None:
    """A GitHub delivery without X-Hub-Signature-256 is refused by name."""
    body = b"{}"
    headers = {"x-hub-signature": "sha1=" + "0" * 40}
    with pytest.raises(BadSignature, match=r"^missing X-Hub-Signature-256 header$"):
        verify("github", SECRET, headers, body)


def test_verify_github_sha1_refused() -> None:
    """A signature with another algorithm than SHA-256 is refused as such."""
    body = b"{}"
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    headers = {"x-hub-signature-256": f"sha1={digest}"}
    with pytest.raises(BadSignature, match="unsupported signature algorithm 'sha1'"):
        verify("github", SECRET, headers, body)


def test_verify_github_malformed_header() -> None:
    """A signature header without C{algorithm=} is refused."""
    headers = {"x-hub-signature-256": "deadbeef"}
    with pytest.raises(BadSignature, match="not of the form sha256="):
        verify("github", SECRET, headers, b"{}")


def test_verify_non_ascii_signature() -> None:
    """A signature holding non-ASCII text is refused, not crashed on."""
    headers = {"x-hub-signature-256": "sha256=é\udcff"}
    with pytest.raises(BadSignature, match="does not match"):
        verify("github", SECRET, headers, b"{}")


def test_verify_bitbucket_good_signature() -> None:
    """Bitbucket Cloud's sha256 signature in X-Hub-Signature passes."""
    body = json.dumps(load("bitbucket_push")).encode()
    verify("bitbucket", SECRET, {"x-hub-signature": hub_signature(body)}, body)


def test_verify_bitbucket_bad_signature() -> None:
    """A Bitbucket body signed with another secret is refused."""
    body = b"{}"
    headers = {"x-hub-signature": hub_signature(body, "other")}
    with pytest.raises(BadSignature, match="does not match"):
        verify("bitbucket", SECRET, headers, body)


def test_verify_bitbucket_missing_header() -> None:
    """A Bitbucket delivery without X-Hub-Signature is refused by name."""
    body = b"{}"
    headers = {"x-hub-signature-256": hub_signature(body)}
    with pytest.raises(BadSignature, match=r"^missing X-Hub-Signature header$"):
        verify("bitbucket", SECRET, headers, body)


def test_verify_gitlab_good_token() -> None:
    """GitLab's X-Gitlab-Token equal to the secret passes."""
    verify("gitlab", SECRET, {"x-gitlab-token": SECRET}, b"{}")


def test_verify_gitlab_bad_token() -> None:
    """A GitLab token other than the secret is refused."""
    with pytest.raises(BadSignature, match="X-Gitlab-Token does not match"):
        verify("gitlab", SECRET, {"x-gitlab-token": SECRET + "x"}, b"{}")


def test_verify_gitlab_missing_token() -> None:
    """A GitLab delivery without X-Gitlab-Token is refused by name."""
    with pytest.raises(BadSignature, match=r"^missing X-Gitlab-Token header$"):
        verify("gitlab", SECRET, {}, b"{}")


def test_verify_unknown_service() -> None:
    """Verifying for a service that is not supported is invalid input."""
    with pytest.raises(InvalidInput, match="unknown service 'gitea'"):
        verify("gitea", SECRET, {}, b"{}")


# decode_body


def test_decode_json() -> None:
    """An application/json body decodes to its value."""
    assert decode_body("application/json", b'{"a": [1, "\xc3\xa9"]}') == {"a": [1, "é"]}


def test_decode_json_with_charset() -> None:
    """A charset parameter on application/json is accepted."""
    assert decode_body("Application/JSON; charset=UTF-8", b"[true]") == [True]


def test_decode_json_suffix() -> None:
    """A C{+json} structured-syntax type is accepted as JSON."""
    assert decode_body("application/vnd.github+json", b"{}") == {}


def test_decode_json_byte_order_mark() -> None:
    """A leading UTF-8 byte order mark is ignored."""
    assert decode_body("application/json", b"\xef\xbb\xbf{}") == {}


def test_decode_form_payload() -> None:
    """A URL-encoded form's payload field holds the JSON, as GitHub sent it."""
    payload = load("bitbucket_post")
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert decode_body("application/x-www-form-urlencoded", body) == payload


def test_decode_form_without_payload() -> None:
    """A form without a payload field is refused."""
    body = urlencode({"data": "{}"}).encode()
    with pytest.raises(InvalidPayload, match=r"^form has no payload field$"):
        decode_body("application/x-www-form-urlencoded", body)


def test_decode_form_two_payloads() -> None:
    """A form with two payload fields is refused rather than guessed at."""
    body = b"payload=%7B%7D&payload=%5B%5D"
    with pytest.raises(InvalidPayload, match="several payload fields"):
        decode_body("application/x-www-form-urlencoded", body)


def test_decode_form_bad_json() -> None:
    """A form whose payload is not JSON says so."""
    with pytest.raises(InvalidPayload, match=r"^payload field is not valid JSON"):
        decode_body("application/x-www-form-urlencoded", b"payload=%7Bnope")


def test_decode_form_bad_percent_escape() -> None:
    """A form whose escapes decode to bytes that are not UTF-8 is refused."""
    with pytest.raises(InvalidPayload, match="not UTF-8"):
        decode_body("application/x-www-form-urlencoded", b"payload=%FF%FE")


def test_decode_garbage() -> None:
    """A body that is not JSON is refused with the decoder's reason and place."""
    with pytest.raises(InvalidPayload) as caught:
        decode_body("application/json", b"not json")
    assert caught.value.message == (
        "body is not valid JSON: Expecting value at line 1 column 1"
    )


def test_decode_not_utf8() -> None:
    """A body that is not UTF-8 is refused."""
    with pytest.raises(InvalidPayload, match=r"^body is not UTF-8"):
        decode_body("application/json", b'{"a": "\xff"}')


def test_decode_nan_refused() -> None:
    """NaN and Infinity, which JSON does not allow, are refused."""
    with pytest.raises(InvalidPayload, match="NaN is not allowed"):
        decode_body("application/json", b'{"a": NaN}')


def test_decode_deep_nesting() -> None:
    """Nesting too deep for the decoder is refused, not a RecursionError."""
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidPayload, match="nested too deeply"):
        decode_body("application/json", body)


def test_decode_huge_number() -> None:
    """A number too long to convert is refused, not a bare ValueError."""
    with pytest.raises(InvalidPayload, match="too many digits"):
        decode_body("application/json", b"1" * 5000)


def test_decode_wrong_type() -> None:
    """A body of another type is refused as an unsupported media type."""
    with pytest.raises(UnsupportedMediaType, match="expected application/json"):
        decode_body("text/plain", b"{}")


def test_decode_no_type() -> None:
    """A body without a content type is refused as an unsupported media type."""
    with pytest.raises(UnsupportedMediaType, match="content type none"):
        decode_body(None, b"{}")


# GitHub


def test_github_project() -> None:
    """A current GitHub push names its repository by its html_url."""
    push = parse_github(load("github_push"), "push")
    assert push.project == ProjectInfo(
        service="github",
        slug="gh-codertocat-hello-world",
        name="Hello-World",
        url="https://github.com/codertocat/Hello-World",
        description="My first repository on GitHub.",
        watchers=7,
        forks=2,
        forked=False,
        host_id="186853002",
    )
    assert push.ref == "refs/heads/main"


def test_github_commit() -> None:
    """A GitHub commit becomes a CommitEvent with its fields and files."""
    first = parse_github(load("github_push")).commits[0]
    assert first == CommitEvent(
        hash="2d4c9f1a8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        author_name="Codertocat",
        author_email="21031067+codertocat@users.noreply.github.com",
        message="Add the scoring module\n\n"
        "One point per commit, ten for a new project.",
        timestamp=datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC),
        url="https://github.com/Codertocat/Hello-World/commit/"
        "2d4c9f1a8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        files=(
            FileChange("julython/scoring.py", "added", "Python"),
            FileChange("tests/test_scoring.py", "added", "Python"),
            FileChange("README.md", "modified", "Documentation"),
        ),
        # Its time was written at -07:00, its author's clock.
        utc_offset=-420,
    )


def test_github_commits_in_payload_order() -> None:
    """Commits come out in payload order, oldest first."""
    push = parse_github(load("github_push"))
    assert [c.message for c in push.commits] == [
        "Add the scoring module\n\nOne point per commit, ten for a new project.",
        "Style the leaderboard",
    ]


def test_github_hash_lowercased() -> None:
    """An upper-case commit id is lower-cased."""
    second = parse_github(load("github_push")).commits[1]
    assert second.hash == "7a9f3c2d5e0b1a4c6d8e2f9b0c3a5d7e1f4b6c8a"


def test_github_author_normalised() -> None:
    """Author names are stripped; e-mails stripped and lower-cased."""
    second = parse_github(load("github_push")).commits[1]
    assert (second.author_name, second.author_email) == (
        "Mona Lisa Octocat",
        "mona@github.com",
    )


def test_github_timestamp_offset_to_utc() -> None:
    """A timestamp with a +02:00 offset is converted to UTC."""
    second = parse_github(load("github_push")).commits[1]
    assert second.timestamp == datetime(2019, 5, 15, 23, 5, 10, tzinfo=UTC)
    assert second.timestamp.utcoffset() is not None
    assert second.timestamp.tzinfo is UTC


def test_github_2012_format() -> None:
    """The 2012 format, with repository.url and owner.name, still parses."""
    push = parse_github(load("github_push_2012"))
    assert push.project == ProjectInfo(
        service="github",
        slug="gh-rmyers-julython.org",
        name="julython.org",
        url="https://github.com/rmyers/julython.org",
        description="Website for the Julython coding competition",
        watchers=34,
        forks=19,
        forked=False,
        host_id="4839285",
    )
    assert [(c.author_email, c.timestamp) for c in push.commits] == [
        ("rmyers@example.com", datetime(2012, 7, 1, 18, 46, 30, tzinfo=UTC)),
        ("bryan@example.org", datetime(2012, 7, 1, 19, 6, 31, tzinfo=UTC)),
    ]


def test_github_2012_legal_file() -> None:
    """Files get their language, LICENSE counting as Legalese."""
    push = parse_github(load("github_push_2012"))
    assert push.commits[0].languages == ("Legalese", "Python")


def test_github_non_distinct_dropped() -> None:
    """A commit marked distinct false (pushed before) is dropped."""
    payload = load("github_push")
    payload["commits"][0]["distinct"] = False
    push = parse_github(payload)
    assert [c.hash[:7] for c in push.commits] == ["7a9f3c2"]


def test_github_tag_push() -> None:
    """A tag push carries no commits."""
    push = parse_github(load("github_tag_push"), "push")
    assert (push.commits, push.ref) == ((), "refs/tags/v1.0.0")


def test_github_branch_deletion() -> None:
    """A branch deletion carries no commits."""
    assert parse_github(load("github_branch_delete")).commits == ()


def test_github_after_zeros_is_deletion() -> None:
    """An all-zero after marks a deletion even without deleted true."""
    payload = load("github_push")
    payload["after"] = ZEROS
    del payload["deleted"]
    assert parse_github(payload).commits == ()


def test_github_empty_push() -> None:
    """A push with an empty commit list carries no commits."""
    payload = load("github_push")
    payload["commits"] = []
    assert parse_github(payload).commits == ()


def test_github_ping_event_refused() -> None:
    """A ping event is not parsed: it carries no commits."""
    with pytest.raises(InvalidPayload, match=r"^ping events carry no commits$"):
        parse_github(load("github_ping"), "ping")


def test_github_other_event_refused() -> None:
    """An event other than push is refused, naming the event."""
    with pytest.raises(InvalidPayload, match="'issues' events are not pushes"):
        parse_github(load("github_push"), "issues")


def test_github_duplicate_hash_once() -> None:
    """A hash repeated within one push appears once."""
    payload = load("github_push")
    payload["commits"].append(dict(payload["commits"][0]))
    assert len(parse_github(payload).commits) == 2


def test_github_naive_timestamp_is_utc() -> None:
    """A timestamp without an offset is taken as UTC."""
    payload = load("github_push")
    payload["commits"][0]["timestamp"] = "2026-07-04T09:30:00"
    when = parse_github(payload).commits[0].timestamp
    assert when == datetime(2026, 7, 4, 9, 30, tzinfo=UTC)


def test_github_bad_timestamp_named() -> None:
    """A timestamp that is not ISO 8601 is refused, naming the field."""
    payload = load("github_push")
    payload["commits"][1]["timestamp"] = "last Tuesday"
    with pytest.raises(InvalidPayload) as caught:
        parse_github(payload)
    assert caught.value.message == "commits[1].timestamp is not an ISO 8601 time"


def test_github_timestamp_out_of_range() -> None:
    """A timestamp that overflows once moved to UTC is refused, not crashed on."""
    payload = load("github_push")
    payload["commits"][0]["timestamp"] = "0001-01-01T00:00:00+05:00"
    with pytest.raises(InvalidPayload, match=r"commits\[0\]\.timestamp"):
        parse_github(payload)


def test_github_bad_hash_named() -> None:
    """A commit id that is not hex digits is refused, naming the field."""
    payload = load("github_push")
    payload["commits"][0]["id"] = "xyz"
    with pytest.raises(InvalidPayload) as caught:
        parse_github(payload)
    assert caught.value.message == (
        "commits[0].id is not a full commit hash of 40 or 64 hex digits"
    )


def test_github_sha1_and_sha256_hashes() -> None:
    """Full hashes of 40 and of 64 hex digits are taken, lower-cased."""
    payload = load("github_push")
    payload["commits"][0]["id"] = "ABCDEF01" * 5
    payload["commits"][1]["id"] = "f" * 64
    hashes = [c.hash for c in parse_github(payload).commits]
    assert hashes == ["abcdef01" * 5, "f" * 64]


FULL = "7a9f3c2d5e0b1a4c6d8e2f9b0c3a5d7e1f4b6c8a"


@pytest.mark.parametrize(
    "given",
    [
        *(FULL[:length] for length in (7, 12, 39)),
        FULL + "b",
        FULL + "b" * 23,
        "0" * 24 + FULL,
        "0" * 24 + FULL.upper(),
        FULL[:-1] + "g",
        "",
        "f" * 65,
    ],
)
def test_abbreviated_or_padded_hash_refused(given: str) -> None:
    """
    An abbreviation (7 to 39 digits), a length between the two full ones,
    a 40-digit hash padded with zeros to 64, or a non-hex digit is refused:
    each would count one commit again under another name.
    """
    payload = load("github_push")
    payload["commits"][1]["id"] = given
    with pytest.raises(InvalidPayload) as caught:
        parse_github(payload)
    assert caught.value.message == (
        "commits[1].id is not a full commit hash of 40 or 64 hex digits"
    )


def test_github_missing_email_empty() -> None:
    """An author without an e-mail gets the empty string, never None."""
    payload = load("github_push")
    del payload["commits"][0]["author"]["email"]
    payload["commits"][1]["author"]["email"] = None
    assert [c.author_email for c in parse_github(payload).commits] == ["", ""]


def test_github_script_message_verbatim() -> None:
    """A commit message with markup is kept byte for byte, not escaped."""
    message = "<script>alert('x')</script> & \"quotes\"\n\n\u00e9\u2603"
    payload = load("github_push")
    payload["commits"][0]["message"] = message
    assert parse_github(payload).commits[0].message == message


def test_github_javascript_url_refused() -> None:
    """A commit URL that is not http(s) is refused, as it would be linked to."""
    payload = load("github_push")
    payload["commits"][0]["url"] = "javascript:alert(1)"
    with pytest.raises(InvalidPayload, match=r"commits\[0\]\.url is not an http"):
        parse_github(payload)


def test_github_missing_field_named() -> None:
    """A missing required field is named with its full path."""
    payload = load("github_push")
    del payload["commits"][1]["author"]
    with pytest.raises(InvalidPayload, match=r"^commits\[1\]\.author is missing$"):
        parse_github(payload)


def test_github_slug_cleaned() -> None:
    """
    The slug comes from the repository's address, keeping only [a-z0-9._-]
    and turning other runs into a dash.
    """
    payload = load("github_push")
    payload["repository"]["html_url"] = "https://github.com/Some~Owner/My.Repo~~v2"
    assert parse_github(payload).project.slug == "gh-some-owner-my.repo-v2"


@pytest.mark.parametrize(
    "address",
    [
        "https://github.com/Codertocat/Hello-World/",
        "http://www.GitHub.com:443/CODERTOCAT/Hello-World.git?tab=x#readme",
    ],
)
def test_github_url_canonical(address: str) -> None:
    """The project's URL, its name, is the canonical one of any spelling."""
    payload = load("github_push")
    payload["repository"]["html_url"] = address
    project = parse_github(payload).project
    assert (project.url, project.slug) == (
        "https://github.com/codertocat/Hello-World",
        "gh-codertocat-hello-world",
    )


def test_github_address_not_a_repository() -> None:
    """An address without an owner and a name is refused, naming the field."""
    payload = load("github_push")
    payload["repository"]["html_url"] = "https://github.com/"
    with pytest.raises(InvalidPayload, match=r"^repository\.html_url is not a repo"):
        parse_github(payload)


def test_github_2048_commits() -> None:
    """A push of 2048 commits, GitHub's maximum, parses whole."""
    payload = load("github_push")
    payload["commits"] = [github_commit(i) for i in range(2048)]
    commits = parse_github(payload).commits
    assert (len(commits), commits[-1].message) == (2048, "commit 2047")


def test_github_2049_commits_refused() -> None:
    """A push of more than 2048 commits is refused."""
    payload = load("github_push")
    payload["commits"] = [github_commit(i) for i in range(2049)]
    with pytest.raises(InvalidPayload, match="2049 commits; at most 2048"):
        parse_github(payload)


# Bitbucket


def test_bitbucket_post_project() -> None:
    """An old POST-service payload names the repository from canon_url."""
    assert parse_bitbucket(load("bitbucket_post")).project == ProjectInfo(
        service="bitbucket",
        slug="bb-marcus-project-x",
        name="Project X",
        url="https://bitbucket.org/marcus/project-x",
    )


def test_bitbucket_post_commit() -> None:
    """An old POST-service commit: raw author split, UTC time, files typed."""
    push = parse_bitbucket(load("bitbucket_post"))
    assert push.ref == "refs/heads/master"
    assert push.commits[0] == CommitEvent(
        hash="620ade18607ac42d872b568bb92acaa9a28620e9",
        author_name="Marcus Bertrand",
        author_email="marcus@somedomain.com",
        message="Added some more things to somefile.py\n",
        timestamp=datetime(2012, 7, 1, 18, 46, 30, tzinfo=UTC),
        url="https://bitbucket.org/marcus/project-x/commits/"
        "620ade18607ac42d872b568bb92acaa9a28620e9",
        files=(
            FileChange("somefile.py", "modified", "Python"),
            FileChange("docs/index.rst", "added", "Documentation"),
        ),
    )


def test_bitbucket_post_removed_file() -> None:
    """A removed file keeps its change type."""
    second = parse_bitbucket(load("bitbucket_post")).commits[1]
    assert second.files[1] == FileChange("old/legacy.c", "removed", "C")


def test_bitbucket_post_raw_author_without_email() -> None:
    """A raw author without an e-mail gives the name and an empty e-mail."""
    payload = load("bitbucket_post")
    payload["commits"][0]["raw_author"] = "marcus"
    first = parse_bitbucket(payload).commits[0]
    assert (first.author_name, first.author_email) == ("marcus", "")


def test_bitbucket_post_local_timestamp_fallback() -> None:
    """Without utctimestamp, the offset-less timestamp is taken as UTC."""
    payload = load("bitbucket_post")
    del payload["commits"][0]["utctimestamp"]
    first = parse_bitbucket(payload).commits[0]
    assert first.timestamp == datetime(2012, 7, 1, 20, 46, 30, tzinfo=UTC)


def test_bitbucket_post_bad_file_type() -> None:
    """A file change type other than added, modified, removed is refused."""
    payload = load("bitbucket_post")
    payload["commits"][1]["files"][0]["type"] = "renamed"
    with pytest.raises(InvalidPayload, match=r"^commits\[1\]\.files\[0\]\.type is"):
        parse_bitbucket(payload)


def test_bitbucket_cloud_project() -> None:
    """A webhooks 2.0 push names the repository by links.html.href."""
    assert parse_bitbucket(load("bitbucket_push")).project == ProjectInfo(
        service="bitbucket",
        slug="bb-team_name-repo_name",
        name="repo_name",
        url="https://bitbucket.org/team_name/repo_name",
        host_id="{0d8e6b2f-7f42-4d1e-9c63-3b1a2e9f8c11}",
    )


def test_bitbucket_cloud_commits_oldest_first() -> None:
    """A 2.0 change lists newest first; the push gives them oldest first."""
    push = parse_bitbucket(load("bitbucket_push"))
    assert [c.hash[:7] for c in push.commits] == ["03f4a72", "709d658"]
    assert push.ref == "refs/heads/main"


def test_bitbucket_cloud_commit() -> None:
    """A 2.0 commit: raw author split, time to UTC, no file list."""
    newest = parse_bitbucket(load("bitbucket_push")).commits[1]
    assert newest == CommitEvent(
        hash="709d658dc5b6d6afcd46049c2f332ee3f515a67d",
        author_name="Emma Smith",
        author_email="emma@example.com",
        message="Add the team board\n",
        timestamp=datetime(2015, 6, 9, 3, 34, 49, tzinfo=UTC),
        url="https://bitbucket.org/team_name/repo_name/commits/"
        "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
        files=(),
        utc_offset=120,
    )


def test_bitbucket_cloud_commit_without_link() -> None:
    """A 2.0 commit without links gets its URL from the repository's page."""
    payload = load("bitbucket_push")
    del payload["push"]["changes"][0]["commits"][1]["links"]
    oldest = parse_bitbucket(payload).commits[0]
    assert oldest.url == (
        "https://bitbucket.org/team_name/repo_name/commits/"
        "03f4a7270240708834de475bcf21532d6134777e"
    )


def test_bitbucket_cloud_branch_deletion() -> None:
    """A change whose new is null (a deleted branch) carries no commits."""
    assert parse_bitbucket(load("bitbucket_branch_delete")).commits == ()


def test_bitbucket_cloud_tag_push() -> None:
    """A change whose new is a tag carries no commits."""
    push = parse_bitbucket(load("bitbucket_tag_push"))
    assert (push.commits, push.ref) == ((), "refs/tags/v1.0")


def test_bitbucket_cloud_annotated_tag() -> None:
    """An annotated tag push carries no commits either."""
    payload = load("bitbucket_tag_push")
    payload["push"]["changes"][0]["new"]["type"] = "annotated_tag"
    push = parse_bitbucket(payload)
    assert (push.commits, push.ref) == ((), "refs/tags/v1.0")


def test_bitbucket_other_event_refused() -> None:
    """A Bitbucket payload of another event (no push) is refused, naming push."""
    payload = load("bitbucket_push")
    del payload["push"]
    payload["pullrequest"] = {"id": 1, "title": "Add the team board"}
    with pytest.raises(InvalidPayload, match=r"^push is missing$"):
        parse_bitbucket(payload)


def test_bitbucket_script_message_verbatim() -> None:
    """A Bitbucket commit message with markup is kept verbatim."""
    payload = load("bitbucket_post")
    payload["commits"][0]["message"] = "<script>alert(1)</script>"
    assert parse_bitbucket(payload).commits[0].message == "<script>alert(1)</script>"


# GitLab


def test_gitlab_project() -> None:
    """A GitLab push names its project by web_url and path_with_namespace."""
    assert parse_gitlab(load("gitlab_push")).project == ProjectInfo(
        service="gitlab",
        slug="gl-mike-diaspora",
        name="Diaspora",
        url="https://gitlab.com/mike/diaspora",
        description="A privacy-aware, distributed, open source social network.",
        host_id="15",
    )


def test_gitlab_commit() -> None:
    """A GitLab commit: time to UTC, files with their languages."""
    first = parse_gitlab(load("gitlab_push")).commits[0]
    assert first == CommitEvent(
        hash="b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        author_name="Jordi Mallach",
        author_email="jordi@softcatala.org",
        message="Update Catalan translation to e38cb41.\n\n"
        "See https://gitlab.com/gitlab-org/gitlab for more information",
        timestamp=datetime(2011, 12, 12, 12, 27, 31, tzinfo=UTC),
        url="https://gitlab.com/mike/diaspora/commit/"
        "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        files=(
            FileChange("CHANGELOG", "added", "Documentation"),
            FileChange("app/controller/application.rb", "modified", "Ruby"),
        ),
        utc_offset=120,
    )


def test_gitlab_subgroup_slug() -> None:
    """Every namespace part of a subgroup project goes into the slug."""
    payload = load("gitlab_push")
    payload["project"]["web_url"] = "http://example.com/Org/Sub-Group/Diaspora"
    assert parse_gitlab(payload).project.slug == "gl-org-sub-group-diaspora"


def test_gitlab_legacy_repository() -> None:
    """An older payload, with only repository.homepage, still parses."""
    push = parse_gitlab(load("gitlab_push_legacy"))
    assert (push.project.slug, push.project.url) == (
        "gl-diaspora",
        "https://gitlab.com/diaspora",
    )
    assert [c.files for c in push.commits] == [(), ()]


def test_gitlab_tag_push() -> None:
    """A tag_push carries no commits."""
    push = parse_gitlab(load("gitlab_tag_push"))
    assert (push.commits, push.ref) == ((), "refs/tags/v1.0.0")


def test_gitlab_branch_deletion() -> None:
    """A push whose after is all zeros (a deleted branch) carries no commits."""
    payload = load("gitlab_push")
    payload["after"] = ZEROS
    assert parse_gitlab(payload).commits == ()


def test_gitlab_other_kind_refused() -> None:
    """An object_kind other than push or tag_push is refused, naming it."""
    payload = load("gitlab_push")
    payload["object_kind"] = "merge_request"
    with pytest.raises(InvalidPayload, match=r"^object_kind is 'merge_request'"):
        parse_gitlab(payload)


def test_gitlab_script_message_verbatim() -> None:
    """A GitLab commit message with markup is kept verbatim."""
    payload = load("gitlab_push")
    payload["commits"][1]["message"] = "<script>alert(1)</script>"
    assert parse_gitlab(payload).commits[1].message == "<script>alert(1)</script>"


# parse


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("github", "github_push"),
        ("bitbucket", "bitbucket_post"),
        ("bitbucket", "bitbucket_push"),
        ("gitlab", "gitlab_push"),
    ],
)
def test_parse_dispatches(service: str, name: str) -> None:
    """parse() reduces each service's sample to a Push of that service."""
    push = parse(service, load(name), "push" if service == "github" else None)
    assert isinstance(push, Push)
    assert push.project.service == service
    assert len(push.commits) == 2


def test_parse_unknown_service() -> None:
    """parse() refuses a service it does not know as invalid input."""
    with pytest.raises(InvalidInput, match="unknown service 'gitea'"):
        parse("gitea", {})


@pytest.mark.parametrize("service", ["github", "bitbucket", "gitlab"])
def test_parse_not_an_object(service: str) -> None:
    """A payload that is not a JSON object is refused as such."""
    with pytest.raises(InvalidPayload, match=r"^payload is not an object$"):
        parse(service, [1, 2, 3])


# Properties

SERVICES = ["github", "bitbucket", "gitlab"]
SAMPLES = [
    ("github", "github_push"),
    ("github", "github_push_2012"),
    ("github", "github_tag_push"),
    ("bitbucket", "bitbucket_post"),
    ("bitbucket", "bitbucket_push"),
    ("bitbucket", "bitbucket_tag_push"),
    ("gitlab", "gitlab_push"),
    ("gitlab", "gitlab_push_legacy"),
]
#: Keys the parsers look for, so that random objects reach deeper code.
KEYS = sorted(
    {
        key
        for _, name in SAMPLES
        for key in json.dumps(load(name)).split('"')[1::2]
        if key.isidentifier()
    }
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6
        )
    ),
    max_leaves=30,
)
PROPERTY = settings(max_examples=200, deadline=None)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (of keys and indices) to a value nested inside C{value}."""
    found: list[tuple[Any, ...]] = []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def parses_or_refuses(service: str, payload: Any) -> None:
    """Parse C{payload}: a Push or InvalidPayload, never another exception."""
    try:
        push = parse(service, payload)
    except InvalidPayload as e:
        assert e.message
    else:
        assert isinstance(push, Push)
        assert all(c.timestamp.tzinfo is UTC for c in push.commits)


@PROPERTY
@given(service=st.sampled_from(SERVICES), payload=json_values)
def test_parse_any_json_value(service: str, payload: Any) -> None:
    """Any JSON value gives a Push or InvalidPayload, for every service."""
    parses_or_refuses(service, payload)


@PROPERTY
@given(
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=latin-1",
            "application/x-www-form-urlencoded",
            "text/html",
            "",
        ]
    ),
    body=st.binary(max_size=200)
    | st.builds(lambda s: b"payload=" + s, st.binary(max_size=100)),
)
def test_decode_any_bytes(content_type: str | None, body: bytes) -> None:
    """Any bytes decode or raise InvalidPayload or UnsupportedMediaType only."""
    try:
        decode_body(content_type, body)
    except (InvalidPayload, UnsupportedMediaType) as e:
        assert e.message


@PROPERTY
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_parse_mutated_payload(sample: tuple[str, str], data: st.DataObject) -> None:
    """A valid payload with one nested field dropped or replaced by any JSON
    value gives a Push or InvalidPayload."""
    service, name = sample
    payload = load(name)
    path = data.draw(st.sampled_from(paths(payload)))
    *parents, last = path
    container = payload
    for key in parents:
        container = container[key]
    if data.draw(st.booleans()) and isinstance(container, dict):
        del container[last]
    else:
        container[last] = data.draw(json_values)
    parses_or_refuses(service, payload)

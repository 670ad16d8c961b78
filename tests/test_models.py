"""
The shared records and their one encoder, without Redis: what a client sees
of each record is exactly its fields, with the left-out ones left out.
"""

from __future__ import annotations

import json

import attrs
import pytest

from julytwisted.models import (
    UNSET,
    Commit,
    CommitFile,
    FileInfo,
    Group,
    JobStatus,
    Page,
    Player,
    Project,
    UploadedFile,
    to_json,
    wire_fields,
)

ADA = Player("ada", "Ada", 12, 1, 2, 1, "paris", None, None, 0, "Europe/Paris")


def test_a_record_is_its_fields() -> None:
    """A record becomes an object of its fields, in order, nulls kept."""
    assert to_json(ADA) == {
        "username": "ada",
        "name": "Ada",
        "points": 12,
        "rank": 1,
        "commits": 2,
        "projects": 1,
        "location": "paris",
        "team": None,
        "picture_url": None,
        "pending_points": 0,
        "time_zone": "Europe/Paris",
    }


def test_unset_fields_are_left_out() -> None:
    """A location has no approved; a team has; a board's project no screenshots."""
    location = Group("paris", "Paris", 12, 1, 1)
    assert "approved" not in to_json(location)  # type: ignore[operator]
    team = attrs.evolve(location, approved=False)
    assert to_json(team)["approved"] is False  # type: ignore[index,call-overload]
    project = Project("p", "P", "", "github", "", 0, 0, True, 11, 1, 1, 0)
    assert "screenshots" not in to_json(project)  # type: ignore[operator]
    shown = to_json(attrs.evolve(project, screenshots=()))
    assert shown["screenshots"] == []  # type: ignore[index,call-overload]


def test_a_job_that_returned_null_still_says_so() -> None:
    """A job's result of null is sent; a job without a result sends none."""
    queued = JobStatus("j", "recount", "queued", 0, 5, 1.0, 1.0, None, None)
    assert set(to_json(queued)) == {  # type: ignore[arg-type]
        f.name for f in attrs.fields(JobStatus)
    } - {"result", "error"}
    done = attrs.evolve(queued, state="done", result=None)
    assert to_json(done)["result"] is None  # type: ignore[index,call-overload]
    assert done.error is UNSET


def test_pages_nest_and_keep_their_total_to_themselves() -> None:
    """A page is {models, next}: its total is for the HTML pages only."""
    commit = Commit(
        "a" * 40, "", "fix", "2026-07-01T00:00:00Z", "Ada", "ada", "p",
        (CommitFile("a.py", "added", "Python"),), ("Python",), ("julython-2026",),
    )  # fmt: skip
    page = Page((commit,), "17", total=40)
    encoded = to_json(page)
    assert encoded == {"models": [to_json(commit)], "next": "17"}
    assert encoded["models"][0]["files"] == [  # type: ignore[index,call-overload]
        {"path": "a.py", "change": "added", "language": "Python"}
    ]
    assert [f.name for f in wire_fields(Page)] == ["models", "next"]
    json.dumps(encoded)


def test_a_stored_file_is_an_uploaded_file_and_when() -> None:
    """The file's detail adds when it was first uploaded to the upload's answer."""
    uploaded = UploadedFile("0" * 64, 3, "image/png", "/files/" + "0" * 64)
    stored = FileInfo(
        uploaded.sha256,
        uploaded.size,
        uploaded.content_type,
        uploaded.url,
        created="2026-07-01T00:00:00Z",
    )
    assert to_json(stored) == {**to_json(uploaded), "created": stored.created}  # type: ignore[dict-item]


def test_what_json_cannot_carry_is_refused() -> None:
    """Anything else is a TypeError, not a silent str()."""
    with pytest.raises(TypeError):
        to_json({"when": object()})

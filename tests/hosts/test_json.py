"""
Reading hosts' answers: every complaint a MalformedAnswer naming the answer
and the path of the value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from julytwisted.hosts import MalformedAnswer
from julytwisted.hosts._json import Node, full_hash

ANSWER = Node(
    {
        "id": 7,
        "uuid": "{abc}",
        "items": [{"when": "2026-07-15T10:00:00Z"}, {"when": "not a time"}],
        "flag": "yes",
        "count": -1,
        "sha": "A" * 40,
    },
    "GitHub's GET /user",
)


def test_values() -> None:
    """Ids as text, times as aware UTC, hashes lower-cased."""
    assert ANSWER["id"].ident() == "7"
    assert ANSWER["uuid"].ident() == "{abc}"
    when = ANSWER["items"].elements()[0]["when"].time()
    assert when == datetime(2026, 7, 15, 10, tzinfo=UTC)
    assert full_hash(ANSWER["sha"]) == "a" * 40


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: ANSWER["missing"], "GitHub's GET /user: missing is missing"),
        (lambda: ANSWER["items"].elements()[1]["when"].time(), "items[1].when is not"),
        (lambda: ANSWER["flag"].flag(), "flag is not true or false"),
        (lambda: ANSWER["count"].number(), "count is not a whole number"),
        (lambda: ANSWER["id"].text(), "id is not a string"),
        (lambda: ANSWER["id"].elements(), "id is not a list"),
        (lambda: ANSWER["items"]["x"], "items is not an object"),
        (lambda: full_hash(ANSWER["uuid"]), "uuid is not a commit's"),
        (lambda: Node([], "GitLab's GET /user")["id"], "GitLab's GET /user: is not an"),
        (lambda: Node(True, "x").ident(), "is not a whole number"),
    ],
)
def test_complaints_name_the_path(read: object, message: str) -> None:
    """Each wrong value is reported by its path inside the named answer."""
    with pytest.raises(MalformedAnswer, match=re.escape(message)):
        read()  # type: ignore[operator]

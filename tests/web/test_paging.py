"""
Paging at every door: a listing's limit, offset and cursor over JSON-RPC and
REST, against a real Site and redis-server.  Huge numbers (past what Redis
takes, past Python's digits limit) are the caller's error, -32602 or 400,
never an internal error with a traceback in the log (the autouse
C{no_logged_errors} fixture fails a test that logs one); and rpc.discover
shows limit and offset as the integers in range that they are.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted
import treq

from julytwisted.methods import MAX_OFFSET
from julytwisted.store import MAX_LIMIT
from tests.test_methods import rpc

HUGE = [10**30, 2**63, 2**64 - 1, -1, 1.5, "5", True]


@pytest_twisted.ensureDeferred
async def test_leaders_offset_out_of_range_is_invalid_params(server: str) -> None:
    """
    julython.leaders with an offset or limit no page has is -32602 naming
    the param, and the board still answers a good call afterwards.
    """
    for value in HUGE:
        for param in ("offset", "limit"):
            status, answer = await rpc(server, "julython.leaders", {param: value})
            assert answer["error"]["code"] == -32602, (param, value, answer)
            assert param in answer["error"]["message"]
            assert status == 200
    _, answer = await rpc(server, "julython.leaders", {"offset": MAX_OFFSET})
    assert answer["result"] == []
    _, answer = await rpc(server, "julython.leaders", [], None)
    assert answer["result"] == []


@pytest_twisted.ensureDeferred
async def test_commits_limit_and_cursor_out_of_range(server: str) -> None:
    """julython.commits: a huge limit or cursor is -32602; a good one answers."""
    for params in (
        {"limit": 10**30},
        {"limit": 2**63},
        {"limit": 0.5},
        {"cursor": str(10**30)},
        {"cursor": str(2**63)},
        {"cursor": "1" * 5000},
    ):
        _, answer = await rpc(server, "julython.commits", params)
        assert answer["error"]["code"] == -32602, (params, answer)
    _, answer = await rpc(server, "julython.commits", {"limit": 5.0})
    assert answer["result"] == {"models": [], "next": None}


@pytest_twisted.ensureDeferred
async def test_discover_shows_integers_in_range(server: str) -> None:
    """rpc.discover gives limit and offset as integers with their bounds."""
    _, answer = await rpc(server, "rpc.discover")
    methods = {m["name"]: m for m in answer["result"]["methods"]}
    leaders = {p["name"]: p["schema"] for p in methods["julython.leaders"]["params"]}
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
    assert leaders["limit"] == limit
    assert leaders["offset"] == {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    commits = {p["name"]: p["schema"] for p in methods["julython.commits"]["params"]}
    assert commits["limit"] == limit
    assert commits["cursor"] == {"type": ["string", "null"]}


async def get(url: str) -> tuple[int, Any]:
    response = await treq.get(url, persistent=False)
    return response.code, json.loads(await response.content())


@pytest.mark.parametrize(
    "path", ["people", "projects", "locations", "teams", "languages", "games"]
)
@pytest_twisted.ensureDeferred
async def test_rest_cursor_and_limit_out_of_range(server: str, path: str) -> None:
    """
    A REST listing's huge cursor or limit (digits past Python's limit on
    int() included) is 400 with the shared error body; a good one is 200.
    """
    for query in (
        f"cursor={10**30}",
        f"cursor={2**63}",
        "cursor=-1",
        f"limit={10**30}",
        f"limit={'9' * 5000}",
        "limit=0",
        "limit=1.5",
    ):
        code, body = await get(f"{server}/api/v1/{path}?{query}")
        assert code == 400, (path, query, body)
        assert set(body) == {"error"}
    code, body = await get(f"{server}/api/v1/{path}?cursor={MAX_OFFSET}&limit=1")
    assert (code, body["models"]) == (200, [])


@pytest_twisted.ensureDeferred
async def test_rest_commits_cursor_out_of_range(server: str) -> None:
    """The commits listing's sequence cursor: huge is 400 too."""
    for query in (f"cursor={10**30}", f"cursor={2**63}", f"limit={'9' * 5000}"):
        code, body = await get(f"{server}/api/v1/commits?{query}")
        assert code == 400, (query, body)

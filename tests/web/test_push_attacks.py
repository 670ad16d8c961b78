"""
Pushes as an attacker sends them, through the real webhook endpoints into a
real Redis: a commit under its abbreviations, one repository under many
addresses, counts too large for a float, huge messages, and commits dated
far ahead or long ago.  Each test says what must not be lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_twisted
import treq
from twisted.internet.task import Clock

from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import IN_JULY, github_payload, repository_id, sha
from tests.conftest import NOW
from tests.web.test_web import add_ada, call, post_github

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


def at(address: str, *seeds: str, with_id: bool = True) -> dict[str, Any]:
    """A push of C{seeds} to octo-cat/Hello-World, named by C{address}."""
    payload = github_payload(*seeds, owner="octo-cat", name="Hello-World")
    repo = payload["repository"]
    repo["html_url"] = repo["url"] = address
    if not with_id:
        del repo["id"]
    return payload


async def rpc(server: str, method: str, **params: Any) -> tuple[int, Any]:
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    code, answer, _ = await call(
        "POST",
        server + "/json/",
        data=json.dumps(request).encode(),
        headers={"Content-Type": "application/json"},
    )
    return code, answer


# Abbreviations


@pytest_twisted.ensureDeferred
async def test_abbreviations_and_padding_score_nothing(server: str) -> None:
    """
    A commit posted again under each of its abbreviations (7 to 39 hex
    digits) and zero-padded to 64 is refused with 400 naming the field; it
    scored once, and its stored record is untouched.
    """
    await add_ada(server)
    full = sha("a")
    code, answer, _ = await post_github(server, github_payload("a"))
    assert (code, answer) == (201, {"commits": [full]})
    forms = [full[:length] for length in range(7, 40)] + ["0" * 24 + full]
    for form in forms:
        payload = github_payload("a")
        payload["commits"][0]["id"] = form
        code, answer, _ = await post_github(server, payload)
        assert (code, answer) == (
            400,
            {"error": "commits[0].id is not a full commit hash of 40 or 64 hex digits"},
        ), form
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert (player["points"], player["commits"]) == (11, 1)
    _, page, _ = await call("GET", server + "/api/v1/commits?limit=100")
    assert [c["hash"] for c in page["models"]] == [full]
    _, stored, _ = await call("GET", server + f"/api/v1/commits/{full}")
    assert (stored["message"], stored["username"]) == ("commit a", "ada")


# One repository, many addresses


@pytest_twisted.ensureDeferred
async def test_url_variants_are_one_project(server: str, store: Store) -> None:
    """
    Eight spellings of one repository's address, with its id, make one
    project of nine commits (10 + 9 points), whose deactivation holds for
    every spelling; nothing pushed before it is lost.
    """
    await add_ada(server)
    for i, address in enumerate(VARIANTS):
        code, answer, _ = await post_github(server, at(address, f"v{i}"))
        assert code == 201, answer
    code, _, _ = await post_github(server, at(VARIANTS[0], "v8"))
    assert code == 201
    _, projects, _ = await call("GET", server + "/api/v1/projects?limit=100")
    assert [(p["slug"], p["points"], p["url"]) for p in projects["models"]] == [
        ("gh-octo-cat-hello-world", 19, "https://github.com/octo-cat/Hello-World")
    ]
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert player["points"] == 19
    await store.set_project_active("gh-octo-cat-hello-world", False)
    for i, address in enumerate(VARIANTS):
        code, answer, _ = await post_github(server, at(address, f"late{i}"))
        assert (code, answer) == (202, {"error": "abuse"}), address
        code, _, _ = await call("GET", server + f"/api/v1/commits/{sha(f'late{i}')}")
        assert code == 404
    _, page, _ = await call("GET", server + "/api/v1/commits?limit=100")
    assert len(page["models"]) == 9


@pytest_twisted.ensureDeferred
async def test_url_variants_without_an_id_are_one_project(
    server: str, store: Store
) -> None:
    """
    Without the repository's id (an open event's old payloads), the variants
    still make one project by the canonical URL, and a later push with the id
    finds it and keeps it.
    """
    for i, address in enumerate(VARIANTS):
        code, _, _ = await post_github(server, at(address, f"v{i}", with_id=False))
        assert code == 201
    code, _, _ = await post_github(server, at(VARIANTS[3], "with-id"))
    assert code == 201
    _, projects, _ = await call("GET", server + "/api/v1/projects?limit=100")
    assert [(p["slug"], p["points"]) for p in projects["models"]] == [
        ("gh-octo-cat-hello-world", 19)
    ]
    slug = await store.redis.execute(
        "GET", f"j:repo-project:github:{repository_id('octo-cat', 'Hello-World')}"
    )
    assert slug == "gh-octo-cat-hello-world"


@pytest_twisted.ensureDeferred
async def test_another_repository_under_a_known_address(server: str) -> None:
    """
    A repository deleted and another made under its address (a new id) is
    another project; the first keeps its commits.
    """
    await post_github(server, at(VARIANTS[0], "old"))
    payload = at(VARIANTS[0], "new")
    payload["repository"]["id"] = 7
    code, _, _ = await post_github(server, payload)
    assert code == 201
    _, projects, _ = await call("GET", server + "/api/v1/projects?limit=100")
    assert sorted((p["slug"], p["points"]) for p in projects["models"]) == [
        ("gh-octo-cat-hello-world", 11),
        ("gh-octo-cat-hello-world-2", 11),
    ]


@pytest_twisted.ensureDeferred
async def test_an_address_on_another_site_is_refused(server: str) -> None:
    """
    Even in an open event, a push to the GitHub endpoint may not name a
    repository on another site: 400 naming the field, and no project made.
    """
    for address in (
        "https://evil.example/octo-cat/Hello-World",
        "https://gitlab.com/a/b",
    ):
        code, answer, _ = await post_github(server, at(address, "a"))
        assert code == 400, address
        assert answer["error"].startswith("repository.html_url is on "), answer
    _, projects, _ = await call("GET", server + "/api/v1/projects?limit=100")
    assert projects["models"] == []


@pytest_twisted.ensureDeferred
async def test_a_push_cannot_rename_a_project(server: str) -> None:
    """
    The first push names the project; a later one (anyone holding the site
    secret) changes neither its name, description nor numbers.
    """
    await post_github(server, github_payload("a"))
    payload = github_payload("b")
    payload["repository"].update(
        name="pwned", description="defaced", watchers_count=99, forks_count=99
    )
    code, _, _ = await post_github(server, payload)
    assert code == 201
    _, project, _ = await call("GET", server + "/api/v1/projects/gh-ada-engine")
    assert (project["name"], project["description"], project["watchers"]) == (
        "engine",
        "an engine",
        3,
    )
    assert project["points"] == 12


# Bounds


@pytest_twisted.ensureDeferred
async def test_huge_counts_leave_every_page_answering(server: str) -> None:
    """
    Watchers and forks of 10**30 are kept as a billion: the project lists,
    the projects page, julython.leaders and the home page all answer 200,
    and the commit is stored.
    """
    payload = github_payload("a")
    for key in ("watchers_count", "stargazers_count", "watchers", "forks_count"):
        payload["repository"][key] = 10**30
    code, _, _ = await post_github(server, payload)
    assert code == 201
    await assert_pages_answer(server)
    _, project, _ = await call("GET", server + "/api/v1/projects/gh-ada-engine")
    assert (project["watchers"], project["forks"]) == (10**9, 10**9)


@pytest_twisted.ensureDeferred
async def test_counts_stored_before_the_bounds_still_read(
    server: str, redis: RedisService
) -> None:
    """A project stored with 1e+30 watchers by an earlier version still shows."""
    await post_github(server, github_payload("a"))
    await redis.client.execute(
        "HSET", "j:project:gh-ada-engine", "watchers", "1e+30", "forks", "-3"
    )
    await assert_pages_answer(server)
    _, project, _ = await call("GET", server + "/api/v1/projects/gh-ada-engine")
    assert (project["watchers"], project["forks"]) == (10**9, 0)


async def assert_pages_answer(server: str) -> None:
    for path in ("/api/v1/projects", "/projects/", "/", "/projects/gh-ada-engine"):
        response = await treq.get(server + path)
        await response.content()
        assert response.code == 200, path
    code, answer = await rpc(server, "julython.leaders", board="projects")
    assert code == 200 and "result" in answer, answer


@pytest_twisted.ensureDeferred
async def test_huge_messages_are_cut_and_lists_stay_small(server: str) -> None:
    """
    Five commits with 20 MiB messages are stored with their first 64 KiB;
    four concurrent lists of commits carry summaries only and stay small,
    while each commit's own detail has its (cut) message.
    """
    huge = "fix the board\n\n" + "x" * (20 * 1024 * 1024)
    for i in range(5):
        payload = github_payload(f"big{i}", message=huge)
        # Under the webhook body limit: the message once, not twice.
        payload["head_commit"] = None
        code, _, _ = await post_github(server, payload)
        assert code == 201
    responses = [treq.get(server + "/api/v1/commits?limit=6") for _ in range(4)]
    for waiting in responses:
        response = await waiting
        body = await response.content()
        assert response.code == 200
        assert len(body) < 8 * 1024
        models = json.loads(body)["models"]
        assert [m["summary"] for m in models] == ["fix the board"] * 5
        assert all("message" not in m for m in models)
    _, stored, _ = await call("GET", server + f"/api/v1/commits/{sha('big0')}")
    assert stored["message"] == huge[: 64 * 1024]
    assert stored["summary"] == "fix the board"


# Time


@pytest_twisted.ensureDeferred
async def test_commits_from_the_future_score_nothing(server: str) -> None:
    """
    Commits dated 2099 and 9999 are stored and flagged, score nowhere, and
    make no game: the games list names neither, their boards are empty.
    """
    await add_ada(server)
    payload = github_payload("y2099", "y9999")
    payload["commits"][0]["timestamp"] = "2099-07-10T00:00:00+00:00"
    payload["commits"][1]["timestamp"] = "9999-07-10T00:00:00+00:00"
    code, answer, _ = await post_github(server, payload)
    assert (code, answer) == (201, {"commits": [sha("y2099"), sha("y9999")]})
    _, games, _ = await call("GET", server + "/api/v1/games?limit=100")
    slugs = [g["slug"] for g in games["models"]]
    assert "julython-2099" not in slugs and "julython-9999" not in slugs
    for game in ("julython-2099", "julython-9999"):
        _, board, _ = await call("GET", server + f"/api/v1/people?game={game}")
        assert board["models"] == [], game
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert player["points"] == 0
    _, stored, _ = await call("GET", server + f"/api/v1/commits/{sha('y2099')}")
    assert (stored["future"], stored["games"]) == (True, [])
    assert stored["arrived"] == "2026-07-15T12:00:00Z"


@pytest_twisted.ensureDeferred
async def test_commit_after_the_grace_scores_nothing(server: str) -> None:
    """
    A commit of last July arriving now, long after that game and its grace,
    is stored and listed but scores nothing; julython-2025 is not listed.
    """
    await add_ada(server)
    last_july = IN_JULY.replace(year=2025).isoformat()
    payload = github_payload("old")
    payload["commits"][0]["timestamp"] = last_july
    code, _, _ = await post_github(server, payload)
    assert code == 201
    _, player, _ = await call("GET", server + "/api/v1/people/ada?game=julython-2025")
    assert player["points"] == 0
    _, stored, _ = await call("GET", server + f"/api/v1/commits/{sha('old')}")
    assert (stored["games"], stored["future"]) == ([], False)
    _, games, _ = await call("GET", server + "/api/v1/games")
    assert "julython-2025" not in [g["slug"] for g in games["models"]]


@pytest_twisted.ensureDeferred
async def test_commit_within_the_grace_scores(server: str, clock: Clock) -> None:
    """
    A July commit whose push arrives a day after the game ended scores in
    it; two days and an hour after, another does not.
    """
    await add_ada(server)
    game_end = datetime(2026, 8, 1, 12, tzinfo=UTC)
    clock.advance((game_end + timedelta(days=1) - NOW).total_seconds())
    # Made on the game's last day: older, it would be held as stale.
    last_day = datetime(2026, 7, 31, 20, tzinfo=UTC)
    code, _, _ = await post_github(server, github_payload("late", when=last_day))
    assert code == 201
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    code, _, _ = await post_github(server, github_payload("later", when=last_day))
    assert code == 201
    _, player, _ = await call("GET", server + "/api/v1/people/ada?game=julython-2026")
    assert (player["points"], player["commits"]) == (11, 1)
    _, stored, _ = await call("GET", server + f"/api/v1/commits/{sha('later')}")
    assert stored["games"] == []

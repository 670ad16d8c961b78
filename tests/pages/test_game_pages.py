"""
Games at run time on the pages: the admin's forms (with their CSRF token)
make, change and end a game; its page at /games/<slug> shows its points and
the log of its changes; a refused form keeps the game as it was.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.store import Store
from tests.htmlcheck import check_page, hidden_field
from tests.pages.test_accounts import Visitor

NEW = {
    "name": "Meetup Sprint",
    "start": "2026-07-15T12:00",
    "end": "2026-07-20T00:00+00:00",
    "commit_points": "3",
    "first_bonus": "",
}


async def admin(server: str) -> Visitor:
    visitor = Visitor(server)
    _, page, _ = await visitor.get("/admin/")
    code, _, _ = await visitor.post(
        "/admin/login", {"token": "admin-secret"}, hidden_field(page, "csrf")
    )
    assert code == 303
    return visitor


@pytest_twisted.ensureDeferred
async def test_admin_makes_changes_and_ends_a_game(
    server: str, store: Store, clock: Clock
) -> None:
    """The three forms, each answered on the admin page, each logged."""
    visitor = await admin(server)
    code, body, _ = await visitor.post("/admin/create-game", NEW)
    assert code == 200 and b"Game meetup-sprint made." in body, body
    check_page(body)
    game = store.game("meetup-sprint")
    assert (game.commit_points, game.first_bonus) == (3, 10)
    code, body, _ = await visitor.post(
        "/admin/update-game",
        {"slug": "meetup-sprint", "start": "", "end": "", "first_bonus": "4"},
    )
    assert code == 200 and b"Its boards are being recounted" in body, body
    clock.advance(60)
    code, body, _ = await visitor.post("/admin/end-game", {"slug": "meetup-sprint"})
    assert code == 200 and b"Game meetup-sprint ended." in body
    code, body, _ = await visitor.get("/games/meetup-sprint")
    assert code == 200
    tree: Any = check_page(body)
    rows = tree.findall(".//table[@class='log']/tbody/tr")
    assert [row.findall("td")[2].text for row in rows] == [
        "created",
        "updated",
        "ended",
    ]
    assert "First-commit bonus: 10 \N{RIGHTWARDS ARROW} 4" in "".join(
        rows[1].itertext()
    )


@pytest_twisted.ensureDeferred
async def test_refused_forms_keep_the_game(server: str, store: Store) -> None:
    """
    A bad form answers 400 (409 for a taken name, 403 without the admin
    session) with the reason, and the game and its log stay as they were.
    """
    visitor = await admin(server)
    await visitor.post("/admin/create-game", NEW)
    for fields, code_wanted, reason in [
        (NEW | {"name": "Other", "start": "soon"}, 400, b"ISO 8601"),
        (NEW | {"name": "Other", "commit_points": "lots"}, 400, b"whole number"),
        (NEW | {"name": "Other", "commit_points": "500"}, 400, b"0 to 100"),
        (NEW | {"name": "Other", "end": ""}, 400, b"its start and its end"),
        (NEW, 409, b"exists"),
    ]:
        code, body, _ = await visitor.post("/admin/create-game", fields)
        assert code == code_wanted and reason in body, (fields, body)
    code, body, _ = await visitor.post(
        "/admin/update-game", {"slug": "meetup-sprint", "start": "2026-07-16T00:00"}
    )
    assert code == 400 and b"start is fixed" in body
    stranger = Visitor(server)
    _, page, _ = await stranger.get("/admin/")
    code, _, _ = await stranger.post(
        "/admin/end-game", {"slug": "meetup-sprint"}, hidden_field(page, "csrf")
    )
    assert code == 403
    detail = await store.games.detail("meetup-sprint")
    assert (detail.state, len(detail.log)) == ("running", 1)
    code, _, _ = await visitor.get("/games/no-such-game")
    assert code == 404
    code, body, _ = await visitor.get("/games/julython-2026")
    assert code == 200 and b"built-in game" in body

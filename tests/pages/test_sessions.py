"""
Sessions through the account pages, over a real Site and Redis: the CSRF
cookie a signed-in visitor is given.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest_twisted

from tests.htmlcheck import check_page
from tests.pages.test_accounts import Visitor


@pytest_twisted.ensureDeferred
async def test_one_csrf_cookie_per_answer(server: str) -> None:
    """
    The bug: a signed-in visitor without a CSRF cookie got two different
    ones in one answer (the header's sign-out form and the page's forms each
    made one), and the page's forms were refused as expired.  Now the
    answer gives one cookie and its forms work.
    """
    visitor = Visitor(server)
    await visitor.sign_up()
    del visitor.cookies["jt_csrf"]
    _, page, headers = await visitor.get("/profile")
    given = [
        name
        for header in headers.getRawHeaders("Set-Cookie", [])
        for name in SimpleCookie(header)
    ]
    assert given == ["jt_csrf"]
    tree: Any = check_page(page)
    tokens = {box.get("value") for box in tree.iterfind(".//input[@name='csrf']")}
    assert len(tokens) == 1
    code, _, _ = await visitor.post("/profile/name", {"name": "Ada"}, tokens.pop())
    assert code == 303

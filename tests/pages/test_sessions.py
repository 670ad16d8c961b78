"""
Sessions through the account pages, over a real Site and Redis: signing
out ends a session wherever its cookie is replayed, an admin session ends
with the admin token, the profile signs the player out everywhere else and
changes the password, which ends the other sessions too.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import attrs
import pytest_twisted

from julytwisted.config import Config
from julytwisted.store import Store
from tests.htmlcheck import check_page, hidden_field
from tests.pages.test_accounts import Visitor

PASSWORD = "correct horse"


async def signed_in(server: str, username: str = "ada") -> Visitor:
    """Another browser of an existing player, signed in with the password."""
    visitor = Visitor(server)
    fields = {"username": username, "password": PASSWORD}
    code, body, _ = await visitor.post("/login", fields)
    assert code == 303, body
    return visitor


def replaying(visitor: Visitor) -> Visitor:
    """A browser replaying a copy of another's cookies."""
    copy = Visitor(visitor.server)
    copy.cookies = dict(visitor.cookies)
    return copy


async def is_signed_in(visitor: Visitor) -> bool:
    """Whether the visitor's profile opens (else it sends them to sign in)."""
    code, _, _ = await visitor.get("/profile")
    return code == 200


@pytest_twisted.ensureDeferred
async def test_a_cookie_replayed_after_sign_out_is_anonymous(server: str) -> None:
    """
    The attack: a session cookie copied before sign-out still signed its
    thief in for 35 days.  Now the copy is anonymous once the player signs
    out, on every page, and the replaying browser is told to drop it.
    """
    visitor = Visitor(server)
    await visitor.sign_up()
    thief = replaying(visitor)
    assert await is_signed_in(thief)
    code, _, _ = await visitor.post("/logout", {})
    assert code == 303 and not visitor.cookies["jt_session"]
    code, _, headers = await thief.get("/profile")
    assert (code, headers.getRawHeaders("Location")) == (303, ["/login"])
    assert thief.cookies["jt_session"] == ""
    thief = replaying(visitor)
    code, body, headers = await thief.get("/people/")
    assert code == 200 and b'href="/login"' in body and b"/profile" not in body
    assert headers.getRawHeaders("Cache-Control") == ["public, max-age=10"]


@pytest_twisted.ensureDeferred
async def test_an_admin_session_ends_when_the_token_changes(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    The attack: a web session signed in with the admin token outlived a
    change of the token.  Now, on a site restarted with another token (the
    same store and session secret), that browser is anonymous; signing in
    with the new token works.
    """
    old = server_with(config)
    admin = Visitor(old)
    _, page, _ = await admin.get("/admin/")
    csrf = hidden_field(page, "csrf")
    code, _, _ = await admin.post("/admin/login", {"token": "admin-secret"}, csrf)
    assert code == 303
    code, body, _ = await admin.get("/admin/")
    assert b"Teams waiting for approval" in body

    admin.server = server_with(attrs.evolve(config, admin_token="a-new-token"))
    code, body, _ = await admin.get("/admin/")
    assert code == 200 and b"Admin token" in body and b"Teams waiting" not in body
    assert b"Sign out" not in body
    code, _, _ = await admin.post("/admin/login", {"token": "a-new-token"})
    assert code == 303
    code, body, _ = await admin.get("/admin/")
    assert b"Teams waiting for approval" in body
    admin.server = old
    code, body, _ = await admin.get("/admin/")
    assert b"Teams waiting" not in body


@pytest_twisted.ensureDeferred
async def test_sign_out_everywhere_else(server: str) -> None:
    """
    The profile counts the player's other browsers; its button signs every
    other browser out (each anonymous after), this one staying signed in,
    and no other player's.
    """
    here = Visitor(server)
    await here.sign_up()
    phone, laptop = await signed_in(server), await signed_in(server)
    bob = Visitor(server)
    await bob.sign_up("bob")
    _, body, _ = await here.get("/profile")
    tree: Any = check_page(body)
    assert tree.findtext(".//p[@class='sessions']") == (
        "You are also signed in on 2 other browsers."
    )
    code, _, headers = await here.post("/profile/end-sessions", {})
    assert headers.getRawHeaders("Location") == ["/profile?saved=sessions"]
    assert not await is_signed_in(phone)
    assert not await is_signed_in(laptop)
    assert await is_signed_in(bob)
    code, body, _ = await here.get("/profile?saved=sessions")
    assert code == 200 and b"You are signed out everywhere else." in body
    assert b"You are signed in on this browser only." in body


@pytest_twisted.ensureDeferred
async def test_a_password_change_ends_the_other_sessions(
    server: str, store: Store
) -> None:
    """
    A wrong current password or a weak new one is explained and changes
    nothing: the old password and the other sessions still work.  The right
    one changes the password and signs every other browser out; the browser
    that changed it stays signed in.
    """
    here = Visitor(server)
    await here.sign_up()
    other = await signed_in(server)
    stored = await store.password_hash("ada")
    wrong = {"current_password": "wrong horse", "new_password": "battery staple"}
    code, body, _ = await here.post("/profile/password", wrong)
    assert code == 403 and b"That is not your current password." in body
    tree: Any = check_page(body)
    assert tree.find(".//input[@name='new_password']").get("value") == ""
    weak = {"current_password": PASSWORD, "new_password": "short"}
    code, body, _ = await here.post("/profile/password", weak)
    assert code == 400 and b"8 to 1024 characters" in body
    assert await store.password_hash("ada") == stored
    assert await is_signed_in(other)

    right = {"current_password": PASSWORD, "new_password": "battery staple"}
    code, _, headers = await here.post("/profile/password", right)
    assert headers.getRawHeaders("Location") == ["/profile?saved=password"]
    assert not await is_signed_in(other)
    code, body, _ = await here.get("/profile?saved=password")
    assert code == 200 and b"Password changed." in body
    code, _, _ = await Visitor(server).post(
        "/login", {"username": "ada", "password": PASSWORD}
    )
    assert code == 401
    code, _, _ = await Visitor(server).post(
        "/login", {"username": "ada", "password": "battery staple"}
    )
    assert code == 303


@pytest_twisted.ensureDeferred
async def test_password_guesses_on_the_profile_are_throttled(server: str) -> None:
    """
    Someone holding a session cannot guess the password through the
    profile faster than through the sign-in form: they share one count.
    """
    visitor = Visitor(server)
    await visitor.sign_up()
    wrong = {"current_password": "wrong horse", "new_password": "battery staple"}
    codes = [(await visitor.post("/profile/password", wrong))[0] for _ in range(12)]
    # The budget of failed credentials every door shares: 10 failures at once
    # from one address (the tenth is answered 429, having spent the last),
    # then 429 before a guess is even checked.
    assert codes == [403] * 9 + [429] * 3
    right = {"current_password": PASSWORD, "new_password": "battery staple"}
    code, body, headers = await visitor.post("/profile/password", right)
    assert code == 429 and b"try again in" in body
    assert int(headers.getRawHeaders("Retry-After")[0]) > 0
    code, _, _ = await Visitor(server).post(
        "/login", {"username": "ada", "password": PASSWORD}
    )
    assert code == 429


@pytest_twisted.ensureDeferred
async def test_a_deleted_session_is_anonymous(server: str, store: Store) -> None:
    """A well signed cookie whose session is gone from Redis names nobody."""
    visitor = Visitor(server)
    await visitor.sign_up()
    await store.end_sessions("ada")
    code, _, headers = await visitor.get("/profile")
    assert (code, headers.getRawHeaders("Location")) == (303, ["/login"])
    code, body, _ = await visitor.get("/")
    assert b'href="/login"' in body


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

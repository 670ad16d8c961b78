"""
The account pages over a real Site, Redis and job worker: sign up, sign in
and out with signed session cookies, CSRF on every form, the profile's
changes, and the admin pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import attrs
import pytest_twisted
import treq
from twisted.internet import reactor, task

from julytwisted.config import Config, Limit
from julytwisted.jobs.queue import Queue
from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.conftest import MailSite
from tests.htmlcheck import check_page, hidden_field
from tests.mailboxes import link_in

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Visitor:
    """
    A browser's cookie jar over treq, following no redirects; seen from
    C{address} by a Site that trusts 127.0.0.1 as its proxy.
    """

    def __init__(self, server: str, address: str | None = None) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}
        self.address = address

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        jar = "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)
        headers = {**extra, "Cookie": jar} if jar else dict(extra)
        if self.address is not None:
            headers["X-Forwarded-For"] = self.address
        return headers

    async def _answer(self, answer: Any) -> tuple[int, bytes, Any]:
        for header in answer.headers.getRawHeaders("Set-Cookie", []):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer.code, await answer.content(), answer.headers

    async def get(self, path: str) -> tuple[int, bytes, Any]:
        answer = await treq.get(
            self.server + path, headers=self._headers({}), allow_redirects=False
        )
        return await self._answer(answer)

    async def post(
        self, path: str, fields: dict[str, str], csrf: str | None = None
    ) -> tuple[int, bytes, Any]:
        """Post a form, with the CSRF token of C{path}'s page unless given."""
        if csrf is None:
            form_page = path if path in ("/signup", "/login") else "/profile"
            if path.startswith("/admin/"):
                form_page = "/admin/"
            _, page, _ = await self.get(form_page)
            csrf = hidden_field(page, "csrf")
        answer = await treq.post(
            self.server + path,
            data=urlencode({"csrf": csrf, **fields}).encode(),
            headers=self._headers(FORM),
            allow_redirects=False,
        )
        return await self._answer(answer)

    async def sign_up(self, username: str = "ada", **extra: str) -> None:
        fields = {
            "username": username,
            "password": "correct horse",
            "email": f"{username}@example.com",
            **extra,
        }
        code, body, headers = await self.post("/signup", fields)
        assert code == 303, body
        assert headers.getRawHeaders("Location") == ["/profile?saved=welcome"]


async def until(condition: Any, seconds: float = 10) -> None:
    """Wait for the job worker to make C{condition()} true."""
    from twisted.internet import reactor

    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await task.deferLater(reactor, 0.05)
    raise AssertionError("the condition never held")


@pytest_twisted.ensureDeferred
async def test_sign_up_shows_the_profile(server: str, store: Store) -> None:
    """Signing up signs in: the profile names the player and their e-mail."""
    visitor = Visitor(server)
    await visitor.sign_up(name="Ada Lovelace")
    code, body, headers = await visitor.get("/profile?saved=welcome")
    assert code == 200
    assert headers.getRawHeaders("Cache-Control") == ["no-store"]
    tree: Any = check_page(body)
    text = " ".join(tree.itertext())
    assert "ada@example.com" in text and "Welcome!" in text
    assert (await store.player("ada")).name == "Ada Lovelace"


@pytest_twisted.ensureDeferred
async def test_session_cookie_is_signed_and_http_only(server: str) -> None:
    """The session cookie is HttpOnly and SameSite; a forged one signs nobody in."""
    visitor = Visitor(server)
    _, page, _ = await visitor.get("/signup")
    answer = await treq.post(
        server + "/signup",
        data=urlencode({
            "csrf": hidden_field(page, "csrf"), "username": "ada",
            "password": "correct horse", "email": "ada@example.com",
        }).encode(),
        headers=visitor._headers(FORM),
        allow_redirects=False,
    )  # fmt: skip
    await answer.content()
    (cookie,) = [
        c for c in answer.headers.getRawHeaders("Set-Cookie") if "jt_session" in c
    ]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    body, signature = value.rsplit(".", 1)
    forged = Visitor(server)
    forged.cookies["jt_session"] = body + "." + "0" * len(signature)
    code, _, headers = await forged.get("/profile")
    assert code == 303 and headers.getRawHeaders("Location") == ["/login"]


@pytest_twisted.ensureDeferred
async def test_forms_refuse_a_missing_or_wrong_csrf_token(
    server: str, store: Store
) -> None:
    """Without the page's token a form does nothing: no player is made."""
    visitor = Visitor(server)
    fields = {"username": "eve", "password": "correct horse", "email": "e@x.org"}
    for token in ("", "forged"):
        code, body, _ = await visitor.post("/signup", fields, csrf=token)
        assert code == 403
        check_page(body)
    # The token of another browser is no good either.
    other = Visitor(server)
    _, page, _ = await other.get("/signup")
    code, _, _ = await visitor.post("/signup", fields, hidden_field(page, "csrf"))
    assert code == 403
    code, _, _ = await visitor.get("/people/eve")
    assert code == 404
    assert await store.password_hash("eve") is None


@pytest_twisted.ensureDeferred
async def test_sign_up_errors_keep_what_was_typed(server: str) -> None:
    """A taken username or weak password is explained; the fields are kept."""
    await Visitor(server).sign_up()
    visitor = Visitor(server)
    fields = {"username": "ada", "password": "correct horse", "email": "b@x.org"}
    code, body, _ = await visitor.post("/signup", fields)
    assert code == 409
    assert b"username &#x27;ada&#x27; is taken" in body or b"is taken" in body
    assert hidden_field(body, "csrf")
    tree: Any = check_page(body)
    assert tree.find(".//input[@name='email']").get("value") == "b@x.org"
    assert tree.find(".//input[@name='password']").get("value") == ""
    fields = {"username": "bea", "password": "short", "email": "b@x.org"}
    code, body, _ = await visitor.post("/signup", fields)
    assert code == 400 and b"8 to 1024 characters" in body


@pytest_twisted.ensureDeferred
async def test_sign_in_and_out(server: str) -> None:
    """A wrong password is 401; the right one signs in; sign out ends it."""
    await Visitor(server).sign_up()
    visitor = Visitor(server)
    wrong = {"username": "ada", "password": "wrong horse"}
    code, body, _ = await visitor.post("/login", wrong)
    assert code == 401 and b"do not match" in body
    right = {"username": "Ada", "password": "correct horse"}
    code, _, headers = await visitor.post("/login", right)
    assert code == 303 and headers.getRawHeaders("Location") == ["/profile"]
    code, body, _ = await visitor.get("/")
    assert b'href="/profile">ada</a>' in body
    code, _, _ = await visitor.post("/logout", {})
    assert code == 303
    code, _, _ = await visitor.get("/profile")
    assert code == 303


@pytest_twisted.ensureDeferred
async def test_a_form_of_another_type_is_refused(server: str) -> None:
    """A form sent as JSON or multipart is 415, not half-read."""
    visitor = Visitor(server)
    _, page, _ = await visitor.get("/login")
    answer = await treq.post(
        server + "/login",
        data=json.dumps({"csrf": hidden_field(page, "csrf")}).encode(),
        headers=visitor._headers({"Content-Type": "application/json"}),
        allow_redirects=False,
    )
    assert answer.code == 415
    check_page(await answer.content())


@pytest_twisted.ensureDeferred
async def test_profile_changes(mail_server: MailSite, store: Store) -> None:
    """
    Name, a new e-mail (pending until confirmed through the link mailed to
    it, then its orphan commits adopted), location and team are saved; the
    boards follow once the worker has moved the points.
    """
    from tests.pages.test_mail_links import open_and_press

    server = mail_server.url
    await ingest(store, push(commit("o1", email="ada@work.example")))
    visitor = Visitor(server)
    await visitor.sign_up()
    code, _, headers = await visitor.post("/profile/name", {"name": "Ada L."})
    assert headers.getRawHeaders("Location") == ["/profile?saved=name"]
    code, _, headers = await visitor.post(
        "/profile/email", {"email": "ada@work.example"}
    )
    assert code == 303
    assert headers.getRawHeaders("Location") == ["/profile?saved=email"]
    _, page, _ = await visitor.get("/profile?saved=email")
    assert b"It scores once you open the link we mailed to it" in page
    assert await store.pending_emails("ada") == ["ada@example.com", "ada@work.example"]
    link = link_in(await mail_server.smtp.wait_for("ada@work.example"))
    await open_and_press(visitor, mail_server, link)
    await until(lambda: _points(store, "people", "ada", 11))
    code, _, _ = await visitor.post("/profile/location", {"location": "Paris"})
    assert code == 303
    await until(lambda: _points(store, "locations", "paris", 11))
    code, _, _ = await visitor.post("/profile/team", {"team": "Snakes"})
    assert code == 303
    player = await store.player("ada")
    assert (player.name, player.location) == ("Ada L.", "paris")
    _, body, _ = await visitor.get("/locations/")
    assert b'href="/locations/paris">Paris</a>' in body
    _, body, _ = await visitor.get("/people/ada")
    assert b"Ada L." in body


async def _points(store: Store, kind: str, member: str, points: int) -> bool:
    try:
        return bool((await store.detail(kind, member)).points == points)
    except LookupError:
        return False


@pytest_twisted.ensureDeferred
async def test_profile_errors_lose_nothing(server: str, store: Store) -> None:
    """A bad e-mail is explained and kept in its field; nothing else changes."""
    visitor = Visitor(server)
    await visitor.sign_up()
    code, body, _ = await visitor.post("/profile/email", {"email": "not-an-email"})
    assert code == 400 and b"invalid e-mail address" in body
    tree: Any = check_page(body)
    assert tree.find(".//input[@name='email']").get("value") == "not-an-email"
    assert await store.emails("ada") == ["ada@example.com"]
    code, _, _ = await visitor.post("/profile/name", {"name": "  "})
    assert code == 400
    assert (await store.player("ada")).name == "ada"


@pytest_twisted.ensureDeferred
async def test_api_token(server: str, store: Store) -> None:
    """A token made on the profile is shown once and names the player."""
    visitor = Visitor(server)
    await visitor.sign_up()
    code, body, _ = await visitor.post("/profile/token", {})
    assert code == 200
    tree: Any = check_page(body)
    token = tree.find(".//code[@class='token']").text
    assert await store.token_owner(token) == "ada"
    _, body, _ = await visitor.get("/profile")
    tree = check_page(body)
    (ident,) = [c.text for c in tree.iterfind(".//ul[@class='tokens']/li/code")]
    code, _, headers = await visitor.post("/profile/revoke-token", {"token": ident})
    assert headers.getRawHeaders("Location") == ["/profile?saved=revoke-token"]
    assert await store.token_owner(token) is None
    code, body, _ = await visitor.post("/profile/revoke-token", {"token": ident})
    assert code == 404 and b"no token" in body


@pytest_twisted.ensureDeferred
async def test_remove_an_email(server: str, store: Store) -> None:
    """
    An e-mail can be removed, but not the last one nor another player's;
    a refusal changes nothing.
    """
    await Visitor(server).sign_up("bob")
    visitor = Visitor(server)
    await visitor.sign_up()
    code, body, _ = await visitor.post(
        "/profile/remove-email", {"email": "ada@example.com"}
    )
    assert code == 409 and b"only e-mail" in body
    code, body, _ = await visitor.post(
        "/profile/remove-email", {"email": "bob@example.com"}
    )
    assert code == 404
    assert await store.emails("bob") == ["bob@example.com"]
    await visitor.post("/profile/email", {"email": "ada@work.example"})
    code, _, _ = await visitor.post(
        "/profile/remove-email", {"email": "ada@example.com"}
    )
    assert code == 303
    assert await store.emails("ada") == ["ada@work.example"]


@pytest_twisted.ensureDeferred
async def test_profile_needs_a_session(server: str, store: Store) -> None:
    """Signed out, the profile sends you to sign in and its forms do nothing."""
    visitor = Visitor(server)
    code, _, headers = await visitor.get("/profile")
    assert (code, headers.getRawHeaders("Location")) == (303, ["/login"])
    _, page, _ = await visitor.get("/login")
    csrf = hidden_field(page, "csrf")
    code, _, _ = await visitor.post("/profile/name", {"name": "x"}, csrf)
    assert code == 303


@pytest_twisted.ensureDeferred
async def test_admin_pages(server: str, store: Store, queue: Queue) -> None:
    """
    The admin token signs in as admin; then a team is approved and a project
    deactivated.  A player without the token may do neither.
    """
    await store.create_player("bob", "Bob", ["bob@example.com"], team="Crabs")
    await ingest(store, push(commit("x")))
    player = Visitor(server)
    await player.sign_up()
    _, page, _ = await player.get("/admin/")
    csrf = hidden_field(page, "csrf")
    code, _, _ = await player.post("/admin/approve-team", {"slug": "crabs"}, csrf)
    assert code == 403
    code, body, _ = await player.post("/admin/login", {"token": "wrong"}, csrf)
    assert code == 403 and b"not the admin token" in body
    code, _, _ = await player.post("/admin/login", {"token": "admin-secret"}, csrf)
    assert code == 303
    code, body, _ = await player.get("/admin/")
    assert code == 200 and b"No dead jobs." in body
    tree: Any = check_page(body)
    (waiting,) = tree.iterfind(".//ul[@class='waiting']/li")
    assert waiting.findtext("a") == "Crabs"
    code, body, _ = await player.post("/admin/approve-team", {"slug": "crabs"})
    assert code == 200 and b"Team crabs approved." in body
    assert b"No team is waiting." in body
    assert (await store.detail("teams", "crabs")).approved is True
    code, body, _ = await player.post(
        "/admin/deactivate-project", {"slug": "gh-ada-engine"}
    )
    assert code == 200
    assert (await store.detail("projects", "gh-ada-engine")).active is False
    code, body, _ = await player.post("/admin/approve-team", {"slug": "nothing"})
    assert code == 404 and b"no team" in body


@pytest_twisted.ensureDeferred
async def test_admin_vouches_for_an_email(server: str, store: Store) -> None:
    """
    An admin vouches for a player's pending e-mail on the admin page: it is
    verified at once and its commits score; another's verified e-mail is
    refused, changing nothing, and a player without the token may not.
    """
    await ingest(store, push(commit("a1")))
    visitor = Visitor(server)
    await visitor.sign_up()
    fields = {"username": "ada", "email": "ada@example.com"}
    _, page, _ = await visitor.get("/admin/")
    code, _, _ = await visitor.post(
        "/admin/vouch-email", fields, hidden_field(page, "csrf")
    )
    assert code == 403
    assert await store.pending_emails("ada") == ["ada@example.com"]
    code, _, _ = await visitor.post(
        "/admin/login", {"token": "admin-secret"}, hidden_field(page, "csrf")
    )
    code, body, _ = await visitor.post("/admin/vouch-email", fields)
    assert code == 200 and b"ada@example.com is a verified e-mail of ada" in body
    assert await store.pending_emails("ada") == []
    await until(lambda: _points(store, "people", "ada", 11))
    await store.create_player("bob", "Bob", [], claims=["bob@example.com"])
    code, body, _ = await visitor.post(
        "/admin/vouch-email", {"username": "bob", "email": "ada@example.com"}
    )
    assert code == 409 and b"is taken" in body
    assert await store.emails("bob") == ["bob@example.com"]


@pytest_twisted.ensureDeferred
async def test_admin_players(
    store: Store, config: Config, queue: Queue, clock: Any
) -> None:
    """
    A player named by --admin-player is an admin while signed in; the same
    session is a plain player's on a site without them on the list.
    """
    from julytwisted.service import build_site

    sites = []
    for admins in (("ada",), ()):
        site = build_site(
            store, attrs.evolve(config, admin_players=admins), queue, clock=clock
        )
        sites.append(reactor.listenTCP(0, site, interface="127.0.0.1"))
    try:
        with_admins, without = (f"http://127.0.0.1:{p.getHost().port}" for p in sites)
        visitor = Visitor(with_admins)
        await visitor.sign_up()
        code, body, _ = await visitor.get("/admin/")
        assert code == 200 and b"Teams waiting for approval" in body
        visitor.server = without
        code, body, _ = await visitor.get("/admin/")
        assert code == 200 and b"Admin token" in body
        assert b"Teams waiting" not in body
    finally:
        for port in sites:
            await port.stopListening()


def budgets(config: Config, per_address: Limit, per_username: Limit) -> Config:
    """C{config} with these budgets of failed credentials."""
    limits = {
        **config.rate_limits,
        "credentials": per_address,
        "credentials-user": per_username,
    }
    return attrs.evolve(config, rate_limits=limits, trusted_proxies=("127.0.0.1",))


@pytest_twisted.ensureDeferred
async def test_failed_sign_ins_are_throttled(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    After five wrong passwords for a username (the fifth is told at once) it
    waits 15 minutes, even with the right password and from another address,
    which is not checked; on every node, since the budget is in Redis.
    Before, the count was kept in each process.
    """
    limited = budgets(config, Limit(100, 60.0), Limit(5, 4500.0))
    one, two = server_with(limited), server_with(limited)
    await Visitor(one).sign_up()
    visitor = Visitor(one, "198.51.100.1")
    wrong = {"username": "ada", "password": "wrong horse"}
    for _ in range(4):
        code, _, _ = await visitor.post("/login", wrong)
        assert code == 401
    code, body, headers = await visitor.post("/login", wrong)
    assert code == 429 and b"try again in 15 minutes" in body
    assert headers.getRawHeaders("Retry-After") == ["900"]
    right = {"username": "ada", "password": "correct horse"}
    for node, address in ((one, "198.51.100.1"), (two, "203.0.113.7")):
        elsewhere = Visitor(node, address)
        code, body, headers = await elsewhere.post("/login", right)
        assert code == 429 and b"try again in 15 minutes" in body
        assert 899 <= int(headers.getRawHeaders("Retry-After")[0]) <= 900
        assert "jt_session" not in elsewhere.cookies


@pytest_twisted.ensureDeferred
async def test_sign_in_again_once_the_budget_refills(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    Once the wait Retry-After gives is over, the right password signs in.
    A guess a token (2 s) apart: slow password checks on a loaded machine
    still come back well within it.
    """
    server = server_with(budgets(config, Limit(100, 60.0), Limit(2, 4.0)))
    await Visitor(server).sign_up()
    visitor = Visitor(server)
    wrong = {"username": "ada", "password": "wrong horse"}
    assert (await visitor.post("/login", wrong))[0] == 401
    assert (await visitor.post("/login", wrong))[0] == 429
    right = {"username": "ada", "password": "correct horse"}
    code, _, headers = await visitor.post("/login", right)
    assert code == 429
    await task.deferLater(reactor, float(headers.getRawHeaders("Retry-After")[0]))
    code, _, headers = await visitor.post("/login", right)
    assert code == 303 and headers.getRawHeaders("Location") == ["/profile"]


@pytest_twisted.ensureDeferred
async def test_sign_in_guesses_from_one_address_meet_429(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    Guesses from one address at many usernames spend the address's budget:
    past it, 429 with Retry-After, and even a right password from there is
    not checked; the player signs in from another address.
    """
    server = server_with(budgets(config, Limit(3, 60.0), Limit(100, 60.0)))
    await Visitor(server).sign_up()
    guesser = Visitor(server, "198.51.100.1")
    codes = []
    for name in ("ada", "bob", "cy", "dee"):
        code, _, headers = await guesser.post(
            "/login", {"username": name, "password": "wrong horse"}
        )
        codes.append(code)
    assert codes == [401, 401, 429, 429]
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    right = {"username": "ada", "password": "correct horse"}
    assert (await guesser.post("/login", right))[0] == 429
    player = Visitor(server, "198.51.100.2")
    assert (await player.post("/login", right))[0] == 303


@pytest_twisted.ensureDeferred
async def test_admin_token_guesses_meet_429(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    Guesses at the admin token on /admin/login spend the address's budget:
    past it, 429, and even the right token is not checked from there.
    Before, 300 guesses took half a second and met no limit.
    """
    server = server_with(budgets(config, Limit(3, 60.0), Limit(100, 60.0)))
    guesser = Visitor(server)
    _, page, _ = await guesser.get("/admin/")
    csrf = hidden_field(page, "csrf")
    codes = []
    for n in range(5):
        code, body, headers = await guesser.post(
            "/admin/login", {"token": f"guess-{n}"}, csrf
        )
        codes.append(code)
    assert codes == [403, 403, 429, 429, 429]
    assert b"Too many wrong tokens" in body
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    code, _, _ = await guesser.post("/admin/login", {"token": "admin-secret"}, csrf)
    assert code == 429
    _, page, _ = await guesser.get("/admin/")
    assert b"Sign in as admin" in page


@pytest_twisted.ensureDeferred
async def test_the_sign_up_form_shares_the_sign_up_limit(
    server_with: Callable[[Config], str], config: Config, store: Store
) -> None:
    """
    The sign-up form and julython.signup draw on one sign-up limit per
    address: past it, the form comes back 429 with Retry-After and what was
    typed, and no account is made.
    """
    limits = {**config.rate_limits, "signup": Limit(2, 3600.0)}
    server = server_with(attrs.evolve(config, rate_limits=limits))
    answer = await treq.post(
        server + "/json/",
        data=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "julython.signup",
            "params": ["bob", "correct horse", "bob@example.com"],
        }).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.code == 200
    await answer.content()
    await Visitor(server).sign_up("ada")
    visitor = Visitor(server)
    fields = {"username": "cy", "password": "correct horse", "email": "cy@x.org"}
    code, body, headers = await visitor.post("/signup", fields)
    assert code == 429 and b"too many sign-ups from your address" in body
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    tree: Any = check_page(body)
    assert tree.find(".//input[@name='email']").get("value") == "cy@x.org"
    assert await store.password_hash("cy") is None


@pytest_twisted.ensureDeferred
async def test_sign_up_with_a_taken_email_looks_like_any_other(
    server: str, store: Store
) -> None:
    """
    Signing up with someone else's e-mail answers as with a free one (the
    welcome), so the form tells no one which addresses are registered; the
    e-mail stays its owner's, the newcomer's claim pending.
    """
    await Visitor(server).sign_up("ada")
    await store.add_email("ada", "ada@example.com")
    await Visitor(server).sign_up("eve", email="ada@example.com")
    assert await store.emails("ada") == ["ada@example.com"]
    assert await store.pending_emails("ada") == []
    assert await store.pending_emails("eve") == ["ada@example.com"]


@pytest_twisted.ensureDeferred
async def test_profile_picture_through_the_session(server: str, store: Store) -> None:
    """
    The profile's picture form posts to the upload service with the session
    and the CSRF token in its address, and lands back on the profile with
    the picture shown; without the token, or with another's, nothing is
    stored (403), and without a session it is 401.
    """
    import re

    from tests.builders import BOUNDARY, PNG, multipart

    visitor = Visitor(server)
    await visitor.sign_up("ada")
    _, page, _ = await visitor.get("/profile")
    found = re.search(rb'action="(/upload/\?csrf=[^"]+)"', page)
    assert found is not None
    action = found.group(1).decode().replace("&amp;", "&")
    body = multipart(
        [("me.png", "image/png", PNG)],
        {"kind": "avatar", "next": "/profile?saved=picture"},
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

    async def post(path: str, who: Visitor | None) -> tuple[int, Any]:
        sent = who._headers(headers) if who is not None else headers
        answer = await treq.post(
            server + path, data=body, headers=sent, allow_redirects=False
        )
        await answer.content()
        return answer.code, answer.headers

    assert (await post("/upload/?csrf=forged", visitor))[0] == 403
    assert (await post("/upload/", visitor))[0] == 403
    assert (await post(action, None))[0] == 401
    assert (await store.player("ada")).picture_url in (None, "")
    code, answered = await post(action, visitor)
    assert code == 303
    assert answered.getRawHeaders("Location") == ["/profile?saved=picture"]
    picture = (await store.player("ada")).picture_url
    assert picture and picture.startswith("/files/")
    _, page, _ = await visitor.get("/profile?saved=picture")
    assert picture.encode() in page and b"Your picture is saved." in page


@pytest_twisted.ensureDeferred
async def test_signed_in_pages_are_asked_for_again(server: str) -> None:
    """
    A signed-in visitor's pages are private and revalidated each time (an
    unchanged one is a 304), so a change of theirs shows at once.
    """
    visitor = Visitor(server)
    await visitor.sign_up("ada")
    code, _, headers = await visitor.get("/people/ada")
    assert code == 200
    assert headers.getRawHeaders("Cache-Control") == ["private, no-cache"]
    (etag,) = headers.getRawHeaders("ETag")
    answer = await treq.get(
        server + "/people/ada",
        headers=visitor._headers({"If-None-Match": etag}),
        allow_redirects=False,
    )
    assert answer.code == 304

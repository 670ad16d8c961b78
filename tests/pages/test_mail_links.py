"""
Mailed links over a real Site, Redis, job worker and SMTP server: an e-mail
typed at sign-up or on the profile is pending until its owner opens the
link mailed to it and presses the button; the attack of claiming someone
else's e-mail; links that work once and expire; the password reset; and a
site without mail, which says so.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.auth import accounts as use_cases
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.links import RESET_PASSWORD, SignedLinks
from julytwisted.auth.sessions import load_secret
from julytwisted.config import Config
from julytwisted.pages._emails import NO_MAIL
from julytwisted.pages.mail_links import RESET_ASKED
from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.conftest import MailSite
from tests.htmlcheck import check_page, hidden_field
from tests.mailboxes import link_in
from tests.pages.test_accounts import Visitor, until


async def points(store: Store, username: str) -> int:
    return (await store.player(username)).points


def path_of(site: MailSite, link: str) -> str:
    assert link.startswith(site.url + "/"), link
    return link.removeprefix(site.url)


async def open_and_press(visitor: Visitor, site: MailSite, link: str) -> bytes:
    """Open a mailed link (GET), then press its page's button (POST)."""
    code, page, _ = await visitor.get(path_of(site, link))
    assert code == 200, page
    check_page(page)
    code, body, _ = await visitor.post(
        path_of(site, link), {}, csrf=hidden_field(page, "csrf")
    )
    assert code == 200, body
    return body


@pytest_twisted.ensureDeferred
async def test_push_first_then_sign_up_and_confirm(
    mail_server: MailSite, store: Store
) -> None:
    """
    Ada pushes before she has an account; she signs up, and her e-mail is
    pending: nothing scores.  Opening the mailed link changes nothing (a
    mail scanner may do it); pressing its button verifies the e-mail, and
    her commits score at once.
    """
    await ingest(store, push(commit("a1"), commit("a2")))
    visitor = Visitor(mail_server.url)
    await visitor.sign_up()
    message = await mail_server.smtp.wait_for("ada@example.com")
    assert message["From"] == "Julython <noreply@julython.test>"
    assert message["Subject"] == "Confirm ada@example.com for Julython"
    link = link_in(message)
    assert link.startswith(mail_server.url + "/confirm-email/")
    assert await points(store, "ada") == 0
    for _ in range(2):
        code, page, _ = await visitor.get(path_of(mail_server, link))
        assert code == 200 and b"ada@example.com" in page
    assert await store.pending_emails("ada") == ["ada@example.com"]
    assert await points(store, "ada") == 0

    body = await open_and_press(Visitor(mail_server.url), mail_server, link)
    assert b"ada@example.com is a verified e-mail of ada now" in body
    await until(lambda: _has(store, "ada", 12))
    assert await store.pending_emails("ada") == []
    _, page, _ = await visitor.get("/profile")
    assert b"verified" in page and b"pending" not in page


async def _has(store: Store, username: str, wanted: int) -> bool:
    return await points(store, username) == wanted


@pytest_twisted.ensureDeferred
async def test_a_claim_of_someone_elses_email(
    mail_server: MailSite, store: Store
) -> None:
    """
    Mallory adds Ada's e-mail on her profile: it scores nothing for her, at
    the push or by adoption; its link goes to Ada's address, not to her,
    and her own link cannot be made to name it.  Ada signs up later and
    confirms: the commits are hers, and the claim leaves Mallory's list.
    """
    await ingest(store, push(commit("a1", email="ada@work.example")))
    mallory = Visitor(mail_server.url)
    await mallory.sign_up("mallory")
    own = link_in(await mail_server.smtp.wait_for("mallory@example.com"))
    await mallory.post("/profile/email", {"email": "ada@work.example"})
    claim = await mail_server.smtp.wait_for("ada@work.example")
    assert "mallory" in claim.get_content()
    await ingest(store, push(commit("a2", email="ada@work.example")))
    await store.adopt_all_orphans()
    assert await points(store, "mallory") == 0
    assert len(mail_server.smtp.to("mallory@example.com")) == 1

    token = own.rsplit("/", 1)[1]
    body, _, signature = token.partition(".")
    forged = "/confirm-email/" + body[:-4] + "AAAA." + signature
    code, page, _ = await mallory.get(forged)
    assert code == 400 and b"not made here" in page
    code, _, _ = await mallory.post(forged, {}, csrf=_csrf(page))
    assert code == 400
    assert await store.pending_emails("mallory") == [
        "ada@work.example",
        "mallory@example.com",
    ]

    ada = Visitor(mail_server.url)
    await ada.sign_up("ada", email="ada@work.example")
    mine = link_in(await mail_server.smtp.wait_for("ada@work.example", count=2))
    await open_and_press(ada, mail_server, mine)
    await until(lambda: _has(store, "ada", 12))
    assert await points(store, "mallory") == 0
    assert await store.pending_emails("mallory") == ["mallory@example.com"]
    code, page, _ = await mallory.get(path_of(mail_server, link_in(claim)))
    code, _, _ = await mallory.post(
        path_of(mail_server, link_in(claim)), {}, csrf=_csrf(page)
    )
    assert code == 400
    assert await store.emails("ada") == ["ada@work.example"]


def _csrf(page: bytes) -> str:
    try:
        return hidden_field(page, "csrf")
    except AssertionError:
        return "none"


@pytest_twisted.ensureDeferred
async def test_a_link_works_once_and_for_a_day(
    mail_server: MailSite, store: Store, clock: Clock
) -> None:
    """
    A confirmation link's button works once; asked for again within a
    minute, no second mail goes; a link sent again replaces the earlier one;
    a link 24 hours old is refused, and so changes nothing.
    """
    visitor = Visitor(mail_server.url)
    await visitor.sign_up()
    first = link_in(await mail_server.smtp.wait_for("ada@example.com"))
    await visitor.post("/profile/resend-email", {"email": "ada@example.com"})
    await jobs_done(store)
    assert len(mail_server.smtp.to("ada@example.com")) == 1
    await a_minute_later(store)
    await visitor.post("/profile/resend-email", {"email": "ada@example.com"})
    latest = link_in(await mail_server.smtp.wait_for("ada@example.com", count=2))
    assert latest != first
    code, page, _ = await visitor.get(path_of(mail_server, first))
    assert code == 200
    code, body, _ = await visitor.post(
        path_of(mail_server, first), {}, csrf=_csrf(page)
    )
    assert code == 400 and b"used already" in body
    clock.advance(24 * 3600)
    code, page, _ = await visitor.get(path_of(mail_server, latest))
    assert code == 400 and b"expired" in page
    assert await store.pending_emails("ada") == ["ada@example.com"]

    await a_minute_later(store)
    await visitor.post("/profile/resend-email", {"email": "ada@example.com"})
    fresh = link_in(await mail_server.smtp.wait_for("ada@example.com", count=3))
    await open_and_press(visitor, mail_server, fresh)
    code, page, _ = await visitor.get(path_of(mail_server, fresh))
    code, body, _ = await visitor.post(
        path_of(mail_server, fresh), {}, csrf=_csrf(page)
    )
    assert code == 400
    assert await store.emails("ada") == ["ada@example.com"]
    assert await store.pending_emails("ada") == []


async def jobs_done(store: Store) -> None:
    """Wait until every job queued has run."""

    async def done() -> bool:
        for key in await store.redis.execute("KEYS", "j:q:job:*"):
            if await store.redis.execute("HGET", key, "state") != "done":
                return False
        return True

    await until(done)


async def a_minute_later(store: Store) -> None:
    """
    What a minute passing does to the mail jobs' once-a-minute keys, which
    live on Redis's own clock.
    """
    for key in await store.redis.execute("KEYS", "j:q:unique:mail:*"):
        await store.redis.execute("DEL", key)


async def confirmed(site: MailSite, username: str = "ada") -> Visitor:
    """A player signed up, with their e-mail confirmed."""
    visitor = Visitor(site.url)
    await visitor.sign_up(username)
    link = link_in(await site.smtp.wait_for(f"{username}@example.com"))
    await open_and_press(visitor, site, link)
    return visitor


def _notice(page: bytes) -> str:
    tree: Any = check_page(page)
    return " ".join(
        "".join(p.itertext()) for p in tree.iterfind(".//p[@role='status']")
    )


@pytest_twisted.ensureDeferred
async def test_password_reset(
    mail_server: MailSite, store: Store, clock: Clock
) -> None:
    """
    The reset form answers the same for a known and an unknown login; the
    link reaches the player's verified e-mail, lets them choose a password
    once (a weak one is refused, keeping the link), and the old password
    stops working.
    """
    await confirmed(mail_server)
    visitor = Visitor(mail_server.url)
    answers = []
    for login in ("ada", "nobody", "nobody@example.com"):
        _, page, _ = await visitor.get("/password-reset")
        code, body, _ = await visitor.post(
            "/password-reset", {"login": login}, csrf=hidden_field(page, "csrf")
        )
        answers.append((code, _notice(body)))
    assert answers == [(200, RESET_ASKED)] * 3
    message = await mail_server.smtp.wait_for("ada@example.com", count=2)
    assert message["Subject"] == "Reset your Julython password"
    reset = path_of(mail_server, link_in(message))

    code, page, _ = await visitor.get(reset)
    assert code == 200 and b"ada" in page
    code, body, _ = await visitor.post(reset, {"password": "short"}, _csrf(page))
    assert code == 400 and b"8 to 1024 characters" in body
    code, body, _ = await visitor.post(
        reset, {"password": "new battery staple"}, _csrf(page)
    )
    assert code == 200 and b"is changed" in body
    code, body, _ = await visitor.post(reset, {"password": "third horse"}, _csrf(page))
    assert code == 400
    code, _, _ = await visitor.post(
        "/login", {"username": "ada", "password": "correct horse"}
    )
    assert code == 401
    code, _, _ = await visitor.post(
        "/login", {"username": "ada", "password": "new battery staple"}
    )
    assert code == 303


@pytest_twisted.ensureDeferred
async def test_a_reset_link_lasts_an_hour(
    mail_server: MailSite, store: Store, clock: Clock
) -> None:
    """A reset link an hour old is refused; the password stays as it was."""
    visitor = await confirmed(mail_server)
    await visitor.post(
        "/password-reset", {"login": "ada@example.com"}, csrf=await _form(visitor)
    )
    reset = path_of(
        mail_server, link_in(await mail_server.smtp.wait_for("ada@example.com", 2))
    )
    clock.advance(3600)
    code, page, _ = await visitor.get(reset)
    assert code == 400 and b"expired" in page
    before = await store.password_hash("ada")
    code, _, _ = await visitor.post(reset, {"password": "new battery"}, _csrf(page))
    assert code == 400
    assert await store.password_hash("ada") == before


async def _form(visitor: Visitor) -> str:
    _, page, _ = await visitor.get("/password-reset")
    return hidden_field(page, "csrf")


@pytest_twisted.ensureDeferred
async def test_no_reset_mail_to_a_pending_email(
    mail_server: MailSite, store: Store
) -> None:
    """
    A player whose e-mail is pending gets no reset link: nobody has shown
    that address to be theirs.  The answer is the same.
    """
    visitor = Visitor(mail_server.url)
    await visitor.sign_up()
    await mail_server.smtp.wait_for("ada@example.com")
    code, body, _ = await visitor.post(
        "/password-reset", {"login": "ada"}, csrf=await _form(visitor)
    )
    assert (code, _notice(body)) == (200, RESET_ASKED)
    assert len(await store.redis.execute("KEYS", "j:q:job:*")) == 2
    await jobs_done(store)
    assert not await store.redis.execute("EXISTS", "j:reset:ada")
    assert len(mail_server.smtp.to("ada@example.com")) == 1


@pytest_twisted.ensureDeferred
async def test_a_reset_ends_the_sessions(
    store: Store, config: Config, hasher: PasswordHasher
) -> None:
    """A reset calls end_sessions for its player, once the password is set."""
    await store.create_player("ada", "Ada", ["ada@example.com"], password_hash="x")
    clock = Clock()
    links = SignedLinks(load_secret(None, config.data_dir), clock)
    token = links.sign(
        RESET_PASSWORD, {"u": "ada", "n": await store.reset_nonce("ada")}, 60
    )
    ended: list[str] = []

    async def end_sessions(username: str) -> None:
        assert await store.password_hash(username) != "x"
        ended.append(username)

    await use_cases.reset_password(
        store, hasher, links, token, "new battery staple", end_sessions
    )
    assert ended == ["ada"]


def test_without_mail_the_start_says_so(store: Store, config: Config) -> None:
    """Building a node without --smtp logs that typed e-mails cannot be verified."""
    from twisted.internet import reactor
    from twisted.logger import LogLevel, formatEvent, globalLogPublisher

    from julytwisted.service import build_mailer

    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        assert build_mailer(store, config, reactor, Clock()) is None
    finally:
        globalLogPublisher.removeObserver(events.append)
    [said] = [e for e in events if "--smtp" in formatEvent(e)]
    assert said["log_level"] == LogLevel.warn
    assert "cannot be verified" in formatEvent(said)


@pytest_twisted.ensureDeferred
async def test_a_site_without_mail_says_so(server: str, store: Store) -> None:
    """
    Without --smtp the profile says typed e-mails cannot be verified, an
    added one is pending, and the reset page asks for an organiser.
    """
    visitor = Visitor(server)
    await visitor.sign_up()
    _, page, _ = await visitor.get("/profile")
    assert NO_MAIL.encode() in page
    code, _, headers = await visitor.post("/profile/email", {"email": "a@b.example"})
    assert headers.getRawHeaders("Location") == ["/profile?saved=email-unmailed"]
    assert await store.pending_emails("ada") == ["a@b.example", "ada@example.com"]
    code, page, _ = await visitor.get("/password-reset")
    assert code == 200 and b"sends no mail" in page
    assert await store.redis.execute("KEYS", "j:q:job:*") == []

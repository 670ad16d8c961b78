"""
Signing in with a code host, over HTTP, against a real listening stub of
each host and a real Site and Redis: the browser's redirects are followed
by hand with treq, carrying the site's cookies.  A new host account makes a
player with its verified e-mails only; a verified e-mail of an existing
player signs them in and links the host; declined consent, a forged state,
a replayed callback and a code used twice each answer a page and sign
nobody in; the host's token is kept encrypted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.internet.threads import deferToThread

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.sessions import load_secret
from julytwisted.config import Config
from julytwisted.hosts import OAuthApp
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.worker import WorkerService
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, _keys
from tests.builders import commit, ingest, push
from tests.hosts.stub import Email, StubHost, User, listen
from tests.hosts.stub_bitbucket import BitbucketStub
from tests.hosts.stub_github import GitHubStub
from tests.hosts.stub_gitlab import GitLabStub
from tests.htmlcheck import check_page
from tests.pages.test_accounts import Visitor, until

APP = OAuthApp("julython-client", "julython-secret")
STUBS: dict[str, type[StubHost]] = {
    "github": GitHubStub,
    "gitlab": GitLabStub,
    "bitbucket": BitbucketStub,
}
HOST_IDS = {"github": 583231, "gitlab": 42, "bitbucket": "{d301aafa-d676-4ee0}"}


@attrs.define
class Site:
    """A real Site signing in with a stub of each host."""

    url: str
    stubs: dict[str, StubHost]
    config: Config


@pytest_twisted.async_yield_fixture
async def site(
    store: Store, queue: Queue, redis: RedisService, clock: Clock, tmp_path: Path
) -> AsyncIterator[Site]:
    """The Site, its job worker (for adoption), and the three stub hosts."""
    from julytwisted.jobs import build_jobs
    from julytwisted.service import build_site

    stubs = {name: kind(reactor.seconds) for name, kind in STUBS.items()}
    ports = [listen(reactor, stub) for stub in stubs.values()]
    config = Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        oauth={name: APP for name in stubs},
        code_hosts={name: stub.host for name, stub in stubs.items()},
    )
    worker = WorkerService(
        queue, redis.dedicated_client(), build_jobs(store, treq.post), reactor, poll=0.2
    )
    worker.startService()
    port = reactor.listenTCP(
        0, build_site(store, config, queue, clock=clock), interface="127.0.0.1"
    )
    url = f"http://127.0.0.1:{port.getHost().port}"
    for stub in stubs.values():
        stub.register_app(APP.client_id, APP.client_secret, url + "/login/")
    yield Site(url, stubs, config)
    await port.stopListening()
    for listening in ports:
        await listening.stopListening()
    await worker.stopService()


def account(provider: str, login: str = "Octo-Cat") -> User:
    """A host account with verified, unverified and primary addresses."""
    return User(
        HOST_IDS[provider],
        login,
        "Octo Cat",
        [
            Email("Octo@Example.com", verified=True, primary=True),
            Email("octo@work.example", verified=True),
            Email("claimed@example.com", verified=False),
        ],
    )


async def at_host(url: str) -> str:
    """The browser at the host's authorize URL: where it is sent back to."""
    answer = await treq.get(url, allow_redirects=False, persistent=False)
    await answer.content()
    assert answer.code == 302, answer.code
    location: str = answer.headers.getRawHeaders("location")[0]
    return location


async def begin(visitor: Visitor, provider: str) -> str:
    """Begin a sign-in; return the callback URL the host sends back to."""
    code, _, headers = await visitor.get(f"/login/{provider}")
    assert code == 303
    return await at_host(headers.getRawHeaders("Location")[0])


async def back(visitor: Visitor, callback: str) -> tuple[int, bytes, Any]:
    """Follow the host's redirect back to the site."""
    assert callback.startswith(visitor.server + "/login/")
    return await visitor.get(callback[len(visitor.server) :])


async def host_sign_in(
    visitor: Visitor, site: Site, provider: str, user: User
) -> tuple[int, bytes, Any]:
    """The whole flow, as the host's signed-in C{user}, with consent."""
    stub = site.stubs[provider]
    stub.browser = stub.add_user(user)
    return await back(visitor, await begin(visitor, provider))


async def signed_in_as(visitor: Visitor) -> str | None:
    """Who the visitor's profile names; L{None} when anonymous."""
    code, body, _ = await visitor.get("/profile")
    if code != 200:
        return None
    tree: Any = check_page(body)
    link = tree.find(".//a[.='Your public page']")
    return str(link.get("href")).rpartition("/")[2]


@pytest.mark.parametrize("provider", list(STUBS))
@pytest_twisted.ensureDeferred
async def test_new_player_from_a_host_account(
    site: Site, store: Store, provider: str
) -> None:
    """
    A host account nobody has makes a new player named after its login,
    lower-cased, signed in, with the host's verified e-mails only (GitHub's
    noreply addresses too), and the host linked on the profile.
    """
    visitor = Visitor(site.url)
    code, body, headers = await host_sign_in(visitor, site, provider, account(provider))
    assert code == 303, body
    assert headers.getRawHeaders("Location") == ["/profile?saved=welcome"]
    assert await signed_in_as(visitor) == "octo-cat"
    emails = set(await store.emails("octo-cat"))
    expected = {"octo@example.com", "octo@work.example"}
    if provider == "github":
        # GitHub Enterprise's noreply domain is users.noreply.ITS_HOSTNAME.
        domain = "users.noreply." + str(urlsplit(site.stubs["github"].url).hostname)
        expected |= {f"583231+octo-cat@{domain}", f"octo-cat@{domain}"}
    assert emails == expected
    assert await store.email_owner("claimed@example.com") is None
    _, body, _ = await visitor.get("/profile")
    tree: Any = check_page(body)
    linked = [li.text for li in tree.findall(".//ul[@class='linked-hosts']/li")]
    title = {"github": "GitHub", "gitlab": "GitLab", "bitbucket": "Bitbucket"}
    assert linked == [f"{title[provider]}: Octo-Cat"]
    assert (await store.player("octo-cat")).name == "Octo Cat"


@pytest_twisted.ensureDeferred
async def test_signing_in_again_finds_the_same_player(site: Site, store: Store) -> None:
    """The linked host account signs its player in; no second player."""
    first, again = Visitor(site.url), Visitor(site.url)
    await host_sign_in(first, site, "gitlab", account("gitlab"))
    code, _, headers = await host_sign_in(again, site, "gitlab", account("gitlab"))
    assert code == 303
    assert headers.getRawHeaders("Location") == ["/profile"]
    assert await signed_in_as(again) == "octo-cat"
    with pytest.raises(LookupError):
        await store.player("octo-cat-2")


@pytest_twisted.ensureDeferred
async def test_a_taken_username_gets_a_suffix(site: Site, store: Store) -> None:
    """A login whose username is taken makes C{login-2}."""
    await Visitor(site.url).sign_up("octo-cat")
    other = attrs.evolve(
        account("github"), emails=[Email("someone@else.example", verified=True)]
    )
    visitor = Visitor(site.url)
    await host_sign_in(visitor, site, "github", other)
    assert await signed_in_as(visitor) == "octo-cat-2"


@pytest_twisted.ensureDeferred
async def test_existing_player_with_a_verified_email(site: Site, store: Store) -> None:
    """
    An existing player whose verified e-mail the host has verified too is
    signed in and the host linked to them; the host's other verified
    e-mails are theirs.
    """
    await Visitor(site.url).sign_up("ada")
    await store.add_email("ada", "ada@example.com")
    user = attrs.evolve(
        account("bitbucket", "ada-at-bitbucket"),
        emails=[
            Email("ADA@example.com", verified=True, primary=True),
            Email("ada@second.example", verified=True),
        ],
    )
    visitor = Visitor(site.url)
    code, _, headers = await host_sign_in(visitor, site, "bitbucket", user)
    assert code == 303
    assert headers.getRawHeaders("Location") == ["/profile"]
    assert await signed_in_as(visitor) == "ada"
    assert await store.emails("ada") == ["ada@example.com", "ada@second.example"]
    [linked] = await store.host_accounts.linked("ada")
    assert (linked.host, linked.login) == ("bitbucket", "ada-at-bitbucket")


@pytest_twisted.ensureDeferred
async def test_a_pending_claim_captures_no_sign_in(site: Site, store: Store) -> None:
    """
    Someone who typed the owner's address (a pending claim, never confirmed)
    gains nothing when the owner signs in with a host that verified it: the
    owner gets a player of their own with the address, the claim ends, and
    the claimant's account is not the one signed in.  Before e-mails had to
    be verified, the claim made the host sign in as the claimant.
    """
    await Visitor(site.url).sign_up("eve", email="ada@example.com")
    assert await store.pending_emails("eve") == ["ada@example.com"]
    user = attrs.evolve(
        account("github", "ada"),
        emails=[Email("ada@example.com", verified=True, primary=True)],
    )
    visitor = Visitor(site.url)
    await host_sign_in(visitor, site, "github", user)
    assert await signed_in_as(visitor) == "ada"
    assert "ada@example.com" in await store.emails("ada")
    assert await store.pending_emails("ada") == []
    assert await store.pending_emails("eve") == []
    assert await store.host_accounts.linked("eve") == []


async def nothing_made(visitor: Visitor, store: Store) -> None:
    """Nobody is signed in and no player was made."""
    assert await signed_in_as(visitor) is None
    assert not visitor.cookies.get("jt_session")
    with pytest.raises(LookupError):
        await store.player("octo-cat")


@pytest_twisted.ensureDeferred
async def test_consent_denied(site: Site, store: Store) -> None:
    """Declining at the host: a page saying so, a way back, nothing made."""
    site.stubs["github"].consent = False
    visitor = Visitor(site.url)
    code, body, _ = await host_sign_in(visitor, site, "github", account("github"))
    assert code == 403
    tree: Any = check_page(body)
    assert "declined" in tree.findtext(".//p[@role='alert']")
    assert tree.find(".//a[@href='/login']") is not None
    await nothing_made(visitor, store)


@pytest_twisted.ensureDeferred
async def test_a_bad_state(site: Site, store: Store) -> None:
    """A callback whose state is not this sign-in's: 400, nothing made."""
    visitor = Visitor(site.url)
    site.stubs["gitlab"].browser = site.stubs["gitlab"].add_user(account("gitlab"))
    callback = await begin(visitor, "gitlab")
    query = dict(parse_qsl(urlsplit(callback).query))
    forged = callback.split("?")[0] + "?" + urlencode({**query, "state": "forged"})
    code, body, _ = await back(visitor, forged)
    assert code == 400
    assert b"not begun here" in body
    await nothing_made(visitor, store)
    # The sign-in is spent: its real callback no longer works either.
    code, _, _ = await back(visitor, callback)
    assert code == 400
    await nothing_made(visitor, store)


@pytest_twisted.ensureDeferred
async def test_callback_from_another_browser(site: Site, store: Store) -> None:
    """
    Login CSRF: a callback begun in one browser, opened in another (without
    the first one's cookie), signs nobody in.
    """
    attacker, victim = Visitor(site.url), Visitor(site.url)
    site.stubs["github"].browser = site.stubs["github"].add_user(account("github"))
    callback = await begin(attacker, "github")
    code, body, _ = await back(victim, callback)
    assert code == 400 and b"not begun in this browser" in body
    await nothing_made(victim, store)


@pytest_twisted.ensureDeferred
async def test_a_code_used_twice(site: Site, store: Store) -> None:
    """
    A callback replayed is refused (the sign-in is spent), and its code,
    carried into another sign-in, is refused by the host: 400 both times,
    nobody signed in by either.
    """
    first = Visitor(site.url)
    stub = site.stubs["github"]
    stub.browser = stub.add_user(account("github"))
    callback = await begin(first, "github")
    code, _, _ = await back(first, callback)
    assert code == 303
    replay = Visitor(site.url)
    replay.cookies = {k: v for k, v in first.cookies.items() if k != "jt_session"}
    code, _, _ = await back(replay, callback)
    assert code == 400
    other = Visitor(site.url)
    fresh = dict(parse_qsl(urlsplit(await begin(other, "github")).query))
    used = dict(parse_qsl(urlsplit(callback).query))["code"]
    reused = callback.split("?")[0] + "?" + urlencode({**fresh, "code": used})
    code, body, _ = await back(other, reused)
    assert code == 400 and b"refused the code" in body
    assert await signed_in_as(other) is None
    assert await signed_in_as(replay) is None


@pytest_twisted.ensureDeferred
async def test_the_token_is_not_kept_in_clear(site: Site, store: Store) -> None:
    """
    The host's token is kept for the player, sealed: Redis holds no byte of
    it in clear, and only the session secret opens it.
    """
    visitor = Visitor(site.url)
    await host_sign_in(visitor, site, "github", account("github"))
    [access] = site.stubs["github"].tokens
    key = _keys.player_host_token("octo-cat", "github")
    sealed = await store.redis.execute("GET", key)
    assert sealed and access not in str(sealed)
    for name in await store.redis.execute("KEYS", "*"):
        kind = await store.redis.execute("TYPE", name)
        if kind == "string":
            assert access not in str(await store.redis.execute("GET", name))
    secret = load_secret(site.config.session_secret, site.config.data_dir)
    opened = TokenBox(secret).open(str(sealed).encode())
    assert opened is not None and opened.access_token == access
    assert TokenBox(b"another secret").open(str(sealed).encode()) is None


@pytest_twisted.ensureDeferred
async def test_the_owner_gets_the_address_and_its_commits(
    site: Site, store: Store
) -> None:
    """
    The attack from the issue, the owner's side: commits pushed with an
    address nobody has are orphans; the owner signing in with a host that
    verified it gets the address, and the commits score for them at once.
    """
    await ingest(
        store,
        push(commit("o1", email="octo@work.example"), commit("o2", email="x@y.z")),
    )
    visitor = Visitor(site.url)
    await host_sign_in(visitor, site, "github", account("github"))

    async def scored() -> bool:
        try:
            return (await store.detail("people", "octo-cat")).points == 11
        except LookupError:
            return False

    await until(scored)


@pytest_twisted.ensureDeferred
async def test_linking_another_host_from_the_profile(site: Site, store: Store) -> None:
    """
    A signed-in player links a second host from the profile: the same flow,
    linking it to them (its verified e-mails theirs), not signing in anyone
    else; an account another player has is refused with a way back.
    """
    visitor = Visitor(site.url)
    await host_sign_in(visitor, site, "github", account("github"))
    _, body, _ = await visitor.get("/profile")
    assert b'href="/login/gitlab"' in body and b'href="/login/github"' not in body
    gitlab_user = attrs.evolve(
        account("gitlab", "octo_gl"),
        emails=[Email("octo@gitlab.example", verified=True, primary=True)],
    )
    code, _, headers = await host_sign_in(visitor, site, "gitlab", gitlab_user)
    assert headers.getRawHeaders("Location") == ["/profile?saved=host"]
    assert await signed_in_as(visitor) == "octo-cat"
    hosts = [link.host for link in await store.host_accounts.linked("octo-cat")]
    assert hosts == ["github", "gitlab"]
    assert "octo@gitlab.example" in await store.emails("octo-cat")

    bob = Visitor(site.url)
    await bob.sign_up("bob")
    code, body, _ = await host_sign_in(bob, site, "gitlab", gitlab_user)
    assert code == 409 and b"linked to another player" in body
    assert b'href="/profile"' in body
    assert await signed_in_as(bob) == "bob"
    assert await store.host_accounts.owner("gitlab", "42") == "octo-cat"


@pytest_twisted.ensureDeferred
async def test_the_pages_show_a_button_per_host(site: Site) -> None:
    """Sign-in and sign-up pages carry a button for each configured host."""
    visitor = Visitor(site.url)
    for path, verb in (("/login", "Sign in"), ("/signup", "Sign up")):
        _, body, _ = await visitor.get(path)
        tree: Any = check_page(body)
        links = tree.findall(".//p[@class='hosts']/a")
        assert [(a.text, a.get("href")) for a in links] == [
            (f"{verb} with GitHub", "/login/github"),
            (f"{verb} with GitLab", "/login/gitlab"),
            (f"{verb} with Bitbucket", "/login/bitbucket"),
        ]


@pytest_twisted.ensureDeferred
async def test_signing_in_with_github_in_the_browser(
    site: Site, store: Store, browser: Any
) -> None:
    """
    End to end in headless Chromium: the sign-in page's GitHub button goes
    to the host, which sends the browser back; the player lands on their
    new profile, with GitHub linked.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    stub = site.stubs["github"]
    stub.browser = stub.add_user(account("github"))

    def drive() -> tuple[str, list[str]]:
        browser.delete_all_cookies()
        browser.get(site.url + "/login")
        browser.find_element(By.LINK_TEXT, "Sign in with GitHub").click()
        WebDriverWait(browser, 10).until(
            lambda d: d.current_url.endswith("/profile?saved=welcome")
        )
        linked = browser.find_elements(By.CSS_SELECTOR, "ul.linked-hosts li")
        return str(browser.page_source), [str(e.text) for e in linked]

    page, linked = await deferToThread(drive)
    assert "Welcome!" in page
    assert linked == ["GitHub: Octo-Cat"]
    assert "octo@work.example" in await store.emails("octo-cat")
    await deferToThread(browser.delete_all_cookies)

"""
The web site in headless Chromium: a player signs up, adds an e-mail,
confirms it through the link mailed to it, pushes with it and finds their
points on the board and their page; moves and finds the location board
following; a commit message with HTML shows as text; signs out everywhere
else, then out, and copies of the sessions' cookies are dead.
Screenshots of the home page and a player's page at phone and desktop widths
go to test-results/ (a CI artifact).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor, task
from twisted.internet.task import Clock
from twisted.internet.threads import deferToThread

from julytwisted.store import Store
from tests.builders import PNG, github_payload
from tests.conftest import MailSite
from tests.mailboxes import link_in
from tests.pages.test_accounts import Visitor

RESULTS = Path(__file__).resolve().parents[2] / "test-results"

#: Window sizes of the screenshots: a phone and a desktop.
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


def fill(
    driver: Any, url: str, fields: dict[str, str], button: str, lands: str
) -> None:
    """
    Open C{url}, type into the named fields, press the button labelled so,
    and wait for the page the form leads to (its URL ends with C{lands}).
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def box(name: str) -> Any:
        """The field a person types in: not a hidden one of the same name."""
        return driver.find_element(
            By.CSS_SELECTOR, f"[name='{name}']:not([type='hidden'])"
        )

    driver.get(url)
    for name, value in fields.items():
        box(name).clear()
        box(name).send_keys(value)
    form = box(next(iter(fields))).find_element(By.XPATH, "./ancestor::form")
    form.find_element(By.XPATH, f".//button[normalize-space()='{button}']").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(lands))


def text_of(driver: Any, url: str, css: str) -> list[str]:
    """The text of every element matching C{css} on the page at C{url}."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    return [str(e.text) for e in driver.find_elements(By.CSS_SELECTOR, css)]


def screenshots(driver: Any, server: str, pages: dict[str, str]) -> list[Path]:
    """
    Save each page at each width, as it is now: the browser may not reuse
    what it kept of an earlier visit (pages carry a short max-age).  Restore
    the desktop size after.
    """
    RESULTS.mkdir(exist_ok=True)
    saved = []
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    try:
        for size, (width, height) in SIZES.items():
            driver.set_window_size(width, height)
            for name, path in pages.items():
                driver.get(server + path)
                target = RESULTS / f"site-{name}-{size}.png"
                driver.save_screenshot(str(target))
                saved.append(target)
    finally:
        driver.set_window_size(*SIZES["desktop"])
    return saved


async def post_push(server: str, email: str, message: str, seed: str) -> None:
    answer = await treq.post(
        server + "/api/v1/github",
        data=json.dumps(github_payload(seed, email=email, message=message)).encode(),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert answer.code == 201, await answer.content()
    await answer.content()


def confirm(driver: Any, link: str) -> str:
    """Open a mailed link, press its Confirm button: the heading after."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(link)
    driver.find_element(By.XPATH, "//main//button[normalize-space()='Confirm']").click()
    # The title, not the heading: an element read while the next page loads
    # may go stale under the reader.
    WebDriverWait(driver, 10).until(
        lambda d: not d.title.startswith("Confirm an e-mail")
    )
    return str(driver.find_element(By.TAG_NAME, "h1").text)


async def until(condition: Any) -> None:
    for _ in range(200):
        if await condition():
            return
        await task.deferLater(reactor, 0.05)
    raise AssertionError("the condition never held")


@pytest_twisted.ensureDeferred
async def test_a_player_in_the_browser(
    mail_server: MailSite, browser: Any, store: Store, clock: Clock, tmp_path: Path
) -> None:
    """
    Sign up, add an e-mail and confirm it through the mailed link, push,
    move, upload a picture: the pages follow each step.
    """
    server = mail_server.url
    await deferToThread(browser.delete_all_cookies)
    await deferToThread(
        fill,
        browser,
        server + "/signup",
        {"username": "ada", "password": "correct horse", "email": "ada@example.com"},
        "Sign up",
        "/profile?saved=welcome",
    )
    assert "Welcome!" in (await deferToThread(lambda: browser.page_source))
    await deferToThread(
        fill,
        browser,
        server + "/profile",
        {"email": "ada@work.example"},
        "Add",
        "saved=email",
    )
    assert await store.emails("ada") == ["ada@example.com", "ada@work.example"]
    link = link_in(await mail_server.smtp.wait_for("ada@work.example"))
    assert await deferToThread(confirm, browser, link) == "E-mail confirmed"
    assert await store.pending_emails("ada") == ["ada@example.com"]

    await post_push(server, "ada@work.example", "<b>not bold</b> & <i>", "s1")
    board = await deferToThread(
        text_of, browser, server + "/people/", "table.board tbody tr"
    )
    assert board == ["1 ada 11 1 1"]
    figures = await deferToThread(
        text_of, browser, server + "/people/ada", ".figures dd"
    )
    assert figures == ["1", "11", "1", "1"]
    messages = await deferToThread(
        text_of, browser, server + "/people/ada", ".commits .message"
    )
    assert messages == ["<b>not bold</b> & <i>"]

    await deferToThread(
        fill,
        browser,
        server + "/profile",
        {"location": "Lyon"},
        "Save",
        "saved=location",
    )

    async def moved() -> bool:
        try:
            return bool((await store.detail("locations", "lyon")).points == 11)
        except LookupError:
            return False

    await until(moved)
    clock.advance(6)  # past the five seconds a board read is kept
    locations = await deferToThread(
        text_of, browser, server + "/locations/", "table.board tbody tr"
    )
    assert locations == ["1 Lyon 11 1"]

    picture = tmp_path / "me.png"
    picture.write_bytes(PNG)

    def upload_picture() -> str:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        browser.get(server + "/profile")
        browser.find_element(By.ID, "f-picture").send_keys(str(picture))
        form = browser.find_element(By.ID, "f-picture").find_element(
            By.XPATH, "./ancestor::form"
        )
        form.find_element(By.XPATH, ".//button[normalize-space()='Upload']").click()
        WebDriverWait(browser, 10).until(lambda d: "saved=picture" in d.current_url)
        shown = browser.find_element(By.CSS_SELECTOR, "img.avatar")
        return str(shown.get_attribute("src"))

    src = await deferToThread(upload_picture)
    stored = (await store.player("ada")).picture_url
    assert stored and src.endswith(stored)

    saved = await deferToThread(
        screenshots, browser, server, {"home": "/", "player": "/people/ada"}
    )
    assert all(p.stat().st_size > 1000 for p in saved)


def press(driver: Any, url: str, button: str, lands: str) -> str:
    """
    Open C{url}, press the button labelled so, and wait for the page it
    leads to (its URL ends with C{lands}); return that page's text.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    driver.find_element(By.XPATH, f"//button[normalize-space()='{button}']").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(lands))
    return str(driver.find_element(By.TAG_NAME, "body").text)


@pytest_twisted.ensureDeferred
async def test_signing_out_in_the_browser(server: str, browser: Any) -> None:
    """
    Signed in on Chromium and another client, the player signs out
    everywhere else from the profile: the other client is anonymous, the
    browser stays in.  Then the browser signs out, and a copy of its cookie
    replayed after that is anonymous too.
    """
    from tests.pages.test_sessions import is_signed_in, signed_in

    await deferToThread(browser.delete_all_cookies)
    await deferToThread(
        fill,
        browser,
        server + "/signup",
        {"username": "ada", "password": "correct horse", "email": "ada@example.com"},
        "Sign up",
        "/profile?saved=welcome",
    )
    other = await signed_in(server)
    copy = Visitor(server)
    cookie = await deferToThread(browser.get_cookie, "jt_session")
    copy.cookies["jt_session"] = cookie["value"]
    assert await is_signed_in(copy)
    text = await deferToThread(
        press, browser, server + "/profile", "Sign out everywhere else", "=sessions"
    )
    assert "You are signed out everywhere else." in text
    assert "You are signed in on this browser only." in text
    assert not await is_signed_in(other)
    assert await is_signed_in(copy)
    text = await deferToThread(press, browser, server + "/profile", "Sign out", "/")
    assert "Sign in" in text
    assert not await is_signed_in(copy)

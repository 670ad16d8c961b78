"""
The live page at /live/ in headless Chromium: it connects, shows a commit
posted over HTTP as it arrives, and shows markup in a message as text.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.builders import github_payload
from tests.live_clients import settle
from tests.web.test_web import add_ada, post_github

XSS = "<img src=x onerror=\"document.title='pwned'\">"


def open_page(driver: Any, url: str) -> None:
    """Open the page and wait until it says it is connected."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    state = driver.find_element(By.ID, "state")
    WebDriverWait(driver, 10).until(lambda _: state.text == "open")


def commit_texts(driver: Any, count: int) -> list[str]:
    """Wait for C{count} commits on the page; return their messages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#feed li.commit")) >= count
    )
    items = driver.find_elements(By.CSS_SELECTOR, "#feed li.commit .message")
    return [str(item.text) for item in items]


def markup_in_page(driver: Any) -> tuple[int, str]:
    """@return: how many img elements the feed holds, and the title."""
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR, "#feed img")), driver.title


@pytest_twisted.ensureDeferred
async def test_page_shows_pushes_as_text(live_server: Any, browser: Any) -> None:
    """A push appears on the open page; its markup shows as text, not HTML."""
    server, bridge = live_server
    watchers = bridge.watchers
    await deferToThread(open_page, browser, server + "/live/")
    while bridge.watchers <= watchers:
        await settle(0.02)
    code, _, _ = await post_github(
        server, github_payload("page", email="x@y.org", message=XSS)
    )
    assert code == 201
    texts = await deferToThread(commit_texts, browser, 1)
    assert texts[0] == XSS
    images, title = await deferToThread(markup_in_page, browser)
    assert images == 0 and title != "pwned"


@pytest_twisted.ensureDeferred
async def test_page_reconnects_and_catches_up(live_server: Any, browser: Any) -> None:
    """
    The page's connection is cut and a commit posted while it is away: the
    page reconnects with since and shows that commit, once.
    """
    server, bridge = live_server
    await deferToThread(open_page, browser, server + "/live/")
    while not bridge.watchers:
        await settle(0.02)
    code, _, _ = await post_github(server, github_payload("seen", email="x@y.org"))
    assert code == 201
    assert await deferToThread(commit_texts, browser, 1) == ["commit seen"]
    for watcher in list(bridge._watchers):
        watcher.dropConnection(abort=True)
    while bridge.watchers:
        await settle(0.01)
    code, _, _ = await post_github(server, github_payload("missed", email="x@y.org"))
    assert code == 201
    texts = await deferToThread(commit_texts, browser, 2)
    assert texts == ["commit missed", "commit seen"]


@pytest_twisted.ensureDeferred
async def test_home_page_panel_goes_live(live_server: Any, browser: Any) -> None:
    """
    The home page's latest-commits panel connects to the feed: a commit
    shown with the page is not shown twice, and a new push appears in it,
    its markup as text.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server, bridge = live_server
    code, _, _ = await post_github(server, github_payload("old", email="x@y.org"))
    assert code == 201

    def open_home() -> None:
        browser.get(server + "/")
        panel = browser.find_element(By.ID, "live-feed")
        WebDriverWait(browser, 10).until(
            lambda _: panel.get_attribute("data-state") == "open"
        )

    def messages(count: int) -> list[str]:
        css = "#live-feed ol.commits > li .message"
        WebDriverWait(browser, 10).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, css)) >= count
        )
        return [str(e.text) for e in browser.find_elements(By.CSS_SELECTOR, css)]

    watchers = bridge.watchers
    await deferToThread(open_home)
    while bridge.watchers <= watchers:
        await settle(0.02)
    assert await deferToThread(messages, 1) == ["commit old"]
    code, _, _ = await post_github(
        server, github_payload("new", email="x@y.org", message=XSS)
    )
    assert code == 201
    assert await deferToThread(messages, 2) == [XSS, "commit old"]
    images = await deferToThread(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#live-feed img")
    )
    assert images == [] and browser.title != "pwned"


@pytest_twisted.ensureDeferred
async def test_entries_link_player_project_and_commit(
    live_server: Any, browser: Any
) -> None:
    """
    An entry on the live page is a commit as the pages show one: its
    player's page, its project's page, its time, the commit itself and
    its page here.
    """
    from selenium.webdriver.common.by import By

    server, bridge = live_server
    await add_ada(server)
    watchers = bridge.watchers
    await deferToThread(open_page, browser, server + "/live/")
    while bridge.watchers <= watchers:
        await settle(0.02)
    payload = github_payload("linked")
    code, _, _ = await post_github(server, payload)
    assert code == 201
    assert await deferToThread(commit_texts, browser, 1) == ["commit linked"]

    def meta() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        entry = browser.find_element(By.CSS_SELECTOR, "#feed li.commit .meta")
        links = [
            (str(a.text), str(a.get_attribute("href")))
            for a in entry.find_elements(By.TAG_NAME, "a")
        ]
        times = [
            (str(t.text), str(t.get_attribute("datetime")))
            for t in entry.find_elements(By.TAG_NAME, "time")
        ]
        return links, times

    links, times = await deferToThread(meta)
    commit = payload["commits"][0]
    assert links == [
        ("ada", server + "/people/ada"),
        ("engine", server + "/projects/gh-ada-engine"),
        (commit["id"][:8], commit["url"]),
        ("details", server + "/commits/" + commit["id"]),
    ]
    (shown, instant) = times[0]
    assert shown.endswith(" UTC") and shown.startswith(instant[8:10])

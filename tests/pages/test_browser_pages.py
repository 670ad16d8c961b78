"""
The public pages in headless Chromium: the home page's live list stays
newest first after the live feed's replay, and draws a live entry as the
page draws one; axe-core (its default rules) finds no violation on any
kind of page, each of which html5lib also parses without an error
(L{tests.htmlcheck}); and a time zone typed into the profile moves the
calendar's days.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet.threads import deferToThread

from julytwisted.game.games import Game
from julytwisted.store import Store
from tests.builders import commit, ingest, project, push, sha
from tests.htmlcheck import check_page
from tests.pages.axe import NoNpm, install
from tests.pages.test_browser_site import fill

#: How a page's commit list reads in the browser: each entry's hash, class,
#: element names, text and links.
ENTRIES = """
return Array.from(document.querySelectorAll(arguments[0] + " ol.commits > li"))
  .map(function (li) {
    return {
      hash: li.getAttribute("data-hash"),
      cls: li.className,
      tags: Array.from(li.querySelectorAll("*")).map(function (e) {
        return e.tagName;
      }).join(" "),
      text: li.innerText,
      links: Array.from(li.querySelectorAll("a")).map(function (a) {
        return a.getAttribute("href");
      }),
    };
  });
"""


def wait_for(driver: Any, script: str, *args: Any) -> None:
    """Wait until C{script} returns something true in the page."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.execute_script(script, *args))


def open_home(driver: Any, url: str) -> None:
    """Open the home page and wait for its live list to be connected."""
    driver.get(url)
    wait_for(
        driver,
        'return document.getElementById("live-feed")'
        '.getAttribute("data-state") === "open";',
    )


async def seed(store: Store) -> list[str]:
    """
    Ada in Lyon and Snakes; twelve commits of 2012 pushed first, then ten of
    this July, and a commit by Grace Hopper, who plays not, to a project
    named "Analytical Engine".

    @return: the hashes of the last eleven, newest arrival first.
    """
    await store.create_player(
        "ada", "Ada", ["ada@example.com"], "Lyon", "Snakes", approve_team=True
    )
    old = [
        commit(f"old{i}", when=datetime(2012, 7, i + 1, 9, tzinfo=UTC))
        for i in range(12)
    ]
    await ingest(store, push(*old, proj=project("ada", "retro")))
    new = [commit(f"new{i}", message=f"today {i}") for i in range(10)]
    await ingest(store, push(*new))
    grace = attrs.evolve(
        commit("grace", email="grace@example.com"), author_name="Grace Hopper"
    )
    named = attrs.evolve(project("ada", "engine2"), name="Analytical Engine")
    await ingest(store, push(grace, proj=named))
    return [sha("grace"), *(sha(f"new{i}") for i in reversed(range(10)))]


@pytest_twisted.ensureDeferred
async def test_the_replay_keeps_the_newest_first(
    live_server: tuple[str, Any], browser: Any, store: Store
) -> None:
    """
    The home page lists the latest ten arrivals and connects from the newest
    feed entry it read: the replay adds none of the older commits (2012's)
    above them, and a commit pushed after the page loaded goes on top.
    """
    server, _ = live_server
    shown = await seed(store)
    await deferToThread(browser.delete_all_cookies)
    await deferToThread(open_home, browser, server + "/")
    # What the replay would bring comes right after the connection opens.
    await deferToThread(browser.execute_async_script, "setTimeout(arguments[0], 500);")
    await ingest(store, push(commit("fresh", message="fresh work")))
    await deferToThread(
        wait_for,
        browser,
        'var li = document.querySelector("#live-feed ol.commits > li");'
        "return li && li.getAttribute('data-hash') === arguments[0];",
        sha("fresh"),
    )
    listed = await deferToThread(browser.execute_script, ENTRIES, "#live-feed")
    assert [e["hash"] for e in listed] == [sha("fresh"), *shown[:10]]


@pytest_twisted.ensureDeferred
async def test_live_entries_read_as_rendered_ones(
    live_server: tuple[str, Any], browser: Any, store: Store
) -> None:
    """
    Each commit the home page rendered reads the same when the live page's
    script draws it from the feed: the same elements, text (the author's
    name for Grace, the project's name, the time) and links.
    """
    server, _ = live_server
    await seed(store)
    await deferToThread(open_home, browser, server + "/")
    rendered = await deferToThread(browser.execute_script, ENTRIES, "#live-feed")
    await deferToThread(browser.get, server + "/live/")
    await deferToThread(
        wait_for, browser, "return document.querySelectorAll('#feed > li').length > 20;"
    )
    drawn = {
        e["hash"]: e for e in await deferToThread(browser.execute_script, ENTRIES, "")
    }
    assert len(rendered) == 10
    for entry in rendered:
        assert drawn[entry["hash"]] == entry
    grace = drawn[sha("grace")]
    assert (
        grace["text"]
        .split("\n")[-1]
        .startswith("Grace Hopper in Analytical Engine · 10 Jul 2026 09:30 UTC")
    )


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's script, installed with npm once."""
    try:
        return install().read_text("utf-8")
    except NoNpm as e:
        if os.environ.get("JULYTHON_REQUIRE_BROWSER"):
            pytest.fail(str(e))
        pytest.skip(str(e))
    except RuntimeError as e:
        pytest.fail(str(e))


def violations(driver: Any, url: str, axe: str, settle: str | None = None) -> list[str]:
    """
    Open C{url}, wait for C{settle} to hold if given, and run axe's default
    rules on the page as it is then.

    @return: each violation as its rule and the elements that break it.
    """
    driver.get(url)
    if settle is not None:
        wait_for(driver, settle)
    driver.execute_script(axe)
    found: list[str] = driver.execute_async_script(
        """
        var done = arguments[arguments.length - 1];
        axe.run(document).then(function (result) {
          done(result.violations.map(function (v) {
            return v.id + ": " + v.nodes.map(function (n) {
              return n.target.join(" ");
            }).join(", ");
          }));
        }, function (error) { done(["axe failed: " + error]); });
        """
    )
    return found


#: A page of each kind anybody may see, and what to wait for on it.
PUBLIC = {
    "/": "return document.querySelectorAll('#live-feed li').length > 0;",
    "/people/": None,
    "/projects/": None,
    "/locations/": None,
    "/teams/": None,
    "/languages/": None,
    "/people/ada": None,
    "/people/nobody-yet": None,
    "/projects/gh-ada-engine": None,
    "/locations/lyon": None,
    "/teams/snakes": None,
    "/help/": None,
    "/games/julython-2026": None,
    "/games/meetup-sprint": None,
    "/live/": "return document.querySelectorAll('#feed li').length > 0;",
    "/json/browse/": None,
    "/signup": None,
    "/login": None,
    "/no/such/page": None,
}

#: Pages of a signed-in player.
SIGNED_IN = ("/profile", "/projects/add", "/upload/")


@pytest_twisted.ensureDeferred
async def test_axe_finds_nothing_on_any_page(
    live_server: tuple[str, Any], browser: Any, store: Store, axe: str
) -> None:
    """
    axe-core's default rules pass on every kind of page, anonymous and
    signed in, the live lists filled by their script; html5lib parses each
    public page without an error.
    """
    server, _ = live_server
    await seed(store)
    await store.create_player("nobody-yet", "Nobody Yet", ["n@example.com"])
    sprint = Game("Meetup Sprint", store.now(), store.now() + timedelta(days=2))
    await store.games.create(sprint, "admin")
    await store.games.update("meetup-sprint", "admin", first_bonus=5)
    await deferToThread(browser.set_script_timeout, 30)
    await deferToThread(browser.delete_all_cookies)
    found = {}
    for path, settle in PUBLIC.items():
        answer = await treq.get(server + path)
        check_page(await answer.content())
        found[path] = await deferToThread(
            violations, browser, server + path, axe, settle
        )
    await deferToThread(
        fill,
        browser,
        server + "/signup",
        {"username": "bea", "password": "correct horse", "email": "bea@example.com"},
        "Sign up",
        "/profile?saved=welcome",
    )
    # A private board of ada's that bea joins through its form, and one of
    # bea's own with ada on it: each seen as a member and as its owner.
    theirs = await store.private_boards.create("ada", "Ada's sprint", store.game())
    await deferToThread(
        fill,
        browser,
        server + "/boards/",
        {"code": theirs.code},
        "Join",
        f"/boards/{theirs.id}",
    )
    own = await store.private_boards.create("bea", "Bea's sprint", store.game())
    await store.private_boards.join("ada", own.code, store.now())
    boards = ("/boards/", f"/boards/{theirs.id}", f"/boards/{own.id}")
    for path in (*SIGNED_IN, *boards):
        found[path] = await deferToThread(violations, browser, server + path, axe)
    await deferToThread(browser.delete_all_cookies)
    assert {path: v for path, v in found.items() if v} == {}


def busy_days(driver: Any, url: str) -> list[str]:
    """The days the calendar at C{url} shows commits on, as their labels read."""
    driver.get(url)
    found: list[str] = driver.execute_script(
        """
        return Array.from(document.querySelectorAll(".heatmap li.day"))
          .filter(function (li) { return !li.classList.contains("level-0"); })
          .map(function (li) { return li.getAttribute("title"); });
        """
    )
    return found


@pytest_twisted.ensureDeferred
async def test_a_time_zone_chosen_in_the_browser(
    live_server: tuple[str, Any], browser: Any, store: Store, axe: str
) -> None:
    """
    Bea, who committed at 23:30 UTC on Friday 10 July, types Asia/Tokyo
    into her profile's time zone box: her calendar then shows the commit on
    Saturday 11 July, her morning there; axe finds nothing on either page.
    """
    server, _ = live_server
    await deferToThread(browser.set_script_timeout, 30)
    await deferToThread(browser.delete_all_cookies)
    await deferToThread(
        fill,
        browser,
        server + "/signup",
        {"username": "bea", "password": "correct horse", "email": "bea@example.com"},
        "Sign up",
        "/profile?saved=welcome",
    )
    await store.add_email("bea", "bea@example.com")
    late = datetime(2026, 7, 10, 23, 30, tzinfo=UTC)
    await ingest(store, push(commit("late", email="bea@example.com", when=late)))
    page = server + "/people/bea?game=julython-2026"
    assert await deferToThread(busy_days, browser, page) == [
        "Fri 10 Jul 2026: 1 commit"
    ]
    await deferToThread(
        fill,
        browser,
        server + "/profile",
        {"time_zone": "Asia/Tokyo"},
        "Save",
        "/profile?saved=time-zone",
    )
    found = {
        "/profile": await deferToThread(violations, browser, server + "/profile", axe),
        page: await deferToThread(violations, browser, page, axe),
    }
    after = await deferToThread(busy_days, browser, page)
    await deferToThread(browser.delete_all_cookies)
    assert after == ["Sat 11 Jul 2026: 1 commit"]
    assert found == {"/profile": [], page: []}

"""
A private board in headless Chromium, two players at once: ada makes a
board with a cap and reads its join code on its page; bob, in a browser of
his own, joins with the code through the form; bob's push shows live on
ada's open page, as text, and the ranking refreshes to put him first; ada
removes him, and his browser then gets neither the page nor the board's
channel; ada rotates the code, and the old one, typed again, is refused
with a clear error and kept in the box.
"""

from __future__ import annotations

import re
from typing import Any

import pytest_twisted
from twisted.internet.threads import deferToThread

from julytwisted.store import Store
from tests.builders import github_payload
from tests.live_clients import settle
from tests.pages.test_browser_pages import wait_for
from tests.pages.test_browser_site import fill
from tests.web.test_web import post_github

#: A commit message with markup, which must show as text.
MARKUP = '<b id="bold">fast</b> & <img src=x onerror="document.title=1">'

#: The ranking as the page shows it: each row's cells' text.
ROWS = """
return Array.from(document.querySelectorAll("#standings tbody tr"))
  .map(function (tr) {
    return Array.from(tr.cells).slice(0, 3).map(function (td) {
      return td.innerText.trim();
    });
  });
"""

#: Opens the board's channel from the page, as any script could: what the
#: socket got before it closed, and whether it opened.
WATCH = """
var done = arguments[arguments.length - 1];
var got = [], opened = false;
var ws = new WebSocket("ws://" + location.host + "/live?channels=" + arguments[0]);
ws.onopen = function () { opened = true; };
ws.onmessage = function (e) { got.push(e.data); };
ws.onclose = function () { done({opened: opened, got: got}); };
setTimeout(function () { ws.close(); }, 3000);
"""


def sign_up(driver: Any, server: str, username: str) -> None:
    driver.delete_all_cookies()
    fill(
        driver,
        server + "/signup",
        {
            "username": username,
            "password": "correct horse",
            "email": f"{username}@example.com",
        },
        "Sign up",
        "/profile?saved=welcome",
    )


def press(driver: Any, label: str, lands: str) -> str:
    """
    Press the button labelled so on the open page; wait for the answer
    (its URL ends with C{lands}); return its notice.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")
    button.click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(lands))
    return str(driver.find_element(By.CSS_SELECTOR, "main p.notice").text)


def make_board(driver: Any, server: str) -> tuple[str, str, str]:
    """
    Make a board of two through the form.

    @return: its id, its join code as the page shows it, and its facts.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(server + "/boards/")
    driver.find_element(By.NAME, "name").send_keys("Ada's sprint")
    driver.find_element(By.NAME, "cap").send_keys("2")
    driver.find_element(
        By.XPATH, "//button[normalize-space()='Make the board']"
    ).click()
    WebDriverWait(driver, 10).until(
        lambda d: re.search(r"/boards/[a-z2-7]{10}$", d.current_url)
    )
    board_id = str(driver.current_url).rsplit("/", 1)[1]
    code = driver.find_element(By.CSS_SELECTOR, "dl.board-secrets code.secret")
    facts = driver.find_element(By.ID, "board-facts")
    return board_id, str(code.text), str(facts.text)


def connected(driver: Any) -> None:
    """Wait for the open page's live list to be connected."""
    wait_for(
        driver,
        'var s = document.getElementById("live-feed");'
        'return s && s.getAttribute("data-state") === "open";',
    )


def joined(driver: Any, server: str, code: str) -> tuple[str, str, str]:
    """
    Type a join code into the form and press Join.

    @return: where that led, its notice (if any), and what the box holds.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(server + "/boards/")
    box = driver.find_element(By.NAME, "code")
    box.send_keys(code)
    box.find_element(By.XPATH, "./ancestor::form//button").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url[-8:] != "/boards/")
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    notices = driver.find_elements(By.CSS_SELECTOR, "main p.notice")
    kept = driver.find_elements(By.NAME, "code")
    return (
        str(driver.current_url),
        str(notices[0].text) if notices else "",
        str(kept[0].get_attribute("value")) if kept else "",
    )


def latest(driver: Any, count: int) -> list[str]:
    """Wait for C{count} commits in the live list; return their messages."""
    css = "#live-feed ol.commits > li .message"
    wait_for(driver, f"return document.querySelectorAll({css!r}).length >= {count};")
    return [
        str(e)
        for e in driver.execute_script(
            f"return Array.from(document.querySelectorAll({css!r}))"
            ".map(function (e) { return e.textContent; });"
        )
    ]


def ranking_once(driver: Any, first: str) -> list[list[str]]:
    """Wait for C{first} to top the ranking; return the rows."""
    wait_for(
        driver,
        'var td = document.querySelector("#standings tbody tr td:nth-child(2)");'
        "return td && td.innerText.trim() === arguments[0];",
        first,
    )
    rows: list[list[str]] = driver.execute_script(ROWS)
    return rows


@pytest_twisted.ensureDeferred
async def test_a_board_of_two_players(
    live_server: tuple[str, Any], browser: Any, other_browser: Any, store: Store
) -> None:
    """The whole life of a board, seen in two browsers (the module's story)."""
    server, bridge = live_server
    ada, bob = browser, other_browser
    await deferToThread(sign_up, ada, server, "ada")
    board_id, code, facts = await deferToThread(make_board, ada, server)
    board = await store.private_boards.board(board_id)
    assert code == board.code and board.cap == 2
    assert "1 of at most 2 members" in facts
    page = f"/boards/{board_id}"

    await deferToThread(sign_up, bob, server, "bob")
    await store.add_email("bob", "bob@example.com")
    where, notice, _ = await deferToThread(joined, bob, server, code)
    assert where == server + page and notice == ""
    # Ada's page, open since she made the board, and Bob's, watch it.
    await deferToThread(connected, ada)
    while bridge.watchers < 2:
        await settle(0.02)

    payload = github_payload(
        "bob1", email="bob@example.com", owner="bob", message=MARKUP
    )
    answer, _, _ = await post_github(server, payload)
    assert answer == 201
    assert await deferToThread(latest, ada, 1) == [MARKUP]
    rows = await deferToThread(ranking_once, ada, "bob")
    assert rows == [["1", "bob", "11"], ["2", "ada", "0"]]
    injected = await deferToThread(
        ada.execute_script,
        'return [document.querySelectorAll("#live-feed b, #live-feed img").length,'
        " document.title];",
    )
    assert injected[0] == 0 and injected[1] != "1"
    facts = await deferToThread(
        lambda: ada.execute_script(
            'return document.getElementById("board-facts").innerText;'
        )
    )
    assert "2 of at most 2 members" in facts

    said = await deferToThread(press, ada, "Remove bob", f"{page}/remove")
    assert said == "bob is off the board."
    assert await deferToThread(ada.execute_script, ROWS) == [["1", "ada", "0"]]
    # Bob's page, open all along, gets nothing of the board from now on.
    await store.add_email("ada", "ada@example.com")
    answer, _, _ = await post_github(server, github_payload("ada1", message="plan"))
    assert answer == 201
    assert await deferToThread(latest, ada, 2) == ["plan", MARKUP]
    await settle(0.5)
    assert await deferToThread(latest, bob, 1) == [MARKUP]
    title = await deferToThread(lambda: (bob.get(server + page), bob.title)[1])
    assert "Ada's sprint" not in title
    assert await deferToThread(bob.find_elements, "id", "live-feed") == []
    await deferToThread(bob.set_script_timeout, 10)
    watched = await deferToThread(bob.execute_async_script, WATCH, f"board:{board_id}")
    assert watched == {"opened": False, "got": []}

    said = await deferToThread(press, ada, "New join code", f"{page}/rotate_code")
    assert said.startswith("The board has a new join code")
    shown = await deferToThread(
        lambda: str(
            ada.find_element("css selector", "dl.board-secrets code.secret").text
        )
    )
    assert shown != code and shown == (await store.private_boards.board(board_id)).code
    where, notice, kept = await deferToThread(joined, bob, server, code)
    assert where == server + "/boards/join"
    assert notice and kept == code
    assert await store.private_boards.boards_of("bob") == []

"""
The JSON-RPC service browser at /json/browse/ in headless Chromium: a method
called through its form, the result read from the page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest_twisted
import treq
from twisted.internet.threads import deferToThread


def call_through_the_form(driver: Any, url: str, method: str, params: object) -> str:
    """Open the page, call C{method} with C{params}; return the response text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    form = driver.find_element(By.CSS_SELECTOR, f'form.call[data-method="{method}"]')
    textarea = form.find_element(By.NAME, "params")
    textarea.clear()
    textarea.send_keys(json.dumps(params))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    section = form.find_element(By.XPATH, "..")
    response = section.find_element(By.CSS_SELECTOR, ".response")
    WebDriverWait(driver, 10).until(
        lambda _: response.get_attribute("data-state") == "done"
    )
    return str(response.text)


@pytest_twisted.ensureDeferred
async def test_browser_calls_a_method(server: str, browser: Any) -> None:
    """The page's form for julython.player calls it and shows the player."""
    signup = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "julython.signup",
        "params": ["ada", "correct horse", "ada@example.com"],
    }
    response = await treq.post(
        server + "/json/",
        data=json.dumps(signup).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.code == 200
    await response.content()
    text = await deferToThread(
        call_through_the_form,
        browser,
        server + "/json/browse/",
        "julython.player",
        {"username": "ada"},
    )
    assert text.startswith("HTTP 200")
    answer = json.loads(text.split("\n\n", 1)[1])
    assert answer["result"]["username"] == "ada"

"""
The upload form at /upload/ in headless Chromium: the API token typed in, a
PNG chosen as an avatar, sent with progress, the answer read from the page.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.threads import deferToThread

from julytwisted.store import Store
from tests.builders import PNG


def upload_through_the_form(
    driver: Any, url: str, token: str, path: Path, kind: str
) -> str:
    """Open the form, fill it in, send it; return the result shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(url)
    driver.find_element(By.ID, "token").send_keys(token)
    Select(driver.find_element(By.NAME, "kind")).select_by_value(kind)
    driver.find_element(By.NAME, "file").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    result = driver.find_element(By.ID, "result")
    WebDriverWait(driver, 15).until(
        lambda _: result.get_attribute("data-state") == "done"
    )
    return str(result.text)


@pytest_twisted.ensureDeferred
async def test_avatar_through_the_form(
    server: str, store: Store, browser: Any, tmp_path: Path
) -> None:
    """
    A PNG sent as an avatar through the page: HTTP 201 shown with its digest,
    and the player's picture_url now points at it.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    token = await store.create_token("ada")
    picture = tmp_path / "me.png"
    picture.write_bytes(PNG)
    text = await deferToThread(
        upload_through_the_form, browser, server + "/upload/", token, picture, "avatar"
    )
    assert text.startswith("HTTP 201"), text
    (answer,) = json.loads(text.split("\n\n", 1)[1])
    assert answer["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert answer["content_type"] == "image/png"
    player = await store.player("ada")
    assert player.picture_url == answer["url"]

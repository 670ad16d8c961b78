"""
The pages' lists of commits, over a real Site and Redis: a commit no player
owns shows its author's name, on the pages and in the live feed's entries;
projects show by name; and the home page names the feed entry its list
ends with, for the live script to go on from.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest_twisted
import treq
from twisted.internet.task import Clock

from julytwisted.store import Store
from tests.builders import commit, ingest, project, push
from tests.htmlcheck import check_page


async def page(url: str) -> Any:
    answer = await treq.get(url)
    body = await answer.content()
    assert answer.code == 200, body[:300]
    return check_page(body)


def entries(tree: Any) -> list[dict[str, Any]]:
    """Each commit of a page's lists: its hash, who, project and link texts."""
    found = []
    for item in tree.iterfind(".//ol[@class='commits']/li"):
        meta = item.find("p[@class='meta']")
        found.append(
            {
                "hash": item.get("data-hash"),
                "class": item.get("class"),
                "who": meta[0].text,
                "project": meta[1].text,
                "href": meta[1].get("href"),
            }
        )
    return found


async def seed(store: Store) -> None:
    """
    Ada, a player; a commit of hers and one by Grace Hopper, who plays not,
    to a project named "Analytical Engine" whose slug is gh-ada-engine.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    named = attrs.evolve(project("ada", "engine"), name="Analytical Engine")
    grace = attrs.evolve(
        commit("g", email="grace@example.com"), author_name="Grace Hopper"
    )
    await ingest(store, push(commit("a"), grace, proj=named))


@pytest_twisted.ensureDeferred
async def test_a_commit_nobody_plays_shows_its_author(
    server: str, store: Store
) -> None:
    """
    Grace's commit shows "Grace Hopper" on the home page and the project's
    page, never "someone"; Ada's links to her page.  Her entry in the live
    feed carries her name for the live script to show.
    """
    await seed(store)
    for path in ("/", "/projects/gh-ada-engine"):
        shown = {e["hash"][:4]: e["who"] for e in entries(await page(server + path))}
        assert sorted(shown.values()) == ["Grace Hopper", "ada"], path
    feed = [json.loads(e.data) for e in await store.feed_tail(["global"], 10)]
    authors = {c["username"] or c["author"] for c in feed if "hash" in c}
    assert authors == {"ada", "Grace Hopper"}


@pytest_twisted.ensureDeferred
async def test_commit_lists_name_their_projects(server: str, store: Store) -> None:
    """
    Every list of commits (home, player, project) shows the project's name,
    linking to its page by slug; each entry is drawn as the live script
    draws one (an C{li.commit} carrying its hash).
    """
    await seed(store)
    for path in ("/", "/people/ada", "/projects/gh-ada-engine"):
        listed = entries(await page(server + path))
        assert listed, path
        for entry in listed:
            assert entry["project"] == "Analytical Engine", (path, entry)
            assert entry["href"] == "/projects/gh-ada-engine"
            assert entry["class"] == "commit"


@pytest_twisted.ensureDeferred
async def test_home_names_the_feed_entry_its_list_ends_with(
    server: str, store: Store, clock: Clock
) -> None:
    """
    The latest commits' section names the newest feed entry read with them
    (C{data-since}), so that the live script replays only what came after;
    with nothing in the feed it names none and the script replays the tail.
    """
    tree = await page(server + "/")
    assert tree.find(".//section[@id='live-feed']").get("data-since") is None
    await seed(store)
    newest = (await store.feed_tail(["global"], 1))[-1].id
    clock.advance(6)  # past the seconds the page and its reads are kept
    tree = await page(server + "/")
    assert tree.find(".//section[@id='live-feed']").get("data-since") == newest

"""
The public pages over a real Site and Redis: each answers valid HTML, for an
empty game and one with players; user text stays text; boards page and
follow ?game=; answers carry ETags and short max-ages.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet.task import Clock

from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.htmlcheck import check_page

BOARDS = ("people", "projects", "locations", "teams", "languages")

#: Every page with no name in its path.
PAGES = (
    "/",
    *(f"/{kind}/" for kind in BOARDS),
    *(f"/{kind}/?game=julython-2025" for kind in BOARDS),
    "/people/?page=2",
    "/projects/?size=small",
    "/projects/?size=large&game=julython-2025&page=2",
    "/help/",
    "/signup",
    "/login",
    "/admin/",
)


async def get(url: str, **headers: str) -> tuple[int, Any, bytes]:
    answer = await treq.get(url, headers=headers, allow_redirects=False)
    return answer.code, answer.headers, await answer.content()


async def seed(store: Store) -> None:
    """Ada (Austin, team Snakes) with two commits; an orphan commit beside."""
    await store.create_player(
        "ada", "Ada <Lovelace>", ["ada@example.com"], "Austin, TX", "Snakes",
        approve_team=True,
    )  # fmt: skip
    await ingest(
        store,
        push(
            commit("a", message="<script>alert('x')</script> & more"),
            commit("b", files=("lib.rs",)),
            commit("c", email="nobody@example.com"),
        ),
    )


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("path", PAGES)
async def test_pages_of_an_empty_game(server: str, path: str) -> None:
    """With nothing stored, every page answers 200 with a valid page."""
    code, headers, body = await get(server + path)
    assert code == 200, body
    assert headers.getRawHeaders("Content-Type") == ["text/html; charset=utf-8"]
    check_page(body)


@pytest_twisted.ensureDeferred
async def test_pages_with_players(server: str, store: Store) -> None:
    """With a player, project, location and team, each page of them is valid."""
    await seed(store)
    for path in (
        *PAGES,
        "/people/ada",
        "/people/ADA",
        "/projects/gh-ada-engine",
        "/locations/austin-tx",
        "/teams/snakes",
    ):
        code, _, body = await get(server + path)
        assert code == 200, (path, body)
        check_page(body)


@pytest_twisted.ensureDeferred
async def test_home_shows_the_game_and_the_boards(server: str, store: Store) -> None:
    """The home page names the game, counts, lists leaders and recent commits."""
    await seed(store)
    _, _, body = await get(server + "/")
    tree: Any = check_page(body)
    text = "".join(tree.itertext())
    assert "Julython 2026" in text
    assert "Ends in" in text
    assert "3 commits and 1 player" in text
    assert "Ada <Lovelace>" in text
    live = tree.find(".//section[@id='live-feed']")
    assert live.get("data-channel") == "global"
    assert live.find(".//ol[@class='commits']") is not None
    assert tree.find(".//a[@href='/people/ada']") is not None


@pytest_twisted.ensureDeferred
async def test_user_text_is_escaped(server: str, store: Store) -> None:
    """A commit message and a name with HTML in them show as text, not markup."""
    await seed(store)
    for path in ("/", "/people/ada", "/projects/gh-ada-engine"):
        _, _, body = await get(server + path)
        assert b"<script>alert" not in body
        assert b"Lovelace>" not in body
        tree: Any = check_page(body)
        # Only the package's own scripts, by address: never inline ones.
        scripts = [s.get("src") for s in tree.iter("script")]
        allowed = ["/static/site.js", "/live/live.js"]
        assert scripts == (allowed if path == "/" else allowed[:1])
    assert b"&lt;script&gt;alert('x')&lt;/script&gt; &amp; more" in body


@pytest_twisted.ensureDeferred
async def test_player_page(server: str, store: Store) -> None:
    """A player's page: figures, groups, badges and a calendar of the month."""
    await seed(store)
    _, _, body = await get(server + "/people/ada")
    tree: Any = check_page(body)
    text = " ".join(tree.itertext())
    assert "Austin, TX" in text and "Snakes" in text
    groups = tree.iterfind(".//ul[@class='groups']/li")
    assert [(li.text, li.find("a").get("href")) for li in groups] == [
        ("Location: ", "/locations/austin-tx"),
        ("Team: ", "/teams/snakes"),
    ]
    earned = [li.text for li in tree.iterfind(".//ul[@class='badges']/li")
              if li.get("class") == "earned"]  # fmt: skip
    assert earned == ["1 commit"]
    days = tree.findall(".//ol[@class='heatmap']/li[@title]")
    assert len(days) == 31
    assert days[9].get("title") == "Fri 10 Jul 2026: 2 commits"
    assert "level-4" in days[9].get("class")


@pytest_twisted.ensureDeferred
async def test_unknown_members_and_paths_are_404_pages(server: str) -> None:
    """An unknown player, project, game or path is a 404 HTML page."""
    for path in (
        "/people/nobody",
        "/projects/nothing",
        "/teams/none",
        "/people/?game=no-such-game",
        "/nowhere",
    ):
        code, headers, body = await get(server + path)
        assert code == 404, path
        assert headers.getRawHeaders("Cache-Control") == ["no-store"]
        check_page(body)


@pytest_twisted.ensureDeferred
async def test_bad_page_number_is_400(server: str) -> None:
    """A page number that is not a whole number from 1 is a 400 page."""
    for page in ("0", "x", "-1"):
        code, _, body = await get(server + "/people/?page=" + page)
        assert code == 400
        assert b"page must be a whole number" in body


@pytest_twisted.ensureDeferred
async def test_boards_page_by_fifty(server: str, store: Store) -> None:
    """A board of 51 players has a next page holding the 51st."""
    pushes = []
    for i in range(51):
        await store.create_player(f"p{i:02}", f"P{i}", [f"p{i}@example.com"])
        pushes.append(commit(f"p{i}", email=f"p{i}@example.com"))
    await ingest(store, push(*pushes))
    _, _, first = await get(server + "/people/")
    tree: Any = check_page(first)
    assert len(tree.findall(".//tbody/tr")) == 50
    assert tree.find(".//a[@rel='next']").get("href") == (
        "/people/?game=julython-2026&page=2"
    )
    _, _, second = await get(server + "/people/?game=julython-2026&page=2")
    tree = check_page(second)
    (row,) = tree.findall(".//tbody/tr")
    assert row.findtext("td") == "51"
    assert tree.find(".//a[@rel='prev']") is not None


@pytest_twisted.ensureDeferred
async def test_game_selector(server: str, store: Store) -> None:
    """?game= picks a past game; the selector lists it and marks it chosen."""
    from tests.builders import IN_JULY

    last_july = IN_JULY.replace(year=2025)
    await ingest(store, push(commit("old", when=last_july)), last_july)
    _, _, body = await get(server + "/projects/?game=julython-2025")
    tree: Any = check_page(body)
    chosen = tree.find(".//select[@name='game']/option[@selected]")
    assert chosen.get("value") == "julython-2025"
    assert tree.find(".//tbody//a[@href='/projects/gh-ada-engine']") is not None
    _, _, now = await get(server + "/projects/")
    assert b"Nobody has scored here yet." in now


@pytest_twisted.ensureDeferred
async def test_etag_and_max_age(server: str) -> None:
    """A page carries an ETag and a short max-age; its ETag brings a 304."""
    code, headers, _ = await get(server + "/people/")
    assert code == 200
    assert headers.getRawHeaders("Cache-Control") == ["public, max-age=10"]
    (etag,) = headers.getRawHeaders("ETag")
    code, _, body = await get(server + "/people/", **{"If-None-Match": etag})
    assert (code, body) == (304, b"")


@pytest_twisted.ensureDeferred
async def test_static_files(server: str) -> None:
    """The CSS and JS come from the package, cacheable; nothing else does."""
    code, headers, body = await get(server + "/static/site.css")
    assert code == 200 and b":root" in body
    assert headers.getRawHeaders("Content-Type") == ["text/css; charset=utf-8"]
    (etag,) = headers.getRawHeaders("ETag")
    code, _, _ = await get(server + "/static/site.css", **{"If-None-Match": etag})
    assert code == 304
    code, _, _ = await get(server + "/static/site.js")
    assert code == 200
    for missing in ("/static/", "/static/nope.css", "/static/../pages.py"):
        code, _, _ = await get(server + missing)
        assert code == 404, missing


@pytest_twisted.ensureDeferred
async def test_help_names_this_server(server: str) -> None:
    """The help page gives the exact webhook URLs of the server it came from."""
    _, _, body = await get(server + "/help/")
    for service in ("github", "bitbucket", "gitlab"):
        assert f"{server}/api/v1/{service}".encode() in body


@pytest_twisted.ensureDeferred
async def test_board_reads_are_kept_a_few_seconds(
    server: str, store: Store, clock: Clock
) -> None:
    """
    A board read is reused for five seconds, so a busy front page costs
    Redis one read per board; after that the page shows what changed.
    """
    await get(server + "/people/")
    await seed(store)
    _, _, kept = await get(server + "/people/")
    assert b"Nobody has scored here yet." in kept
    clock.advance(6)
    _, _, fresh = await get(server + "/people/")
    assert b"/people/ada" in fresh


@pytest_twisted.ensureDeferred
async def test_projects_by_size(server: str, store: Store) -> None:
    """?size= keeps the projects of that many watchers, ranked among them."""
    import attrs

    from tests.builders import project

    for name, watchers in (("tiny", 0), ("mid", 50), ("big", 500), ("mid2", 10)):
        proj = attrs.evolve(project("org", name), watchers=watchers)
        await ingest(store, push(commit(name), proj=proj))
    names = {}
    for size in ("small", "medium", "large"):
        _, _, body = await get(server + f"/projects/?size={size}")
        tree: Any = check_page(body)
        names[size] = [
            (row.findtext("td"), row.findtext("th/a"))
            for row in tree.iterfind(".//tbody/tr")
        ]
        current = tree.find(".//nav[@class='sizes']//a[@aria-current]")
        assert current.text.startswith(size.title())
    assert names == {
        "small": [("1", "tiny")],
        "medium": [("1", "mid"), ("2", "mid2")],
        "large": [("1", "big")],
    }
    code, _, body = await get(server + "/projects/?size=huge")
    assert code == 400 and b"size must be one of" in body


@pytest_twisted.ensureDeferred
async def test_redis_down_is_a_503_page(server_without_redis: str) -> None:
    """With Redis silent, a page is a 503 HTML page asking to retry; help works."""
    code, headers, body = await get(server_without_redis + "/people/")
    assert code == 503
    assert headers.getRawHeaders("Retry-After") == ["1"]
    check_page(body)
    code, _, _ = await get(server_without_redis + "/help/")
    assert code == 200


@pytest_twisted.ensureDeferred
async def test_redis_down_with_a_session_is_a_503_page(
    server: str, server_without_redis: str
) -> None:
    """
    With Redis silent, a signed-in visitor's session cannot be read: every
    page, even help, is the 503 page naming nobody, never a page kept for
    anonymous visitors.  A visitor without a session, or with a forged
    one, costs no Redis read and still gets help.
    """
    from tests.pages.test_accounts import Visitor

    visitor = Visitor(server)
    await visitor.sign_up()
    cookie = f"jt_session={visitor.cookies['jt_session']}"
    for path in ("/help/", "/people/", "/"):
        code, headers, body = await get(server_without_redis + path, Cookie=cookie)
        assert code == 503, path
        assert headers.getRawHeaders("Retry-After") == ["1"]
        assert b"Try again soon" in body and b'href="/profile"' not in body
        check_page(body)
    session_id, _, signature = visitor.cookies["jt_session"].rpartition(".")
    forged = f"jt_session={session_id}.{'0' * len(signature)}"
    code, _, body = await get(server_without_redis + "/help/", Cookie=forged)
    assert code == 200 and b'href="/login"' in body


@pytest_twisted.ensureDeferred
async def test_wrong_method_is_a_405_page_with_allow(server: str) -> None:
    """
    A verb a page does not take is a 405 page naming the verbs it does, in
    Allow (the page had no Allow, which a 405 must carry), OPTIONS among them.
    """
    pages = [("/", "GET, HEAD, OPTIONS"), ("/signup", "GET, HEAD, OPTIONS, POST")]
    for path, allowed in pages:
        response = await treq.put(server + path, allow_redirects=False)
        assert response.code == 405
        assert response.headers.getRawHeaders("Allow") == [allowed]
        check_page(await response.content())


@pytest_twisted.ensureDeferred
async def test_a_path_without_its_slash_is_redirected(server: str) -> None:
    """
    A page asked for without its trailing slash is redirected to it, query
    kept: 308 with a Location (it was a 308 page with none, a dead end).
    """
    for path, target in [("/people", "/people/"), ("/help?x=1", "/help/?x=1")]:
        code, headers, body = await get(server + path)
        assert (code, body) == (308, b"")
        assert headers.getRawHeaders("Location") == [target]
    code, _, _ = await get(server + "/admin")
    assert code == 308


@pytest_twisted.ensureDeferred
async def test_project_screenshots(server: str, store: Store) -> None:
    """
    A signed-in player adds a screenshot from the project's page, with the
    session and its CSRF token, and lands back on the page, which shows it;
    an anonymous visitor sees the screenshots and no form.  A forged token
    stores nothing.
    """
    import re

    from tests.builders import BOUNDARY, PNG, multipart
    from tests.pages.test_accounts import Visitor

    await seed(store)
    page = "/projects/gh-ada-engine"
    code, _, body = await get(server + page)
    assert code == 200 and b"Screenshots" not in body
    visitor = Visitor(server)
    await visitor.sign_up("bea")
    _, body, _ = await visitor.get(page)
    check_page(body)
    found = re.search(rb'action="(/upload/\?csrf=[^"]+)"', body)
    assert found is not None
    action = found.group(1).decode().replace("&amp;", "&")
    fields = {"kind": "screenshot", "project": "gh-ada-engine"}
    fields["next"] = page + "#screenshots"
    upload = multipart([("shot.png", "image/png", PNG)], fields)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

    async def post(path: str) -> Any:
        answer = await treq.post(
            server + path,
            data=upload,
            headers=visitor._headers(headers),
            allow_redirects=False,
        )
        await answer.content()
        return answer

    assert (await post("/upload/?csrf=forged")).code == 403
    assert (await store.detail("projects", "gh-ada-engine")).screenshots == ()
    answer = await post(action)
    assert answer.code == 303
    assert answer.headers.getRawHeaders("Location") == [page + "#screenshots"]
    (shot,) = (await store.detail("projects", "gh-ada-engine")).screenshots
    _, body, _ = await visitor.get(page)
    tree: Any = check_page(body)
    images = tree.findall(".//ul[@class='screenshots']//img")
    assert [(i.get("src"), i.get("alt")) for i in images] == [
        (shot, "Screenshot 1 of engine")
    ]
    code, _, body = await get(server + page + "?fresh")
    tree = check_page(body)
    assert code == 200 and tree.find(".//input[@type='file']") is None
    assert [i.get("src") for i in tree.findall(".//ul[@class='screenshots']//img")] == [
        shot
    ]


@pytest_twisted.ensureDeferred
async def test_pending_points_beside_a_player(server: str, store: Store) -> None:
    """
    With --verify-commits, a player whose commits wait for their host's word
    shows "N pending" beside their points on the board, and as a figure on
    their page; the points themselves leave them out.
    """
    from julytwisted.game.hooks import repository
    from julytwisted.store import Listing

    await store.create_player("ada", "Ada", ["ada@example.com"])
    await ingest(store, push(commit("a1")))
    first = push(commit("a2"), commit("a3"))
    ref = repository(first)
    await store.repositories.add("ada", ref, "ada/engine", "sealed", Listing("e"))
    await store.ingest(ref, first, store.now(), verify=True)
    _, _, body = await get(server + "/people/")
    tree: Any = check_page(body)
    [row] = tree.iterfind(".//table[@class='board']/tbody/tr")
    points = "".join(row.findall("td")[1].itertext())
    assert points == "11 2 pending"
    _, _, body = await get(server + "/people/ada")
    figures = check_page(body).iterfind(".//dl[@class='figures']/div")
    shown = {d.findtext("dt"): d.findtext("dd") for d in figures}
    assert (shown["Points"], shown["Pending"]) == ("11", "2")

"""
The help page, over a real Site and Redis: every game the site knows, the
GitHub noreply addresses a GitHub sign-in verifies, which hosts' pushes
list files (and so score languages), whose days a commit counts for,
pending points and reporting a commit, and Bitbucket Data Center only where
one is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq

from julytwisted.config import Config
from julytwisted.config._parsers import parse_game
from julytwisted.game.review import BURST_LIMIT
from julytwisted.hosts import parse_provider_url
from tests.htmlcheck import check_page

SPRINT = parse_game("Spring Sprint=2026-04-01T00:00:00Z/2026-04-08T00:00:00Z")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The tests' configuration, with a game of a week in April."""
    return Config(data_dir=tmp_path, open_repositories=True, games=(SPRINT,))


async def help_text(server: str) -> tuple[str, Any]:
    answer = await treq.get(server + "/help/")
    body = await answer.content()
    assert answer.code == 200
    tree: Any = check_page(body)
    return " ".join(" ".join(tree.itertext()).split()), tree


@pytest_twisted.ensureDeferred
async def test_help_lists_the_games(server: str) -> None:
    """
    The configured game is listed with its window and a link to its board,
    beside the current one; the yearly games are explained.
    """
    text, tree = await help_text(server)
    rows = {
        row.find("th/a").text: (row.find("th/a").get("href"), row[1][0].get("datetime"))
        for row in tree.iterfind(".//main//table/tbody/tr")
    }
    assert rows["Spring Sprint"] == (
        "/people/?game=spring-sprint",
        "2026-04-01T00:00:00Z",
    )
    assert "Julython 2026" in rows
    assert "Julython runs through July and J(an)ulython through January" in text


@pytest_twisted.ensureDeferred
async def test_help_names_github_noreply_addresses(server: str) -> None:
    """Both forms of GitHub's noreply address count for a GitHub sign-in."""
    text, tree = await help_text(server)
    codes = [c.text for c in tree.iter("code")]
    assert "ID+LOGIN@users.noreply.github.com" in codes
    assert "LOGIN@users.noreply.github.com" in codes
    assert "Signing in with GitHub also brings both forms" in text


@pytest_twisted.ensureDeferred
async def test_help_says_which_hosts_list_files(server: str) -> None:
    """Languages score from file lists: GitHub and GitLab send them, Bitbucket not."""
    text, _ = await help_text(server)
    assert "GitHub's and GitLab's pushes list each commit's files" in text
    assert "Bitbucket Cloud's do not" in text


@pytest_twisted.ensureDeferred
async def test_help_tells_of_data_center_only_where_configured(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    Without --provider-url bitbucket-server, /help/ names no Data Center,
    whose pushes are refused there; with one, it tells how its repositories
    are added (by hand, with a token for a private one), that its commits
    list no files, and in an open event its webhook's URL.
    """
    text, tree = await help_text(server_with(config))
    assert "Data Center" not in text
    assert not any("bitbucket-server" in (c.text or "") for c in tree.iter("code"))
    server = parse_provider_url("bitbucket-server=https://git.example.com/bitbucket")
    url = server_with(attrs.evolve(config, code_hosts={"bitbucket-server": server}))
    text, tree = await help_text(url)
    codes = [c.text for c in tree.iter("code")]
    assert "https://git.example.com/bitbucket" in codes
    assert codes.count(f"{url}/api/v1/bitbucket-server") == 2
    assert "HTTP access token with repository read permission" in text
    assert "Bitbucket Cloud's and Bitbucket Data Center's do not" in text
    closed = attrs.evolve(
        config, open_repositories=False, code_hosts={"bitbucket-server": server}
    )
    text, tree = await help_text(server_with(closed))
    codes = [c.text for c in tree.iter("code")]
    assert len([c for c in codes if c and c.endswith("/bitbucket-server")]) == 1


@pytest_twisted.ensureDeferred
async def test_help_tells_whose_days_count(server: str) -> None:
    """Fair days: the profile's time zone, else each commit's own offset."""
    text, tree = await help_text(server)
    assert "Your days" in [h.text for h in tree.iter("h2")]
    assert "Choose a time zone on your profile" in text
    assert "in the UTC offset its push gave its time in" in text
    assert "/profile" in [a.get("href") for a in tree.iter("a")]


@pytest_twisted.ensureDeferred
async def test_help_tells_of_pending_points_and_reports(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    Without review days new points count at once; with them the page says
    for how long they are pending.  Either way it names the flags that hold
    a commit for an organiser (with the site's burst limit), and how to
    report a commit.
    """
    text, _ = await help_text(server_with(config))
    assert "Here new points count as soon as their push arrives." in text
    assert f"more than {BURST_LIMIT} commits by one author" in text
    assert "dated more than 7 days before its push arrived" in text
    assert "report it with a short reason" in text
    reviewing = attrs.evolve(config, review_days=3, burst_limit=12)
    text, _ = await help_text(server_with(reviewing))
    assert "Here new points are pending for 3 days after their push arrives" in text
    assert "more than 12 commits by one author" in text

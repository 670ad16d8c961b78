"""
Fair days over a real Site and Redis: a player's calendar and streak count
each commit on the day it was made where the player lives, once they set
a time zone (over JSON-RPC or the profile's form), else in the UTC offset
the commit's push wrote its time in; a zone that is no IANA name is
refused (JSON-RPC -32602, the form 400) and the zone chosen before stays.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest_twisted
import treq
from twisted.internet.task import Clock

from tests.builders import body, github_payload
from tests.htmlcheck import check_page
from tests.pages.test_accounts import Visitor
from tests.test_methods import basic, rpc, signup

#: 23:30 UTC on Friday 10 July 2026: that afternoon in Los Angeles, the
#: next morning in Tokyo.
LATE = datetime(2026, 7, 10, 23, 30, tzinfo=UTC)
#: 03:30 UTC on Saturday 11 July: the Friday evening before in Los Angeles.
LATER = datetime(2026, 7, 11, 3, 30, tzinfo=UTC)

FRIDAY, SATURDAY = "Fri 10 Jul 2026", "Sat 11 Jul 2026"

#: Pacific summer time, as a push from Los Angeles writes its times.
PDT = timezone(timedelta(hours=-7))


async def push_at(server: str, seed: str, when: datetime) -> None:
    """A GitHub push of one commit by Ada, its time written as C{when} is."""
    answer = await treq.post(
        server + "/api/v1/github",
        data=body(github_payload(seed, when=when)),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert answer.code == 201, await answer.content()


async def calendar(server: str, clock: Clock) -> tuple[str, dict[str, int]]:
    """
    Ada's page in Julython 2026, as anybody sees it once the rendering
    kept for a few seconds has passed: its text, and the commits its
    calendar shows on Friday 10 and Saturday 11 July.
    """
    clock.advance(6)
    answer = await treq.get(server + "/people/ada?game=julython-2026")
    page = await answer.content()
    assert answer.code == 200, page[:300]
    check_page(page)
    text = page.decode()
    counts: dict[str, int] = {}
    for day in (FRIDAY, SATURDAY):
        found = re.search(rf'title="{day}: (\d+) commits?"', text)
        assert found, day
        counts[day] = int(found.group(1))
    return text, counts


async def set_zone(server: str, zone: Any) -> dict[str, Any]:
    _, answer = await rpc(
        server, "julython.setTimeZone", [zone], auth=basic("ada", "correct horse")
    )
    return answer


@pytest_twisted.ensureDeferred
async def test_days_follow_the_zone_set_over_json_rpc(
    server: str, clock: Clock
) -> None:
    """
    Two commits pushed in UTC, at 23:30 on Friday and 03:30 on Saturday:
    without a zone one counts each day; in Los Angeles both count on Friday,
    in Tokyo both on Saturday; each change re-buckets both at once, and
    the streak follows.  A bad zone changes nothing.
    """
    await signup(server)
    await push_at(server, "late", LATE)
    await push_at(server, "later", LATER)
    _, counts = await calendar(server, clock)
    assert counts == {FRIDAY: 1, SATURDAY: 1}

    answer = await set_zone(server, "america/los_angeles")
    assert answer["result"]["time_zone"] == "America/Los_Angeles", answer
    text, counts = await calendar(server, clock)
    assert counts == {FRIDAY: 2, SATURDAY: 0}
    assert "Days in America/Los_Angeles" in text
    assert "Longest streak: 1 day in a row." in text

    await set_zone(server, "Asia/Tokyo")
    text, counts = await calendar(server, clock)
    assert counts == {FRIDAY: 0, SATURDAY: 2}

    for bad in ("Mars/Olympus", "+09:00", "x" * 200):
        answer = await set_zone(server, bad)
        assert answer["error"]["code"] == -32602, answer
        assert "IANA" in answer["error"]["message"]
    _, player = await rpc(server, "julython.player", ["ada"])
    assert player["result"]["time_zone"] == "Asia/Tokyo"
    assert (await calendar(server, clock))[1] == {FRIDAY: 0, SATURDAY: 2}

    answer = await set_zone(server, None)
    assert answer["result"]["time_zone"] is None
    text, counts = await calendar(server, clock)
    assert counts == {FRIDAY: 1, SATURDAY: 1}
    assert "Longest streak: 2 days in a row." in text
    _, answer = await rpc(server, "julython.setTimeZone", ["UTC"])
    assert answer["error"]["code"] == 401


@pytest_twisted.ensureDeferred
async def test_without_a_zone_the_offset_each_commit_carries(
    server: str, clock: Clock
) -> None:
    """
    Two commits pushed from Los Angeles (times written at -07:00), one
    after UTC's midnight: both count on the Friday they were made on there
    (in UTC days they would split); the stored commit keeps the offset.
    """
    await signup(server)
    await push_at(server, "late", LATE.astimezone(PDT))
    await push_at(server, "later", LATER.astimezone(PDT))
    text, counts = await calendar(server, clock)
    assert counts == {FRIDAY: 2, SATURDAY: 0}
    assert "the UTC offset its push gave" in text
    answer = await treq.get(server + "/api/v1/commits?username=ada")
    listed = (await answer.json())["models"]
    assert [c["utc_offset"] for c in listed] == [-420, -420]
    assert {c["timestamp"] for c in listed} == {
        "2026-07-10T23:30:00Z",
        "2026-07-11T03:30:00Z",
    }
    await set_zone(server, "Asia/Tokyo")
    assert (await calendar(server, clock))[1] == {FRIDAY: 0, SATURDAY: 2}


@pytest_twisted.ensureDeferred
async def test_the_profile_form_sets_the_zone(server: str) -> None:
    """
    The profile's form offers every zone as the player types; a bad name
    answers 400 with the reason and the text typed, and the zone stays; a
    good one is saved, in the database's spelling, and emptying it goes
    back to each commit's offset.
    """
    ada = Visitor(server)
    await ada.sign_up("ada")
    code, page, _ = await ada.get("/profile")
    assert code == 200
    check_page(page)
    assert b'list="time-zones"' in page and b'<option value="Europe/Paris"' in page
    assert b"Your days follow the UTC offset each commit carries." in page

    code, page, headers = await ada.post(
        "/profile/time-zone", {"time_zone": "europe/paris"}
    )
    assert code == 303, page
    assert headers.getRawHeaders("Location") == ["/profile?saved=time-zone"]
    _, page, _ = await ada.get("/profile?saved=time-zone")
    assert b"Your days follow Europe/Paris." in page
    assert b"Time zone saved" in page

    code, page, _ = await ada.post("/profile/time-zone", {"time_zone": "Europe/Pariss"})
    assert code == 400
    check_page(page)
    assert b"IANA time zone" in page and b'value="Europe/Pariss"' in page
    _, player = await rpc(server, "julython.player", ["ada"])
    assert player["result"]["time_zone"] == "Europe/Paris"

    code, _, _ = await ada.post("/profile/time-zone", {"time_zone": ""})
    assert code == 303
    _, player = await rpc(server, "julython.player", ["ada"])
    assert player["result"]["time_zone"] is None

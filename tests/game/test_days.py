"""
A player's days, pure: each commit on the local day of its time in the
player's time zone, else in the UTC offset its push gave, else in UTC;
across daylight-saving changes; every commit on exactly one day; time zone
names checked; and the offsets every host's payload carries kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from julytwisted.errors import InvalidInput
from julytwisted.game import days
from julytwisted.game.hooks import parse_bitbucket, parse_github, parse_gitlab
from tests.game.test_hooks import load

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")

#: 23:30 UTC on Friday 10 July 2026: 16:30 that Friday in Los Angeles,
#: 08:30 on Saturday 11 July in Tokyo.
LATE = "2026-07-10T23:30:00Z"


def one_day(stamp: str, offset: int | None, zone: ZoneInfo | None) -> date:
    """The one day a commit counts for, checking it counts for one."""
    counts = days.per_day([(stamp, offset)], zone)
    assert sum(counts.values()) == 1
    (day,) = counts
    return day


def test_a_late_utc_commit_in_los_angeles() -> None:
    """A commit at 23:30 UTC counts on that afternoon's day in Los Angeles."""
    assert one_day(LATE, None, LOS_ANGELES) == date(2026, 7, 10)
    # Three hours after UTC's midnight is still the evening before there.
    assert one_day("2026-07-11T03:30:00Z", None, LOS_ANGELES) == date(2026, 7, 10)


def test_a_late_utc_commit_in_tokyo() -> None:
    """The same commit counts on the next morning's day in Tokyo."""
    assert one_day(LATE, None, TOKYO) == date(2026, 7, 11)
    assert one_day("2026-07-10T14:59:00Z", None, TOKYO) == date(2026, 7, 10)
    assert one_day("2026-07-10T15:00:00Z", None, TOKYO) == date(2026, 7, 11)


def test_without_a_zone_the_commit_s_own_offset() -> None:
    """
    Without a zone a commit counts on its author's day as its push wrote
    it; without an offset either, on its UTC day.
    """
    assert one_day(LATE, -7 * 60, None) == date(2026, 7, 10)
    assert one_day(LATE, 9 * 60, None) == date(2026, 7, 11)
    assert one_day(LATE, 30, None) == date(2026, 7, 11)
    assert one_day(LATE, None, None) == date(2026, 7, 10)
    # A chosen zone rules over the commit's offset.
    assert one_day(LATE, -7 * 60, TOKYO) == date(2026, 7, 11)
    # An offset no clock has is ignored, not trusted: UTC.
    assert one_day("2026-07-10T23:30:00Z", 24 * 60, None) == date(2026, 7, 10)


def test_daylight_saving_in_los_angeles() -> None:
    """
    Days follow the zone's offset at each instant: 07:30 UTC is 00:30 of
    the next day in summer time (UTC-7) but 23:30 of the day before in
    winter time (UTC-8), on either side of each change of 2026.
    """
    # Summer time began at 10:00 UTC on Sunday 8 March 2026.
    assert one_day("2026-03-08T07:30:00Z", None, LOS_ANGELES) == date(2026, 3, 7)
    assert one_day("2026-03-09T07:30:00Z", None, LOS_ANGELES) == date(2026, 3, 9)
    # The hour skipped: 09:59 UTC is 01:59 PST, 10:00 UTC is 03:00 PDT.
    assert one_day("2026-03-08T09:59:00Z", None, LOS_ANGELES) == date(2026, 3, 8)
    # It ended at 09:00 UTC on Sunday 1 November 2026.
    assert one_day("2026-11-01T07:30:00Z", None, LOS_ANGELES) == date(2026, 11, 1)
    assert one_day("2026-11-02T07:30:00Z", None, LOS_ANGELES) == date(2026, 11, 1)
    # The hour repeated: both 01:30s are on 1 November.
    for stamp in ("2026-11-01T08:30:00Z", "2026-11-01T09:30:00Z"):
        assert one_day(stamp, None, LOS_ANGELES) == date(2026, 11, 1)


stamps = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.just(UTC),
)
offsets = st.one_of(st.none(), st.integers(-days.MOST_OFFSET, days.MOST_OFFSET))
zones = st.one_of(st.none(), st.sampled_from(sorted(days.time_zones().values())))


@given(commits=st.lists(st.tuples(stamps, offsets)), zone=zones)
def test_every_commit_counts_for_exactly_one_day(
    commits: list[tuple[datetime, int | None]], zone: str | None
) -> None:
    """
    However many commits, in whatever zone, each counts for one day: its
    time's date where its player lives, within a day of its UTC date.
    """
    where = days.zone_of(zone)
    listed = [(when.isoformat(), offset) for when, offset in commits]
    counts = days.per_day(listed, where)
    assert sum(counts.values()) == len(commits)
    for when, offset in commits:
        clock = where or (
            UTC if offset is None else timezone(timedelta(minutes=offset))
        )
        day = when.astimezone(clock).date()
        assert counts[day] >= 1
        assert abs((day - when.date()).days) <= 1


def test_time_zone_names() -> None:
    """
    A zone is an IANA name, in any case, kept as the database spells it;
    anything else is refused.
    """
    assert days.valid_time_zone("america/los_angeles") == "America/Los_Angeles"
    assert days.valid_time_zone(" Asia/Tokyo ") == "Asia/Tokyo"
    assert days.valid_time_zone("UTC") == "UTC"
    for bad in ("Mars/Olympus", "", "+02:00", "../../etc/passwd", "x" * 1000, 5, None):
        with pytest.raises(InvalidInput, match="IANA time zone"):
            days.valid_time_zone(bad)
    assert days.zone_of("Asia/Tokyo") == TOKYO
    assert days.zone_of(None) is None
    assert days.zone_of("Gone/Away") is None


def test_pushes_keep_each_commit_s_offset() -> None:
    """
    Each host's push keeps the offset its commits' times are written in
    (the author's clock), while their times are UTC; a time written
    without one keeps none.
    """
    github = parse_github(load("github_push"))
    assert [c.utc_offset for c in github.commits] == [-7 * 60, 2 * 60]
    assert [c.timestamp.utcoffset() for c in github.commits] == [timedelta(0)] * 2
    gitlab = parse_gitlab(load("gitlab_push"))
    assert {c.utc_offset for c in gitlab.commits} == {2 * 60}
    bitbucket = parse_bitbucket(load("bitbucket_push"))
    assert {c.utc_offset for c in bitbucket.commits} == {0, 2 * 60}
    payload = load("github_push")
    payload["commits"][0]["timestamp"] = "2019-05-15T08:20:55"
    assert parse_github(payload).commits[0].utc_offset is None

"""
C{--review-days} and C{--burst-limit}: provisional points are off by
default, and each takes a bounded whole number.
"""

from __future__ import annotations

import pytest

from julytwisted.game.review import BURST_LIMIT
from tests.config.test_config import parse, refused


def test_off_by_default() -> None:
    """No review days; bursts past 30 commits a minute are held."""
    config = parse([])
    assert (config.review_days, config.burst_limit) == (0, BURST_LIMIT)


def test_given() -> None:
    config = parse(["--review-days", "7", "--burst-limit", "5"])
    assert (config.review_days, config.burst_limit) == (7, 5)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--review-days", "91"], "--review-days: a whole number from 0 to 90"),
        (["--review-days", "-1"], "--review-days: a whole number from 0 to 90"),
        (["--review-days", "2.5"], "--review-days: a whole number from 0 to 90"),
        (["--burst-limit", "0"], "--burst-limit: a whole number from 1 to 10000"),
    ],
)
def test_refused(args: list[str], said: str) -> None:
    """Out of range or not whole: refused, naming the option."""
    assert said in refused(args)

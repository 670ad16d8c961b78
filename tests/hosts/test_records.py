"""
The records read from hosts: an account's addresses are kept only as
addresses, lower-cased, once each, in their first order.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from julytwisted.hosts import Account
from julytwisted.hosts._records import verified


def test_addresses_cleaned() -> None:
    """Lower-cased, stripped, once each, junk dropped, first order kept."""
    account = Account(
        "github",
        "1",
        "ada",
        "",
        [" Ada@Example.com", "b@example.org", "ada@example.com", "", "@", "x@", "nope"],
    )
    assert account.emails == ("ada@example.com", "b@example.org")


@given(st.lists(st.text(max_size=12), max_size=12))
def test_verified_is_idempotent(addresses: list[str]) -> None:
    """Cleaning twice changes nothing; every kept value is a lower-cased address."""
    once = verified(addresses)
    assert verified(once) == once
    assert all("@" in e.strip("@") and e == e.strip().lower() for e in once)
    assert len(set(once)) == len(once)

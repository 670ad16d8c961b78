"""
The store under any order of events, against a real redis-server: pushes
(redelivered too), players created (with e-mails an admin vouches for, and
with claims), e-mails claimed, confirmed through their latest link or
vouched for by an admin, their orphans adopted (twice, as a retried job
would), moves between locations and teams, team approvals and recounts.
After every step every board of both games equals the reference tally of
L{julytwisted.scoring} over the stored commits, a recount finds nothing to
repair, every scored commit is its e-mail's verified owner's (a claim scores
nothing), and the claims' two indexes agree.

A hypothesis state machine run in a thread; its rules call the store on the
reactor with L{blockingCallFromThread}.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest_twisted
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.threads import blockingCallFromThread, deferToThread

from julytwisted.errors import Conflict, InvalidLink, NotFound
from julytwisted.game.scoring import builtin_games
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import commit, ingest, project, push
from tests.store.test_store_members import assert_boards_match_tally

_T = TypeVar("_T")

GAMES = [game.slug for game in builtin_games(2026)]
USERS = ["ada", "bob", "cy"]
EMAILS = [f"{name}@example.com" for name in (*USERS, "dee", "eve")]
PLACES = ["Austin", "Boston", None]
TEAMS = ["Snakes", "Owls", None]
PROJECTS = [project("ada", "engine"), project("bob", "loom")]
#: Moments in J(an)ulython, in Julython, and in neither.
WHEN = [
    datetime(2026, 1, 15, 12, tzinfo=UTC),
    datetime(2026, 7, 10, 9, 30, tzinfo=UTC),
    datetime(2026, 7, 31, 23, 59, tzinfo=UTC),
    datetime(2026, 4, 1, tzinfo=UTC),
]

commits = st.builds(
    lambda seed, email, when, minutes, files: commit(
        f"c{seed}", email, WHEN[when] + timedelta(minutes=minutes), files=files
    ),
    # Few seeds: the same commit comes again, in other pushes too.
    seed=st.integers(0, 15),
    email=st.sampled_from(EMAILS),
    when=st.integers(0, len(WHEN) - 1),
    minutes=st.integers(0, 3),
    files=st.sampled_from([("main.py",), ("app.js", "lib.py"), ("README",), ()]),
)


def wait(work: Callable[[], Coroutine[Any, Any, _T] | Deferred[_T]]) -> _T:
    """
    Start C{work} on the reactor and wait, in this thread, for its result:
    a store call starts talking to Redis at once, so it must be made there.
    """

    def start() -> Deferred[_T]:
        started = work()
        if isinstance(started, Deferred):
            return started
        return Deferred.fromCoroutine(started)

    result: _T = blockingCallFromThread(reactor, start)
    return result


class StoreMachine(RuleBasedStateMachine):
    store: Store
    redis: RedisService

    def __init__(self) -> None:
        super().__init__()
        wait(lambda: self.redis.client.execute("FLUSHALL"))

    @rule(pushed=st.lists(commits, min_size=1, max_size=4), where=st.integers(0, 1))
    def push(self, pushed: list[Any], where: int) -> None:
        unique = {c.hash: c for c in pushed}
        wait(lambda: ingest(self.store, push(*unique.values(), proj=PROJECTS[where])))

    @rule(
        username=st.sampled_from(USERS),
        email=st.sampled_from(EMAILS),
        location=st.sampled_from(PLACES),
        team=st.sampled_from(TEAMS),
        approve=st.booleans(),
        typed=st.booleans(),
    )
    def create_player(
        self,
        username: str,
        email: str,
        location: str,
        team: str,
        approve: bool,
        typed: bool,
    ) -> None:
        """An admin makes a player (vouched for), or a player signs up (typed)."""
        vouched, claims = ([], [email]) if typed else ([email], [])
        # Conflict: the username or the e-mail is taken, and nothing changed.
        with contextlib.suppress(Conflict):
            wait(
                lambda: self.store.create_player(
                    username, username.title(), vouched, location, team, approve,
                    claims=claims,
                )
            )  # fmt: skip

    @rule(username=st.sampled_from(USERS), email=st.sampled_from(EMAILS))
    def add_email(self, username: str, email: str) -> None:
        """An admin vouches for a player's e-mail."""
        with contextlib.suppress(Conflict, NotFound):
            wait(lambda: self.store.add_email(username, email))

    @rule(username=st.sampled_from(USERS), email=st.sampled_from(EMAILS))
    def claim(self, username: str, email: str) -> None:
        """A player types an e-mail: pending."""
        with contextlib.suppress(Conflict, NotFound):
            wait(lambda: self.store.claim_email(username, email))

    @rule(username=st.sampled_from(USERS), email=st.sampled_from(EMAILS))
    def confirm(self, username: str, email: str) -> None:
        """A link is mailed for a claim, and followed."""
        nonce = wait(lambda: self.store.claim_nonce(username, email))
        if nonce is None:
            return
        with contextlib.suppress(Conflict, InvalidLink):
            wait(lambda: self.store.confirm_email(username, email, nonce))

    @rule(email=st.sampled_from(EMAILS))
    def adopt_orphans(self, email: str) -> None:
        """The job add_email queues; it may run late, or twice."""
        wait(lambda: self.store.adopt_orphans(email))

    @rule(username=st.sampled_from(USERS), location=st.sampled_from(PLACES))
    def move_location(self, username: str, location: str | None) -> None:
        with contextlib.suppress(NotFound):
            wait(lambda: self.store.move_member(username, "locations", location))

    @rule(
        username=st.sampled_from(USERS),
        team=st.sampled_from(TEAMS),
        approve=st.booleans(),
    )
    def move_team(self, username: str, team: str | None, approve: bool) -> None:
        with contextlib.suppress(NotFound):
            wait(lambda: self.store.move_member(username, "teams", team, approve))

    @rule(team=st.sampled_from(["snakes", "owls"]), approved=st.booleans())
    def approve_team(self, team: str, approved: bool) -> None:
        with contextlib.suppress(NotFound):
            wait(lambda: self.store.approve_team(team, approved))

    @rule(game=st.sampled_from(GAMES))
    def recount(self, game: str) -> None:
        result = wait(lambda: self.store.recount(game))
        assert result.repaired == (), "the boards had drifted from their commits"

    @invariant()
    def boards_equal_the_tally(self) -> None:
        for game in GAMES:
            wait(lambda game=game: assert_boards_match_tally(self.store, game))

    @invariant()
    def only_verified_emails_score(self) -> None:
        """Every commit credited to a player has that player's verified e-mail."""
        hashes = wait(lambda: self.redis.client.execute("ZRANGE", "j:commits", 0, -1))
        for hash in hashes:
            username, email = wait(
                lambda hash=hash: self.redis.client.execute(
                    "HMGET", f"j:commit:{hash}", "username", "email"
                )
            )
            if username:
                owner = wait(
                    lambda email=email: self.redis.client.execute(
                        "GET", f"j:email:{email}"
                    )
                )
                assert owner == username, (hash, email, username, owner)

    @invariant()
    def claims_indexed_both_ways(self) -> None:
        """A player's pending e-mails are exactly the e-mails they are claiming."""
        by_player = {
            (user, email)
            for user in USERS
            for email in wait(
                lambda user=user: self.redis.client.execute(
                    "HKEYS", f"j:player:{user}:pending"
                )
            )
        }
        by_email = {
            (user, email)
            for email in EMAILS
            for user in wait(
                lambda email=email: self.redis.client.execute(
                    "SMEMBERS", f"j:email-claims:{email}"
                )
            )
        }
        assert by_player == by_email
        for user, email in by_player:
            owner = wait(
                lambda email=email: self.redis.client.execute("GET", f"j:email:{email}")
            )
            assert owner != user, "a player's verified e-mail is pending too"

    @invariant()
    def teams_waiting_are_the_unapproved(self) -> None:
        """The admin's list of teams waiting is every team not approved."""
        unapproved = []
        for slug in ("owls", "snakes"):
            approved = wait(
                lambda slug=slug: self.redis.client.execute(
                    "HGET", f"j:team:{slug}", "approved"
                )
            )
            if approved is not None and approved != "1":
                unapproved.append(slug)
        waiting = wait(lambda: self.store.teams_waiting())
        assert [team.slug for team in waiting] == unapproved


@pytest_twisted.ensureDeferred
async def test_boards_always_equal_a_recount(store: Store, redis: RedisService) -> None:
    """Any sequence of the rules above keeps every board equal to the tally."""
    StoreMachine.store = store
    StoreMachine.redis = redis
    await deferToThread(
        run_state_machine_as_test,
        StoreMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

"""
The store under any order of events, against a real redis-server: pushes
(redelivered too, late, under any spelling of their repository's address,
with or without its id, with commits dated after their arrival, and
abbreviated hashes, which parsing refuses; to a registered repository with
verification asked for, so stored pending), commits verified and rejected
by their host (twice, as a retried job would), time passing, players created
(with e-mails an admin vouches for, and with claims), e-mails claimed,
confirmed through their latest link or vouched for by an admin, their
orphans adopted (twice, as a retried job would), moves between locations
and teams, team approvals, a game made at run time whose points change,
whose end moves sooner or later (extended, it takes in the commits stored
meanwhile, a commit dated ahead of its push past the sprint's end), and
which ends early (each change followed by its recount), recounts, and
time zones chosen.
After every step every board of the three games equals the reference
tally of L{julytwisted.scoring} over the stored commits and their
arrivals (pending, rejected, held and review-rejected ones scoring
nothing), a recount finds
nothing to repair, each repository is one project, no commit made a game,
every scored commit is its e-mail's verified owner's (a claim scores
nothing), the pending counts equal their sets, the claims' two indexes
agree, and every player's commit counts for exactly one day of theirs,
in the time zone they chose (a bad name changing nothing) or the offset
it was first pushed with.

A hypothesis state machine run in a thread; its rules call the store on the
reactor with L{blockingCallFromThread}.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs
import pytest
import pytest_twisted
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.threads import blockingCallFromThread, deferToThread

from julytwisted.errors import (
    Conflict,
    InvalidInput,
    InvalidLink,
    InvalidPayload,
    NotFound,
)
from julytwisted.game import days, scoring
from julytwisted.game.events import Push
from julytwisted.game.games import Game
from julytwisted.game.hooks import parse_github, repository
from julytwisted.game.scoring import builtin_games
from julytwisted.redis_service import RedisClient, RedisService
from julytwisted.store import Listing, Store
from julytwisted.store.ingest import Ingest
from tests.builders import commit, github_payload, sha
from tests.store.test_pending_counts import assert_pending_counts_match
from tests.store.test_store_members import all_commits, assert_boards_match_tally

_T = TypeVar("_T")

GAMES = [game.slug for game in builtin_games(2026)]
#: A game an admin makes at run time, from the clock's start (2026-07-15
#: 12:00) for eighteen hours, with its own points; the machine changes its
#: points, moves its end sooner or later, and ends it early.
SPRINT = Game(
    "Sprint",
    datetime(2026, 7, 15, 12, tzinfo=UTC),
    datetime(2026, 7, 16, 6, tzinfo=UTC),
    commit_points=2,
    first_bonus=3,
)
USERS = ["ada", "bob", "cy"]
EMAILS = [f"{name}@example.com" for name in (*USERS, "dee", "eve")]
PLACES = ["Austin", "Boston", None]
TEAMS = ["Snakes", "Owls", None]
#: Two repositories, each under spellings of its address that are one.
ADDRESSES = [
    [
        "https://github.com/ada/engine",
        "http://www.GitHub.com/Ada/engine.git",
        "https://github.com:443/ADA/engine/?tab=readme#top",
    ],
    ["https://github.com/bob/loom", "https://github.com/Bob/loom/"],
]
OWNERS = [("ada", "engine"), ("bob", "loom")]
#: Moments in J(an)ulython, in Julython (the second after the sprint's first
#: end, and in it once extended, pushed before that end by a clock ahead of
#: the push's; the third more than a day after the clock's start, so from
#: the future until the clock reaches it), in neither, and far ahead.
WHEN = [
    datetime(2026, 1, 15, 12, tzinfo=UTC),
    datetime(2026, 7, 10, 9, 30, tzinfo=UTC),
    datetime(2026, 7, 16, 8, tzinfo=UTC),
    datetime(2026, 7, 31, 23, 59, tzinfo=UTC),
    datetime(2026, 4, 1, tzinfo=UTC),
    datetime(2099, 7, 10, tzinfo=UTC),
]

#: Time zones players choose: two, one spelled in lower case, none, and
#: two that are no zone (refused, changing nothing).
ZONES = [None, "America/Los_Angeles", "asia/tokyo", "", "Mars/Olympus", "+09:00"]

commits = st.builds(
    lambda seed, email, when, minutes, files, offset: attrs.evolve(
        commit(f"c{seed}", email, WHEN[when] + timedelta(minutes=minutes), files=files),
        utc_offset=offset,
    ),
    # Few seeds: the same commit comes again, in other pushes too.
    seed=st.integers(0, 15),
    email=st.sampled_from(EMAILS),
    when=st.integers(0, len(WHEN) - 1),
    minutes=st.integers(0, 3),
    files=st.sampled_from([("main.py",), ("app.js", "lib.py"), ("README",), ()]),
    # The offset its push writes its time in: none, UTC, Los Angeles, Tokyo.
    offset=st.sampled_from([None, 0, -420, 540]),
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


def pushed_to(where: int, spelling: int, with_id: bool) -> Push:
    """
    A push of no commits yet, as GitHub names one of the repositories: by
    one of its spellings, with or without its id (an open event's old
    payloads).
    """
    owner, name = OWNERS[where]
    payload = github_payload(owner=owner, name=name)
    address = ADDRESSES[where][spelling % len(ADDRESSES[where])]
    payload["repository"]["html_url"] = address
    if not with_id:
        del payload["repository"]["id"]
    return parse_github(payload)


#: Days a private board leaves out at each end of its game.
BOARD_DATES = [0, 9]


async def private_board_matches(store: Store, board_id: str) -> None:
    """
    A private board's standings equal the reference tally of its game
    restricted to its members' commits whose own time is in its dates.
    """
    found = await store.private_boards.standings(board_id, fresh=True)
    game = store.game(found.game)
    start, end = (datetime.fromisoformat(t) for t in (found.start, found.end))
    members = {s.username for s in found.standings}
    scored = [
        scoring.ScoredCommit(
            hash=c.hash,
            project=c.project,
            timestamp=datetime.fromisoformat(c.timestamp),
            username=c.username,
            location=None,
            team=None,
            languages=(),
            arrived=datetime.fromisoformat(c.arrived) if c.arrived else None,
            pending=c.pending,
            rejected=c.rejected is not None,
            review=c.review,
        )
        for c in await all_commits(store)
        if c.username in members and start <= datetime.fromisoformat(c.timestamp) < end
    ]
    expected = scoring.tally(scored, game, store.late_grace)["people"]
    assert {s.username: s.points for s in found.standings} == {
        m: expected.get(m, 0) for m in members
    }
    points = [s.points for s in found.standings]
    assert points == sorted(points, reverse=True)
    assert [s.rank for s in found.standings] == list(range(1, len(points) + 1))


async def one_day_each(
    store: Store, redis: RedisClient, username: str, offsets: dict[str, int | None]
) -> None:
    """
    The player's calendar counts each of their commits once, on the day
    its time reads in their zone, else in the offset it was pushed with.
    """
    player = await store.player(username)
    made, cursor = [], None
    while True:
        page = await store.commits(username=username, cursor=cursor, limit=100)
        made += page.models
        if page.next is None:
            break
        cursor = page.next
    indexed = await redis.execute("ZCARD", f"j:player:{username}:commits")
    counts = days.per_day(
        [(c.timestamp, c.utc_offset) for c in made], days.zone_of(player.time_zone)
    )
    assert sum(counts.values()) == len(made) == indexed
    expected: Counter[date] = Counter()
    for c in made:
        assert c.utc_offset == offsets[c.hash], c.hash
        if player.time_zone:
            clock: tzinfo = ZoneInfo(player.time_zone)
        elif c.utc_offset is None:
            clock = UTC
        else:
            clock = timezone(timedelta(minutes=c.utc_offset))
        expected[datetime.fromisoformat(c.timestamp).astimezone(clock).date()] += 1
    assert counts == expected


class StoreMachine(RuleBasedStateMachine):
    store: Store
    redis: RedisService
    clock: Clock
    start: float

    def __init__(self) -> None:
        super().__init__()
        #: The rest of truncated pushes, with their arrival, for completion.
        self.unfinished: list[tuple[Push, datetime]] = []
        wait(lambda: self.redis.client.execute("FLUSHALL"))
        #: The private boards made: id and join code.
        self.boards: list[tuple[str, str]] = []
        #: The UTC offset of each commit's first delivery, which stored it.
        self.offsets: dict[str, int | None] = {}
        #: Each player's time zone, as the store must spell it.
        self.zones: dict[str, str | None] = {}
        self.clock.advance(self.start - self.clock.seconds())
        wait(lambda: self.store.games.create(SPRINT, "admin"))

    def _recount_sprint(self) -> None:
        """The recount job a change of the running sprint queues, run now."""
        wait(lambda: self.store.recount(SPRINT.slug))

    @rule(commit_points=st.integers(0, 4), first_bonus=st.integers(0, 12))
    def change_sprint_points(self, commit_points: int, first_bonus: int) -> None:
        """An admin changes the sprint's points; refused once it has ended."""
        with contextlib.suppress(InvalidInput):
            wait(
                lambda: self.store.games.update(
                    SPRINT.slug,
                    "admin",
                    commit_points=commit_points,
                    first_bonus=first_bonus,
                )
            )
            self._recount_sprint()

    @rule(hours=st.sampled_from([1, 6, 30, 240]))
    def move_sprint_end(self, hours: int) -> None:
        """
        An admin moves the running sprint's end to some hours from now:
        sooner, or later than it was (extended, it takes in the commits
        stored meanwhile that it now holds); refused once it has ended.
        """
        end = self.store.now() + timedelta(hours=hours)
        with contextlib.suppress(InvalidInput):
            wait(lambda: self.store.games.update(SPRINT.slug, "admin", end=end))
            self._recount_sprint()

    @rule(
        seed=st.integers(0, 15),
        email=st.sampled_from(EMAILS),
        hours=st.integers(0, 5),
        where=st.integers(0, 1),
    )
    def extend_past_a_push(self, seed: int, email: str, hours: int, where: int) -> None:
        """
        A commit dated after the sprint's end is pushed before it (its clock
        ahead of the push's by less than the day allowed); then an admin
        extends the running sprint past it, and the recount takes it in.
        """
        now = self.store.now()
        end = self.store.game(SPRINT.slug).end
        made = min(max(end, now) + timedelta(hours=hours), now + timedelta(hours=23))
        pushed = commit(f"c{seed}", email, made)
        delivered = attrs.evolve(pushed_to(where, 0, True), commits=(pushed,))
        result = wait(lambda: self.store.ingest(repository(delivered), delivered, now))
        self._stored(delivered, result.new)
        later = max(end, made) + timedelta(days=10)
        with contextlib.suppress(InvalidInput):
            wait(lambda: self.store.games.update(SPRINT.slug, "admin", end=later))
            self._recount_sprint()

    @rule()
    def end_sprint(self) -> None:
        """An admin ends the sprint now; refused once it has ended."""
        with contextlib.suppress(InvalidInput):
            wait(lambda: self.store.games.end(SPRINT.slug, "admin"))
            self._recount_sprint()

    @rule(
        pushed=st.lists(commits, min_size=1, max_size=4),
        where=st.integers(0, 1),
        spelling=st.integers(0, 2),
        with_id=st.booleans(),
        verify=st.booleans(),
        verdict=st.sampled_from([None, "verify", "reject"]),
    )
    def push(
        self,
        pushed: list[Any],
        where: int,
        spelling: int,
        with_id: bool,
        verify: bool,
        verdict: str | None,
    ) -> None:
        """
        A push to either repository, named as any of its spellings; with
        verification asked for, a registered repository's new commits wait,
        and the job may come at once with the host's word on them.
        """
        unique = {c.hash: c for c in pushed}
        delivered = attrs.evolve(
            pushed_to(where, spelling, with_id), commits=tuple(unique.values())
        )
        result = wait(
            lambda: self.store.ingest(
                repository(delivered), delivered, self.store.now(), verify
            )
        )
        assert result.project == f"gh-{OWNERS[where][0]}-{OWNERS[where][1]}"
        assert set(result.pending) <= set(result.new)
        self._stored(delivered, result.new)
        for hash in result.pending:
            if verdict == "verify":
                wait(lambda hash=hash: self.store.verification.verify(hash))
            elif verdict == "reject":
                wait(lambda hash=hash: self.store.verification.reject(hash, "unknown"))

    @rule(
        pushed=st.lists(commits, min_size=2, max_size=5),
        listed=st.integers(1, 4),
        where=st.integers(0, 1),
    )
    def truncated_push(self, pushed: list[Any], listed: int, where: int) -> None:
        """
        A push that lists only its first commits (GitLab lists 20,
        Bitbucket 5); the rest wait for the completion job.
        """
        unique = tuple({c.hash: c for c in pushed}.values())
        whole = attrs.evolve(pushed_to(where, 0, True), commits=unique)
        cut = attrs.evolve(whole, commits=unique[:listed])
        arrived = self.store.now()
        result = wait(lambda: self.store.ingest(repository(cut), cut, arrived))
        self._stored(cut, result.new)
        rest = attrs.evolve(whole, commits=unique[listed:])
        self.unfinished.append((rest, arrived))

    @rule(pick=st.integers(0, 7), twice=st.booleans())
    def complete(self, pick: int, twice: bool) -> None:
        """
        The completion job ingests what a truncated push left out, as of the
        push's arrival however late it runs; a retried job adds nothing.
        """
        if not self.unfinished:
            return
        rest, arrived = self.unfinished[pick % len(self.unfinished)]
        for _ in range(2 if twice else 1):
            result = wait(lambda: self.store.ingest(repository(rest), rest, arrived))
            self._stored(rest, result.new)

    def _stored(self, delivered: Push, new: tuple[str, ...]) -> None:
        """Remember the offsets of the commits a delivery stored."""
        for c in delivered.commits:
            if c.hash in new:
                self.offsets.setdefault(c.hash, c.utc_offset)

    @rule(username=st.sampled_from(USERS), zone=st.sampled_from(ZONES))
    def set_time_zone(self, username: str, zone: str | None) -> None:
        """A player chooses a time zone, or none; a bad name changes nothing."""
        try:
            wait(lambda: self.store.set_player_time_zone(username, zone))
        except NotFound:
            return
        except InvalidInput:
            assert zone in ("Mars/Olympus", "+09:00")
            return
        self.zones[username] = days.valid_time_zone(zone) if zone else None

    @initialize(both=st.booleans())
    def registered_at_start(self, both: bool) -> None:
        """Ada's repository is added before anything happens; Bob's perhaps."""
        for where in (0, 1) if both else (0,):
            self.register(where)

    @rule(where=st.integers(0, 1))
    def register(self, where: int) -> None:
        """Its owner adds a repository, proven by the host."""
        push = pushed_to(where, 0, True)
        owner = OWNERS[where][0]
        with contextlib.suppress(Conflict):
            wait(
                lambda: self.store.repositories.add(
                    owner, repository(push), "/".join(OWNERS[where]), "sealed",
                    Listing(OWNERS[where][1]),
                )
            )  # fmt: skip

    def _waiting(self, pick: int, seed: int) -> str:
        """One of the commits waiting for their host, else any commit's hash."""
        waiting = [
            hash
            for slug in ("gh-ada-engine", "gh-bob-loom")
            for hash in wait(
                lambda slug=slug: self.redis.client.execute(
                    "ZRANGE", f"j:project:{slug}:pending", 0, -1
                )
            )
        ]
        return waiting[pick % len(waiting)] if waiting else sha(f"c{seed}")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15), again=st.booleans())
    def verify(self, pick: int, seed: int, again: bool) -> None:
        """The host knows the commit: it scores, once (the job may run twice)."""
        hash = self._waiting(pick, seed)
        for _ in range(2 if again else 1):
            wait(lambda: self.store.verification.verify(hash))

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15))
    def reject(self, pick: int, seed: int) -> None:
        """The host does not know the commit: it never scores."""
        hash = self._waiting(pick, seed)
        wait(lambda: self.store.verification.reject(hash, "no such commit"))

    @rule(
        pushed=st.lists(commits, min_size=1, max_size=4),
        where=st.integers(0, 1),
    )
    def push_for_review(self, pushed: list[Any], where: int) -> None:
        """A node with two review days: the new commits that would score wait."""
        unique = {c.hash: c for c in pushed}
        delivered = attrs.evolve(
            pushed_to(where, 0, True), commits=tuple(unique.values())
        )
        reviewing = Ingest(self.redis.client, self.store.games, 30.0, review_days=2)
        result = wait(
            lambda: reviewing.ingest(repository(delivered), delivered, self.store.now())
        )
        assert set(result.held) <= set(result.new)
        self._stored(delivered, result.new)

    def _in_review(self, pick: int, seed: int) -> str:
        """One of the commits held or reported, else any commit's hash."""
        queued = [q.commit.hash for q in wait(lambda: self.store.review.queue())]
        return queued[pick % len(queued)] if queued else sha(f"c{seed}")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15), again=st.booleans())
    def review_accept(self, pick: int, seed: int, again: bool) -> None:
        """An admin accepts a commit (perhaps twice); a rejected one stays so."""
        hash = self._in_review(pick, seed)
        for _ in range(2 if again else 1):
            with contextlib.suppress(Conflict, NotFound):
                wait(lambda: self.store.review.accept(hash, "root"))

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15))
    def review_reject(self, pick: int, seed: int) -> None:
        """An admin rejects a commit; the recount jobs it queues run."""
        hash = self._in_review(pick, seed)
        with contextlib.suppress(NotFound):
            games = wait(lambda: self.store.review.reject(hash, "root", "copied"))
            for game in games:
                wait(lambda game=game: self.store.recount(game))

    @rule(seed=st.integers(0, 15), who=st.sampled_from(USERS))
    def report(self, seed: int, who: str) -> None:
        """A player reports a commit: it scores as before, and is queued."""
        with contextlib.suppress(Conflict, NotFound):
            wait(lambda: self.store.review.report(sha(f"c{seed}"), who, "odd"))

    @rule()
    def release(self) -> None:
        """The release job: the held commits whose days ran out count."""
        wait(lambda: self.store.review.release_due())

    @invariant()
    def held_and_rejected_score_nowhere(self) -> None:
        """A commit held for review, or rejected by an admin, is in no game."""
        for game in (*GAMES, SPRINT.slug):
            scored = wait(
                lambda game=game: self.redis.client.execute(
                    "ZRANGE", f"j:game:{game}:commits", 0, -1
                )
            )
            for hash in scored:
                review = wait(
                    lambda hash=hash: self.redis.client.execute(
                        "HGET", f"j:commit:{hash}", "review"
                    )
                )
                assert review not in ("held", "rejected"), hash

    @rule(seed=st.integers(0, 15), length=st.integers(7, 39), padded=st.booleans())
    def abbreviated(self, seed: int, length: int, padded: bool) -> None:
        """A commit under an abbreviation (or zero-padded) is refused whole."""
        payload = github_payload(f"c{seed}")
        full = payload["commits"][0]["id"]
        payload["commits"][0]["id"] = "0" * 24 + full if padded else full[:length]
        with pytest.raises(InvalidPayload):
            parse_github(payload)

    @rule(hours=st.sampled_from([1, 20, 47, 200, 24 * 40]))
    def time_passes(self, hours: int) -> None:
        """Pushes arrive later: after the grace, July's commits stop scoring."""
        self.clock.advance(hours * 3600)

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

    @rule(game=st.sampled_from([*GAMES, SPRINT.slug]))
    def recount(self, game: str) -> None:
        result = wait(lambda: self.store.recount(game))
        assert result.repaired == (), "the boards had drifted from their commits"

    @rule(
        owner=st.sampled_from(USERS),
        game=st.sampled_from(GAMES),
        dates=st.sampled_from(BOARD_DATES),
    )
    def create_board(self, owner: str, game: str, dates: int) -> None:
        """A player makes a private board over the whole game, or part of it."""
        found = self.store.game(game)
        start = found.start + timedelta(days=dates)
        end = found.end - timedelta(days=dates)
        # NotFound: the owner is no player yet.
        with contextlib.suppress(NotFound):
            board = wait(
                lambda: self.store.private_boards.create(
                    owner, "Board", found, start, end, 2
                )
            )
            self.boards.append((board.id, board.code))

    @rule(username=st.sampled_from(USERS), which=st.integers(0, 3))
    def join_board(self, username: str, which: int) -> None:
        """A player joins a board (capped at 2) by its code, perhaps again."""
        if which < len(self.boards):
            _, code = self.boards[which]
            with contextlib.suppress(Conflict, NotFound):
                wait(
                    lambda: self.store.private_boards.join(
                        username, code, self.store.now()
                    )
                )

    @rule(username=st.sampled_from(USERS), which=st.integers(0, 3))
    def leave_board(self, username: str, which: int) -> None:
        """A member leaves (the owner may not; a stranger is not on it)."""
        if which < len(self.boards):
            board_id, _ = self.boards[which]
            with contextlib.suppress(Conflict, NotFound):
                wait(lambda: self.store.private_boards.leave(username, board_id))

    @invariant()
    def private_boards_equal_the_tally(self) -> None:
        for board_id, _ in self.boards:
            wait(lambda board_id=board_id: private_board_matches(self.store, board_id))

    @invariant()
    def every_commit_counts_for_one_day(self) -> None:
        """
        Each player's zone is the last one accepted, and each of their
        commits counts for exactly one day of theirs: the local date of its
        time in that zone, else in the offset its first delivery gave.
        """
        for user in USERS:
            fields = wait(
                lambda user=user: self.redis.client.execute(
                    "HMGET", f"j:player:{user}", "username", "time_zone"
                )
            )
            if fields[0] is None:
                continue
            assert (fields[1] or None) == self.zones.get(user), user
            wait(
                lambda user=user: one_day_each(
                    self.store, self.redis.client, user, self.offsets
                )
            )

    @invariant()
    def boards_equal_the_tally(self) -> None:
        for game in (*GAMES, SPRINT.slug):
            wait(lambda game=game: assert_boards_match_tally(self.store, game))

    @invariant()
    def pending_and_rejected_score_nowhere(self) -> None:
        """A commit waiting for its host, or refused by it, is in no game."""
        for game in (*GAMES, SPRINT.slug):
            scored = wait(
                lambda game=game: self.redis.client.execute(
                    "ZRANGE", f"j:game:{game}:commits", 0, -1
                )
            )
            for hash in scored:
                pending, rejected = wait(
                    lambda hash=hash: self.redis.client.execute(
                        "HMGET", f"j:commit:{hash}", "pending", "rejected"
                    )
                )
                assert pending != "1" and not rejected, hash

    @invariant()
    def pending_counts_equal_the_set(self) -> None:
        """
        Each game's pending counts by player and by project (what the
        boards show as pending) equal a count from its pending set.
        """
        for game in (*GAMES, SPRINT.slug):
            wait(lambda game=game: assert_pending_counts_match(self.redis.client, game))

    @invariant()
    def one_project_per_repository(self) -> None:
        """Every spelling, with or without the id, made one project each."""
        keys = wait(lambda: self.redis.client.execute("KEYS", "j:project:*"))
        projects = {k for k in keys if k.count(":") == 2}
        assert projects <= {"j:project:gh-ada-engine", "j:project:gh-bob-loom"}

    @invariant()
    def no_game_from_a_commit(self) -> None:
        """A commit dated 2099 makes no game."""
        listed = wait(lambda: self.store.list_games(limit=100))
        assert "julython-2099" not in [g.slug for g in listed.models]

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
async def test_boards_always_equal_a_recount(
    store: Store, redis: RedisService, clock: Clock
) -> None:
    """Any sequence of the rules above keeps every board equal to the tally."""
    StoreMachine.store = store
    StoreMachine.redis = redis
    StoreMachine.clock = clock
    StoreMachine.start = clock.seconds()
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

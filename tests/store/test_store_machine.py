"""
The store under any order of events, against a real redis-server: pushes
(redelivered too, late, under any spelling of their repository's address,
with or without its id, with commits dated after their arrival, and
abbreviated hashes, which parsing refuses; to a registered repository with
verification asked for, so stored pending), commits verified and rejected
by their host (twice, as a retried job would), time passing, players created
(with e-mails an admin vouches for, and with claims), e-mails claimed,
confirmed through their latest link or vouched for by an admin, their
orphans adopted (at once, late, twice as a retried job would, or by the
periodic sweep), moves between locations and teams, team approvals, a game
made at run time whose points change, whose end moves sooner or later
(extended, it takes in the commits stored meanwhile, a commit dated ahead
of its push past the sprint's end), and which ends early (each change
followed by its recount), recounts, private boards made, joined and left,
commits held for review, accepted, rejected and released, and time zones
chosen.
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

Hypothesis runs few distinct examples, each with some rules turned off, so
the machine starts from a world (repositories, players with their own
e-mails, pushes: the initialize rules), steers choices to where something
happens (e-mails with orphans, commits a game waits for, players there
are) and runs the jobs a step queues at once where the product would soon.
Each rule notes what it reached (L{reached}); the test prints the tally.
A rule whose tally stays empty tests nothing.
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
from hypothesis import HealthCheck, event, settings
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
from julytwisted.redis_service import RedisClient, RedisService, all_of
from julytwisted.store import Listing, Store
from julytwisted.store.ingest import Ingest
from tests.builders import commit, github_payload, sha
from tests.store.test_pending_counts import assert_pending_counts_match
from tests.store.test_store_members import all_commits, scored_commit

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
#: Every game the machine checks: the built-in ones and the sprint.
ALL_GAMES = [*GAMES, SPRINT.slug]
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
PROJECTS = [f"gh-{owner}-{name}" for owner, name in OWNERS]
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
    # Mostly in Julython, where commits score, and first the moment in the
    # sprint too (its commits fall out of it as it ends early): hypothesis
    # draws the first choice most often.
    when=st.sampled_from([2, 1, 2, 1, 3, 0, 4, 5]),
    minutes=st.integers(0, 3),
    files=st.sampled_from([("main.py",), ("app.js", "lib.py"), ("README",), ()]),
    # The offset its push writes its time in: none, UTC, Los Angeles, Tokyo.
    offset=st.sampled_from([None, 0, -420, 540]),
)


#: How often each rule did what it is for, in this process's runs.
REACHED: Counter[str] = Counter()


def reached(what: str) -> None:
    """
    Note that a rule did what it is for, as a hypothesis event and in
    L{REACHED} (the test prints it), so that a rule which never reaches its
    state shows up as missing.
    """
    event(what)
    REACHED[what] += 1


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


def each(redis: RedisClient, *commands: tuple[object, ...]) -> list[Any]:
    """
    The replies to C{commands}, sent together and waited for once: the
    invariants read every commit after every step, so one wait for each
    read would be most of the run's time.
    """
    return wait(lambda: all_of(redis.execute(*command) for command in commands))


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
        scored_commit(c)
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


async def boards_match_tally(store: Store, games: list[str]) -> None:
    """
    Every board of each game equals the reference tally of the stored
    commits (as L{assert_boards_match_tally} checks one game, but reading
    the commits and their players once for all the games: it runs after
    every step).
    """
    stored = await all_commits(store)
    usernames = sorted({c.username for c in stored if c.username})
    players = await all_of(store.player(u) for u in usernames)
    teams = {p.team for p in players if p.team}
    approved = {t for t in teams if (await store.detail("teams", t)).approved}
    groups = {
        p.username: (p.location, p.team if p.team in approved else None)
        for p in players
    }
    scored = [
        scored_commit(c, *groups[c.username]) if c.username else scored_commit(c)
        for c in stored
    ]
    pairs = [(slug, board) for slug in games for board in scoring.BOARDS]
    pages = await all_of(store.board(b, g, limit=100) for g, b in pairs)
    for (slug, board), page in zip(pairs, pages, strict=True):
        expected = scoring.tally(scored, store.game(slug), store.late_grace)
        key = {"languages": "name", "people": "username"}.get(board, "slug")
        actual = {getattr(m, key): m.points for m in page.models}
        assert actual == expected[board], (slug, board)


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

    def _recount_sprint(self) -> bool:
        """
        The recount job a change of the running sprint queues, run now.

        @return: whether it changed a board.
        """
        return bool(wait(lambda: self.store.recount(SPRINT.slug)).repaired)

    @rule(commit_points=st.integers(0, 4), first_bonus=st.integers(0, 12))
    def change_sprint_points(self, commit_points: int, first_bonus: int) -> None:
        """An admin changes the sprint's points; refused once it has ended."""
        with contextlib.suppress(InvalidInput):
            _, _, changed = wait(
                lambda: self.store.games.update(
                    SPRINT.slug,
                    "admin",
                    commit_points=commit_points,
                    first_bonus=first_bonus,
                )
            )
            if self._recount_sprint():
                reached("change_sprint_points: rescored the running sprint")
            elif changed:
                reached("change_sprint_points: changed the running sprint")

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
            reached("move_sprint_end: moved the running sprint's end")

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
            if wait(lambda: self.store.recount(SPRINT.slug)).added:
                reached("extend_past_a_push: the recount took a commit in")

    @rule(hours=st.sampled_from([1, 6, 0]))
    def end_sprint(self, hours: int) -> None:
        """
        Some hours on, an admin ends the sprint (before the commits dated
        ahead of their arrival); refused once it has ended.
        """
        self.clock.advance(hours * 3600)
        with contextlib.suppress(InvalidInput):
            wait(lambda: self.store.games.end(SPRINT.slug, "admin"))
            if self._recount_sprint():
                reached("end_sprint: took commits off the boards")
            else:
                reached("end_sprint: ended the running sprint")

    @rule(
        pushed=st.lists(commits, min_size=1, max_size=4),
        where=st.integers(0, 1),
        spelling=st.integers(0, 2),
        with_id=st.booleans(),
        # Verification first: hypothesis favours the first choice.
        verify=st.sampled_from([True, False]),
        verdict=st.sampled_from(["verify", None, "reject"]),
        again=st.booleans(),
    )
    def push(
        self,
        pushed: list[Any],
        where: int,
        spelling: int,
        with_id: bool,
        verify: bool,
        verdict: str | None,
        again: bool,
    ) -> None:
        """
        A push to either repository, named as any of its spellings; with
        verification asked for, a registered repository's new commits wait,
        and the job may come at once with the host's word on them; the
        host may deliver it again at once, storing nothing.

        (Hypothesis picks the rule with the most arguments, then the last
        name, about as often as the one with the fewest: this one, so that
        most steps push.)
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
        if result.new:
            reached("push: stored new commits")
        if len(result.new) < len(unique):
            reached("push: came again, in part or whole")
        if result.pending:
            reached("push: stored pending commits")
        if any(self._owner(hash) for hash in result.pending):
            reached("push: stored a player's commit pending")
        if any(not self._owner(hash) for hash in result.new):
            reached("push: stored an orphan")
        for hash in result.pending:
            if verdict == "verify":
                if wait(lambda hash=hash: self.store.verification.verify(hash)):
                    reached("push: the host's word scored a pending commit")
                    if self._owner(hash):
                        reached("push: the host's word scored a player's commit")
            elif verdict == "reject":
                wait(lambda hash=hash: self.store.verification.reject(hash, "unknown"))
        if again:
            redelivered = wait(
                lambda: self.store.ingest(
                    repository(delivered), delivered, self.store.now(), verify
                )
            )
            assert redelivered.new == (), "a redelivery stored commits again"

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
        if len(unique) > listed:
            reached("truncated_push: left commits out")
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
            if result.new:
                reached("complete: stored what a push left out")

    def _owner(self, hash: str) -> str:
        """The username a commit is credited to, empty for an orphan."""
        owner: str | None = wait(
            lambda: self.redis.client.execute("HGET", f"j:commit:{hash}", "username")
        )
        return owner or ""

    def _stored(self, delivered: Push, new: tuple[str, ...]) -> None:
        """Remember the offsets of the commits a delivery stored."""
        for c in delivered.commits:
            if c.hash in new:
                self.offsets.setdefault(c.hash, c.utc_offset)

    @rule(username=st.sampled_from(USERS), zone=st.sampled_from(ZONES))
    def set_time_zone(self, username: str, zone: str | None) -> None:
        """
        A player (one of those there are, if C{username} is none yet) chooses
        a time zone, or none; a bad name changes nothing.
        """
        username = self._player(username)
        try:
            wait(lambda: self.store.set_player_time_zone(username, zone))
        except NotFound:
            return
        except InvalidInput:
            assert zone in ("Mars/Olympus", "+09:00")
            return
        self.zones[username] = days.valid_time_zone(zone) if zone else None
        reached("set_time_zone: chose a zone")

    @initialize(both=st.booleans())
    def registered_at_start(self, both: bool) -> None:
        """Ada's repository is added before anything happens; Bob's perhaps."""
        for where in (0, 1) if both else (0,):
            self.register(where)

    @initialize(
        players=st.lists(
            st.tuples(
                st.sampled_from(USERS),
                st.sampled_from(PLACES),
                st.sampled_from(TEAMS),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def players_at_start(
        self, players: list[tuple[str, str | None, str | None]]
    ) -> None:
        """
        A player or more signed up, each with their own e-mail, before
        anything happens, so that the first pushes can be theirs (and wait
        for their host as theirs).
        """
        for username, location, team in players:
            email = f"{username}@example.com"
            self.create_player(username, email, location, team, False, False, False)

    @initialize(
        pushes=st.lists(
            st.tuples(
                st.lists(commits, min_size=1, max_size=4),
                st.integers(0, 1),
                st.sampled_from([True, False]),
                st.sampled_from([None, "verify"]),
            ),
            max_size=3,
        )
    )
    def pushed_at_start(
        self, pushes: list[tuple[list[Any], int, bool, str | None]]
    ) -> None:
        """
        Perhaps a push or three come before, between or after the other
        starting steps: commits of players, orphans, some waiting for their
        host, for the rules to act on from the first step.
        """
        for pushed, where, verify, verdict in pushes:
            self.push(pushed, where, 0, True, verify, verdict, False)

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
            reached("register: added a repository")

    def _waiting(self, pick: int, seed: int) -> str:
        """
        One of the commits waiting for their host, those a game waits for
        first (their word makes them score), else any commit's hash.
        """
        counted, every = (
            sorted(set().union(*found))
            for found in (
                each(
                    self.redis.client,
                    *(("ZRANGE", f"j:game:{g}:pending", 0, -1) for g in ALL_GAMES),
                ),
                each(
                    self.redis.client,
                    *(("ZRANGE", f"j:project:{p}:pending", 0, -1) for p in PROJECTS),
                ),
            )
        )
        waiting = counted or every
        return waiting[pick % len(waiting)] if waiting else sha(f"c{seed}")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15), again=st.booleans())
    def verify(self, pick: int, seed: int, again: bool) -> None:
        """The host knows the commit: it scores, once (the job may run twice)."""
        hash = self._waiting(pick, seed)
        for _ in range(2 if again else 1):
            games = wait(lambda: self.store.verification.verify(hash))
            if games:
                reached("verify: scored a pending commit")
                if self._owner(hash):
                    reached("verify: scored a player's commit")
            elif games is not None:
                reached("verify: verified a commit no game holds")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15))
    def reject(self, pick: int, seed: int) -> None:
        """The host does not know the commit: it never scores."""
        hash = self._waiting(pick, seed)
        if wait(lambda: self.store.verification.reject(hash, "no such commit")):
            reached("reject: rejected a pending commit")

    @rule(
        pushed=st.lists(commits, min_size=1, max_size=4),
        where=st.integers(0, 1),
        verdict=st.sampled_from([None, "accept", "reject"]),
    )
    def push_for_review(
        self, pushed: list[Any], where: int, verdict: str | None
    ) -> None:
        """
        A node with two review days: the new commits that would score wait,
        and an admin may look at them at once.
        """
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
        if result.held:
            reached("push_for_review: held commits")
        for hash in result.held:
            if verdict == "accept":
                self._accept(hash, again=False)
            elif verdict == "reject":
                self._reject(hash)

    def _in_review(self, pick: int, seed: int) -> str:
        """One of the commits held or reported, else any commit's hash."""
        queued = [q.commit.hash for q in wait(lambda: self.store.review.queue())]
        return queued[pick % len(queued)] if queued else sha(f"c{seed}")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15), again=st.booleans())
    def review_accept(self, pick: int, seed: int, again: bool) -> None:
        """An admin accepts a commit (perhaps twice); a rejected one stays so."""
        self._accept(self._in_review(pick, seed), again)

    def _accept(self, hash: str, again: bool) -> None:
        for _ in range(2 if again else 1):
            with contextlib.suppress(Conflict, NotFound):
                if wait(lambda: self.store.review.accept(hash, "root")):
                    reached("review_accept: scored a held commit")

    @rule(pick=st.integers(0, 7), seed=st.integers(0, 15))
    def review_reject(self, pick: int, seed: int) -> None:
        """An admin rejects a commit; the recount jobs it queues run."""
        self._reject(self._in_review(pick, seed))

    def _reject(self, hash: str) -> None:
        with contextlib.suppress(NotFound):
            games = wait(lambda: self.store.review.reject(hash, "root", "copied"))
            for game in games:
                wait(lambda game=game: self.store.recount(game))
            if games:
                reached("review_reject: unscored a commit")
            else:
                reached("review_reject: rejected a commit")

    @rule(seed=st.integers(0, 15), who=st.sampled_from(USERS))
    def report(self, seed: int, who: str) -> None:
        """A player reports a commit: it scores as before, and is queued."""
        with contextlib.suppress(Conflict, NotFound):
            wait(lambda: self.store.review.report(sha(f"c{seed}"), who, "odd"))
            reached("report: queued a commit")

    @rule(hours=st.sampled_from([0, 49]))
    def release(self, hours: int) -> None:
        """
        The release job, perhaps some hours on: the held commits whose days
        ran out count.
        """
        self.clock.advance(hours * 3600)
        if wait(lambda: self.store.review.release_due()):
            reached("release: released held commits")

    def _scored(self, *fields: str) -> dict[str, list[str | None]]:
        """The fields of each commit that scores in some game."""
        scored = sorted(
            set().union(
                *each(
                    self.redis.client,
                    *(("ZRANGE", f"j:game:{g}:commits", 0, -1) for g in ALL_GAMES),
                )
            )
        )
        found = each(
            self.redis.client, *(("HMGET", f"j:commit:{h}", *fields) for h in scored)
        )
        return dict(zip(scored, found, strict=True))

    @invariant()
    def held_and_rejected_score_nowhere(self) -> None:
        """A commit held for review, or rejected by an admin, is in no game."""
        for hash, (review,) in self._scored("review").items():
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

    def _orphaned(self, email: str, owned: bool) -> str:
        """
        An e-mail whose commits wait as orphans, owned by a player already
        (for the adoption job) or by none (for a player to verify), chosen
        by C{email}; C{email} itself when there is none.
        """
        redis = self.redis.client
        waiting = each(redis, *(("SCARD", f"j:orphans:{e}") for e in EMAILS))
        owners = each(redis, *(("GET", f"j:email:{e}") for e in EMAILS))
        found = [
            candidate
            for candidate, orphans, owner in zip(EMAILS, waiting, owners, strict=True)
            if orphans and bool(owner) == owned
        ]
        return found[EMAILS.index(email) % len(found)] if found else email

    @rule(
        username=st.sampled_from(USERS),
        email=st.sampled_from(EMAILS),
        location=st.sampled_from(PLACES),
        team=st.sampled_from(TEAMS),
        approve=st.booleans(),
        typed=st.booleans(),
        orphaned=st.sampled_from([True, False]),
    )
    def create_player(
        self,
        username: str,
        email: str,
        location: str | None,
        team: str | None,
        approve: bool,
        typed: bool,
        orphaned: bool,
    ) -> None:
        """
        An admin makes a player (vouched for), or a player signs up (typed),
        perhaps with an e-mail whose orphans wait for its owner; the
        adoption job it queues runs later (L{adopt_orphans}, the sweep).
        """
        if orphaned:
            email = self._orphaned(email, owned=False)
        vouched, claims = ([], [email]) if typed else ([email], [])
        # Conflict: the username or the e-mail is taken, and nothing changed.
        with contextlib.suppress(Conflict):
            wait(
                lambda: self.store.create_player(
                    username, username.title(), vouched, location, team, approve,
                    claims=claims,
                )
            )  # fmt: skip
            reached("create_player: made a player")

    @rule(
        username=st.sampled_from(USERS),
        email=st.sampled_from(EMAILS),
        orphaned=st.sampled_from([True, False]),
        adopt=st.booleans(),
    )
    def add_email(self, username: str, email: str, orphaned: bool, adopt: bool) -> None:
        """
        An admin vouches for a player's e-mail, perhaps one with orphans;
        the adoption job it queues may run at once.
        """
        if orphaned:
            email = self._orphaned(email, owned=False)
        with contextlib.suppress(Conflict, NotFound):
            wait(lambda: self.store.add_email(username, email))
            reached("add_email: vouched for an e-mail")
            if adopt:
                self._adopt_now(email)

    @rule(
        username=st.sampled_from(USERS),
        email=st.sampled_from(EMAILS),
        orphaned=st.sampled_from([True, False]),
    )
    def claim(self, username: str, email: str, orphaned: bool) -> None:
        """A player types an e-mail (perhaps one with orphans): pending."""
        if orphaned:
            email = self._orphaned(email, owned=False)
        with contextlib.suppress(Conflict, NotFound):
            if wait(lambda: self.store.claim_email(username, email)):
                reached("claim: claimed an e-mail")

    @rule(
        username=st.sampled_from(USERS),
        email=st.sampled_from(EMAILS),
        claimed=st.booleans(),
        adopt=st.booleans(),
    )
    def confirm(self, username: str, email: str, claimed: bool, adopt: bool) -> None:
        """
        A link is mailed for a claim, one of those made or any pair, and
        followed; the adoption job it queues may run at once.
        """
        claims = sorted(
            (user, address)
            for user in USERS
            for address in wait(
                lambda user=user: self.redis.client.execute(
                    "HKEYS", f"j:player:{user}:pending"
                )
            )
        )
        if claimed and claims:
            username, email = claims[EMAILS.index(email) % len(claims)]
        nonce = wait(lambda: self.store.claim_nonce(username, email))
        if nonce is None:
            return
        with contextlib.suppress(Conflict, InvalidLink):
            wait(lambda: self.store.confirm_email(username, email, nonce))
            reached("confirm: verified a claim")
            if adopt:
                self._adopt_now(email)

    def _adopt(self, job: Callable[[], Coroutine[Any, Any, int]], what: str) -> None:
        """
        Run an adoption job; note whether it adopted anything, and whether
        that was a commit still waiting (for its host, or for review), which
        moves that commit's pending count to its new owner.
        """
        redis = self.redis.client
        orphans = sorted(
            set().union(*each(redis, *(("SMEMBERS", f"j:orphans:{e}") for e in EMAILS)))
        )
        found = each(
            redis, *(("HMGET", f"j:commit:{h}", "pending", "review") for h in orphans)
        )
        waiting = [
            h
            for h, (pending, review) in zip(orphans, found, strict=True)
            if pending == "1" or review == "held"
        ]
        if wait(job):
            reached(what)
        if any(self._owner(h) for h in waiting):
            reached("an adoption moved a waiting commit to its owner")

    def _adopt_now(self, email: str) -> None:
        """The adoption job an e-mail's verification queues, run at once."""
        self._adopt(
            lambda: self.store.adopt_orphans(email),
            "adopted commits as an e-mail was verified",
        )

    @rule(email=st.sampled_from(EMAILS), orphaned=st.booleans())
    def adopt_orphans(self, email: str, orphaned: bool) -> None:
        """
        The job a verified e-mail queues, for an e-mail whose orphans wait
        or any; it may run late, or twice.
        """
        if orphaned:
            email = self._orphaned(email, owned=True)
        self._adopt(
            lambda: self.store.adopt_orphans(email), "adopt_orphans: adopted commits"
        )

    @rule()
    def periodic_jobs(self) -> None:
        """
        The scheduler's jobs come round: the sweep adopts every owned
        e-mail's orphans, the held commits whose days ran out are released,
        and the nightly recount of the running games finds nothing to
        repair.  (Hypothesis picks the rule with the fewest arguments most
        often: this one, cheap and touching every family.)
        """
        self._adopt(self._sweep, "periodic_jobs: the sweep adopted commits")
        if wait(lambda: self.store.review.release_due()):
            reached("periodic_jobs: released held commits")
        now = self.store.now()
        for game in ALL_GAMES:
            found = self.store.game(game)
            if found.start <= now < found.end:
                result = wait(lambda game=game: self.store.recount(game))
                assert result.repaired == (), "the boards had drifted"

    async def _sweep(self) -> int:
        return (await self.store.adopt_all_orphans())["adopted"]

    @rule(username=st.sampled_from(USERS), location=st.sampled_from(PLACES))
    def move_location(self, username: str, location: str | None) -> None:
        with contextlib.suppress(NotFound):
            if wait(lambda: self.store.move_member(username, "locations", location)):
                reached("move_location: moved points")

    @rule(
        username=st.sampled_from(USERS),
        team=st.sampled_from(TEAMS),
        approve=st.booleans(),
    )
    def move_team(self, username: str, team: str | None, approve: bool) -> None:
        with contextlib.suppress(NotFound):
            if wait(lambda: self.store.move_member(username, "teams", team, approve)):
                reached("move_team: moved points")

    @rule(team=st.sampled_from(["snakes", "owls"]), approved=st.booleans())
    def approve_team(self, team: str, approved: bool) -> None:
        with contextlib.suppress(NotFound):
            if wait(lambda: self.store.approve_team(team, approved)):
                reached("approve_team: moved points")

    @rule(game=st.sampled_from([*GAMES, SPRINT.slug]))
    def recount(self, game: str) -> None:
        result = wait(lambda: self.store.recount(game))
        assert result.repaired == (), "the boards had drifted from their commits"
        if result.commits:
            reached("recount: recounted scored commits")

    def _player(self, username: str, besides: str = "") -> str:
        """
        C{username} if they are a player (other than C{besides}), else one of
        the players there are.
        """
        found = each(self.redis.client, *(("EXISTS", f"j:player:{u}") for u in USERS))
        players = [
            user
            for user, there in zip(USERS, found, strict=True)
            if there and user != besides
        ]
        if username in players or not players:
            return username
        return players[USERS.index(username) % len(players)]

    @rule(
        owner=st.sampled_from(USERS),
        game=st.sampled_from(GAMES),
        dates=st.sampled_from(BOARD_DATES),
        joiner=st.sampled_from([*USERS, None]),
    )
    def create_board(
        self, owner: str, game: str, dates: int, joiner: str | None
    ) -> None:
        """
        A player (one of those there are, if C{owner} is none yet) makes a
        private board over the whole game, or part of it, and perhaps shares
        its code with a player who joins at once.
        """
        owner = self._player(owner)
        found = self.store.game(game)
        start = found.start + timedelta(days=dates)
        end = found.end - timedelta(days=dates)
        # NotFound: the owner is no player yet; Conflict: they own as many
        # boards as one may.
        with contextlib.suppress(Conflict, NotFound):
            board = wait(
                lambda: self.store.private_boards.create(
                    owner, "Board", found, start, end, 2
                )
            )
            self.boards.append((board.id, board.code))
            reached("create_board: made a board")
            if joiner:
                self.join_board(joiner, len(self.boards) - 1)

    @rule(username=st.sampled_from(USERS), which=st.integers(0, 3))
    def join_board(self, username: str, which: int) -> None:
        """
        A player (one of those there are, if C{username} is none yet) joins a
        board (capped at 2) by its code, perhaps again.
        """
        if self.boards:
            board_id, code = self.boards[which % len(self.boards)]
            board = wait(lambda: self.store.private_boards.board(board_id))
            username = self._player(username, besides=board.owner)
            with contextlib.suppress(Conflict, NotFound):
                joined = wait(
                    lambda: self.store.private_boards.join(
                        username, code, self.store.now()
                    )
                )
                if joined.members > board.members:
                    reached("join_board: joined a board")

    @rule(username=st.sampled_from(USERS), which=st.integers(0, 3))
    def leave_board(self, username: str, which: int) -> None:
        """A member leaves (the owner may not; a stranger is not on it)."""
        if self.boards:
            board_id, _ = self.boards[which % len(self.boards)]
            with contextlib.suppress(Conflict, NotFound):
                wait(lambda: self.store.private_boards.leave(username, board_id))
                reached("leave_board: left a board")

    @invariant()
    def private_boards_equal_the_tally(self) -> None:
        wait(
            lambda: all_of(private_board_matches(self.store, b) for b, _ in self.boards)
        )

    @invariant()
    def every_commit_counts_for_one_day(self) -> None:
        """
        Each player's zone is the last one accepted, and each of their
        commits counts for exactly one day of theirs: the local date of its
        time in that zone, else in the offset its first delivery gave.
        """
        redis = self.redis.client
        found = each(
            redis, *(("HMGET", f"j:player:{u}", "username", "time_zone") for u in USERS)
        )
        players = [user for user, (name, _) in zip(USERS, found, strict=True) if name]
        for user, (name, zone) in zip(USERS, found, strict=True):
            if name is not None:
                assert (zone or None) == self.zones.get(user), user
        wait(
            lambda: all_of(
                one_day_each(self.store, redis, u, self.offsets) for u in players
            )
        )

    @invariant()
    def boards_equal_the_tally(self) -> None:
        wait(lambda: boards_match_tally(self.store, ALL_GAMES))

    @invariant()
    def pending_and_rejected_score_nowhere(self) -> None:
        """A commit waiting for its host, or refused by it, is in no game."""
        for hash, (pending, rejected) in self._scored("pending", "rejected").items():
            assert pending != "1" and not rejected, hash

    @invariant()
    def pending_counts_equal_the_set(self) -> None:
        """
        Each game's pending counts by player and by project (what the
        boards show as pending) equal a count from its pending set.
        """
        redis, games = self.redis.client, ALL_GAMES
        wait(lambda: all_of(assert_pending_counts_match(redis, g) for g in games))
        if any(each(redis, *(("HLEN", f"j:game:{g}:pending:people") for g in games))):
            reached("a player has commits pending")

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
        redis = self.redis.client
        hashes = wait(lambda: redis.execute("ZRANGE", "j:commits", 0, -1))
        found = each(
            redis, *(("HMGET", f"j:commit:{h}", "username", "email") for h in hashes)
        )
        credited = [(h, u, e) for h, (u, e) in zip(hashes, found, strict=True) if u]
        owners = each(redis, *(("GET", f"j:email:{e}") for _, _, e in credited))
        for (hash, username, email), owner in zip(credited, owners, strict=True):
            assert owner == username, (hash, email, username, owner)

    @invariant()
    def claims_indexed_both_ways(self) -> None:
        """A player's pending e-mails are exactly the e-mails they are claiming."""
        redis = self.redis.client
        pending = each(redis, *(("HKEYS", f"j:player:{u}:pending") for u in USERS))
        claims = each(redis, *(("SMEMBERS", f"j:email-claims:{e}") for e in EMAILS))
        by_player = {
            (user, email)
            for user, emails in zip(USERS, pending, strict=True)
            for email in emails
        }
        by_email = {
            (user, email)
            for email, users in zip(EMAILS, claims, strict=True)
            for user in users
        }
        assert by_player == by_email
        owners = each(redis, *(("GET", f"j:email:{e}") for _, e in sorted(by_player)))
        for (user, _), owner in zip(sorted(by_player), owners, strict=True):
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

    REACHED.clear()
    await deferToThread(
        run_state_machine_as_test,
        StoreMachine,
        settings=settings(
            # Hypothesis turns rules off at random in each run (swarm
            # testing) and makes most runs copies of a few, so more, shorter
            # runs reach more states whose rules must all be on: 75 of 20
            # steps reached about what 50 of 30 did, in the time of 50 of 25.
            max_examples=75,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # What the rules reached, for -s or -rP: --hypothesis-show-statistics
    # reports only tests under @given, not a machine run in a thread.
    print(
        "reached:", *(f"{n:5} {what}" for what, n in sorted(REACHED.items())), sep="\n"
    )

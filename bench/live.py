"""
The live feed under load: N websocket subscribers in separate client
processes, commits posted to the webhook at a steady rate, and the time from
each POST to its receipt by the last subscriber; then the memory each idle
watcher costs a server.

Four servers fan out the same commits in the same run, taking turns, each
in a process of its own started for each phase: julython's /live (a node
of its own, with its Redis subscription and coalesced frames), two peer
broadcast servers (L{live_peers}: the C{websockets} library's and
Tornado's), which subscribe to the same Redis channel and send every entry
to every client, one frame each, and the floor (a loop of bare C{send()}s,
no library), which is shown beside the others but judged by no target.
The webhook (another julython node), the ingest script and Redis are the
same for all; with C{--one-node}, julython's feed is the node that answers
the webhook too.

The subscribers are L{live_clients}' processes, cheap on purpose.  A phase
in which processes the benchmark did not start (or the host, stealing the
machine's time) took more than C{--disturbed} of a core is measured again,
twice at most, whichever server it measured.

    .venv/bin/python bench/live.py [--quick] [--subscribers 100,1000,5000]
        [--heavy 1000:200] [--big 10000] [--memory 1000] [--rounds 3]
        [--disturbed 0.1] [--one-node]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    LOOPBACK,
    BenchError,
    difference_intervals,
    free_port,
    github_payload,
    machine,
    memory,
    percentile,
    print_tail,
    raise_on_sigterm,
    redis_call,
    start_redis,
    start_service,
    stop_process,
)
from live_clients import PER_PROCESS, Clients
from live_cpu import CPU, Unread
from live_published import Published

from julytwisted.live import REPLAY_TAIL

_TOKEN = "bench-token"
_HERE = Path(__file__).resolve().parent


#: The servers' names in the table, where not "KIND broadcast".
_NAMES = {"floor": "floor: bare sends"}

#: A reference shown in the latency rows, not a peer the targets compare.
FLOOR = _NAMES["floor"]


class Server(NamedTuple):
    """A server under measurement: its name, port, path and process."""

    name: str
    port: int
    path: str
    process: subprocess.Popen[Any]


# The servers


def _where(server: Server) -> str:
    return f"{LOOPBACK}:{server.port}{server.path}"


def start_peer(
    stack: contextlib.ExitStack, kind: str, redis_socket: Path, deflate: bool = False
) -> Server:
    """Start a peer of L{live_peers} in its own process, until C{stack} ends."""
    port = free_port()
    argv = [sys.executable, str(_HERE / "live_peers.py"), kind, str(port)]
    argv += [str(redis_socket)] + (["--deflate"] if deflate else [])
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    stack.callback(stop_process, process)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise BenchError(f"the {kind} peer did not start")
    return Server(_NAMES.get(kind, f"{kind} broadcast"), port, "/", process)


def start_julython(
    stack: contextlib.ExitStack, redis_socket: Path, directory: Path, *options: str
) -> Server:
    """Start C{twistd -n julython}, its live feed unlimited, until C{stack} ends."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        url = start_service(
            stack,
            redis_socket,
            directory,
            _TOKEN,
            options=("--live-ip-limit", "100000", "--live-ping", "0", *options),
            started=started,
        )
    except BenchError:
        print_tail(directory / "twistd.log")
        raise
    port = int(url.rsplit(":", 1)[1])
    return Server("julython /live", port, "/live?channels=global", started[0])


class Servers:
    """
    Starts each server measured fresh for each phase, alone beside the
    webhook's node: an idle server subscribed to the same channel would be
    woken by every commit too, and Redis writes a message to the channel's
    subscribers newest first, so a server started later would get each
    commit before the one measured, and take a core from it meanwhile.
    A fresh server also starts every phase from the same state, whatever
    the phases before it left.
    """

    def __init__(
        self, redis_socket: Path, directory: Path, hook: Server, one_node: bool
    ) -> None:
        """
        @param hook: the julython node the commits are posted to.
        @param one_node: whether julython's feed is C{hook} itself.
        """
        self._redis_socket = redis_socket
        self._directory = directory
        self._hook = hook
        self._one_node = one_node
        self._started = 0

    def fresh(
        self, kind: str, stack: contextlib.ExitStack, deflate: bool = False
    ) -> Server:
        """Start a server of C{kind}, until C{stack} ends."""
        if kind != "julython":
            return start_peer(stack, kind, self._redis_socket, deflate)
        self._started += 1
        where = self._directory / f"feed-{self._started}"
        options = ("--live-deflate",) if deflate else ()
        return start_julython(stack, self._redis_socket, where, *options)

    def feed(self, kind: str, stack: contextlib.ExitStack) -> Server:
        """@return: the server of C{kind} for a row of latencies."""
        if kind == "julython" and self._one_node:
            return self._hook
        return self.fresh(kind, stack)


# One measurement


class _Poster:
    """
    Posts pushes over a kept-alive connection per thread, their bodies
    made beforehand: urllib's new connection and request objects for each
    cost the poster about 2 ms of CPU a push, taken from the 2 cores that
    the server measured and its clients share.
    """

    _HEADERS = {"Content-Type": "application/json", "X-GitHub-Event": "push"}

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self._host, self._port = parsed.hostname or LOOPBACK, parsed.port
        self._local = threading.local()

    def post(self, body: bytes) -> None:
        """Post one push; a connection the server closed is opened again."""
        for attempt in (1, 2):
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self._host, self._port)
                self._local.connection = connection
            try:
                connection.request("POST", "/api/v1/github", body, self._HEADERS)
                response = connection.getresponse()
                reply = response.read()
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
                continue
            if response.status != 201:
                raise BenchError(f"the webhook answered {response.status}: {reply!r}")
            return


def _push(hashes: Sequence[str]) -> bytes:
    """@return: the body of a GitHub push of one commit per hash."""
    return json.dumps(github_payload(hashes)).encode()


def _seed_feed(url: str) -> None:
    """
    Fill the feed's last L{REPLAY_TAIL} entries before the first phase, so
    that every phase's subscribers are replayed them on connecting, as a
    page's watcher is, whichever phase comes first.
    """
    _Poster(url).post(_push([_sha("seed", i) for i in range(REPLAY_TAIL)]))


#: Seconds of commits posted before each phase's measured ones, at the
#: phase's rate, under a tag of their own ("~" begins no server's tag).
WARM_UP = 1.0

#: What marks a phase's round in its tag, on each try: a tag and eight
#: digits make a hash's 20 bytes (L{_sha}), so it has no room for more.
_TRIES = "kxy"

#: How many times at most a phase disturbed by load from outside the
#: benchmark is measured again (L{Setting.disturbed}).
AGAIN = len(_TRIES) - 1


def _sha(tag: str, i: int) -> str:
    return f"{tag}{i:08d}".encode().hex()[:40].ljust(40, "0")


def _post_commits(url: str, rate: float, seconds: float, tag: str) -> dict[str, float]:
    """
    Post one commit a push at C{rate} a second, from a few threads so that
    a slow answer does not slow the schedule.

    @return: each commit's hash and when its POST was sent.
    """
    posted: dict[str, float] = {}
    poster = _Poster(url)
    hashes = [_sha(tag, i) for i in range(int(rate * seconds))]
    pushes = [(sha, _push([sha])) for sha in hashes]

    def post(sha: str, body: bytes) -> None:
        posted[sha] = time.time()
        poster.post(body)

    start = time.time()
    with ThreadPoolExecutor(8) as pool:
        futures = []
        for i, (sha, body) in enumerate(pushes):
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(post, sha, body))
        for future in futures:
            future.result()
    return dict(sorted(posted.items(), key=lambda item: item[1]))


class Setting(NamedTuple):
    """What every phase of a run shares."""

    #: The webhook's base URL.
    url: str
    #: Client processes, at least.
    processes: int
    #: How long commits are posted, per row and server.
    seconds: float
    #: The phases a row's time is cut into for each server, taking turns.
    rounds: int
    #: The processes besides the server and its clients whose CPU each
    #: phase shows, by name (the webhook's twistd, Redis, this one).
    others: dict[str, int]
    #: Where the order the feed published the commits in is read.
    published: Published
    #: Where py-spy's profiles of each server go, one file a phase, if given.
    profiles: Path | None
    #: The most CPU, in cores, that processes outside the benchmark may use
    #: in a phase, with what the host steals, before it is measured again
    #: (L{AGAIN} times at most; see L{CPU.disturbance}).
    disturbed: float
    #: Per server, the phases measured again for that.
    again: dict[str, int]


class Phase(NamedTuple):
    """What one phase's subscribers received, and what it cost whom."""

    #: Each posted commit's hash and when its POST was sent.
    posted: dict[str, float]
    #: Per hash, the latest first receipt and how many subscribers got it.
    got: dict[str, list[float]]
    clients: Clients
    cpu: CPU
    queues: Unread


def _profile(
    server: Server, tag: str, setting: Setting
) -> subprocess.Popen[Any] | None:
    """
    Start py-spy on the server for as long as the commits are posted,
    sampling it (without pausing it) into a file of collapsed stacks.
    """
    if setting.profiles is None:
        return None
    out = setting.profiles / f"{tag}.txt"
    argv = [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking"]
    argv += ["--pid", str(server.process.pid), "--format", "raw", "--output", str(out)]
    argv += ["--duration", str(round(setting.seconds / setting.rounds))]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_phase(
    server: Server, subscribers: int, rate: float, tag: str, setting: Setting
) -> Phase:
    """
    Connect the subscribers, post the commits, and collect what each
    subscriber received, measuring each process's CPU while the commits
    are posted.

    @param tag: begins the phase's commit hashes (hex-encoded).
    """
    prefix = tag.encode().hex()
    others = {k: p for k, p in setting.others.items() if p != server.process.pid}
    where = _where(server)
    with Clients(where, subscribers, setting.processes, prefix=prefix) as clients:
        time.sleep(1.0)
        cpu = CPU(
            {
                "server": [server.process.pid],
                "clients": [c.pid for c in clients.children],
                **{name: [pid] for name, pid in others.items()},
            }
        )
        # Unmeasured, so that whichever server a row measures first is not
        # the one to meet the phase's new connections and cold paths.
        _post_commits(setting.url, rate, WARM_UP, f"~{tag}")
        queues = Unread(server.port)
        spy = _profile(server, tag, setting)
        cpu.start()
        queues.start()
        seconds = setting.seconds / setting.rounds
        posted = _post_commits(setting.url, rate, seconds, tag)
        cpu.stop()
        queues.stop()
        if spy is not None:
            spy.wait()
        # Posted once every other was acknowledged, so published after them
        # all: a subscriber that has it has had every other it will get.
        last = _sha(tag, 99999999)
        _Poster(setting.url).post(_push([last]))
        clients.tell(json.dumps(setting.published.commits(prefix, last)))
        got = clients.results()
    return Phase(posted, got, clients, cpu, queues)


class Measured(NamedTuple):
    """What one phase measured of one server, to be pooled with its others."""

    #: The cores processes outside the benchmark, and the host, took meanwhile.
    disturbance: float

    #: Each commit's latency to its last subscriber, ms.
    latencies: list[float]
    #: Commits posted, and the seconds from the first POST to the last.
    posted: int
    posting: float
    #: Deliveries, and the seconds from the first POST to the last receipt.
    delivered: int
    span: float
    missing: int
    repeated: int


def measure(
    server: Server, subscribers: int, rate: float, tag: str, setting: Setting
) -> Measured:
    """Run a phase (L{run_phase}); print where the CPU and the time went."""
    phase = run_phase(server, subscribers, rate, tag, setting)
    posted, got, clients = phase.posted, phase.got, phase.clients
    if clients.closed:
        print(f"  ({clients.closed} subscribers closed by the server)", file=sys.stderr)
    latencies = []
    delivered, missing = 0, clients.gaps
    for h, when in posted.items():
        last, n = got.get(h, [0.0, 0])
        delivered += int(n)
        missing += subscribers - int(n)
        if n:
            latencies.append((last - when) * 1000)
    out = setting.published.when
    reached = [h for h in posted if got.get(h, [0.0, 0])[1] and h in out]
    fanout = [(got[h][0] - out[h]) * 1000 for h in reached]
    shared = [(out[h] - posted[h]) * 1000 for h in reached]
    finished = max((got[h][0] for h in posted if h in got), default=0.0)
    times = list(posted.values())
    per = clients.reads / max(delivered, 1)
    print(
        f"{phase.cpu.line()}\n  {phase.queues.line()}; reads per delivery {per:.2f}"
        f"\n  from POST to publish (the webhook's, the same for all), ms: p50"
        f" {percentile(shared, 50):.1f}, p99 {percentile(shared, 99):.1f}"
        f"\n  from publish to the last subscriber, ms: p50"
        f" {percentile(fanout, 50):.1f}, p99 {percentile(fanout, 99):.1f}",
        file=sys.stderr,
    )
    return Measured(
        disturbance=phase.cpu.disturbance,
        latencies=latencies,
        posted=len(times),
        posting=times[-1] - times[0],
        delivered=delivered,
        span=max(finished - min(times), 1e-3),
        missing=missing,
        repeated=clients.repeats,
    )


def pooled(phases: Sequence[Measured]) -> dict[str, float]:
    """
    @return: the deliveries per second, latency percentiles (ms), and the
        deliveries missing and repeated, of one server's phases of a row
        taken together.
    """
    latencies = [ms for phase in phases for ms in phase.latencies]
    posting = sum(phase.posting for phase in phases)
    return {
        "commits/s": sum(p.posted - 1 for p in phases) / max(posting, 1e-3),
        "deliveries/s": sum(p.delivered for p in phases) / sum(p.span for p in phases),
        "p50 ms": percentile(latencies, 50),
        "p99 ms": percentile(latencies, 99),
        "max ms": max(latencies, default=float("nan")),
        "missing": sum(p.missing for p in phases),
        "repeated": sum(p.repeated for p in phases),
    }


def memory_per_watcher(
    server: Server, watchers: int, processes: int, deflate: bool
) -> float:
    """
    @return: the server's RSS with C{watchers} idle watchers (each replayed
        what the feed holds) minus its RSS with none, divided by C{watchers},
        in bytes.  A few watchers come and go first, so that what the first
        connection alone loads is not counted.
    """
    with Clients(_where(server), 10, 1, deflate) as warm:
        time.sleep(0.5)
        warm.tell("quit")
    time.sleep(1.0)
    before = memory(server.process.pid)
    with Clients(_where(server), watchers, processes, deflate) as clients:
        time.sleep(2.0)
        after = memory(server.process.pid)
        clients.tell("quit")
    return (after - before) / watchers


HEADER = (
    f"{'server':<22}{'N':>6}{'commits/s':>10}{'deliveries/s':>14}"
    f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'missing':>9}{'repeated':>9}"
)


def _row(name: str, n: int, r: dict[str, float]) -> str:
    return (
        f"{name:<22}{n:>6}{r['commits/s']:>10.1f}{r['deliveries/s']:>14.0f}"
        f"{r['p50 ms']:>9.1f}{r['p99 ms']:>9.1f}{r['max ms']:>9.1f}"
        f"{r['missing']:>9.0f}{r['repeated']:>9.0f}"
    )


Results = dict[tuple[int, float], dict[str, dict[str, float]]]
"""Each row's figures, by (subscribers, rate) and server."""

Samples = dict[tuple[int, float], dict[str, list[float]]]
"""Each row's latencies (ms), by (subscribers, rate) and server."""


def latency_rows(
    servers: Servers,
    kinds: Sequence[str],
    sizes: Sequence[tuple[int, float]],
    setting: Setting,
    results: Results,
    samples: Samples,
) -> None:
    """
    Measure and print one row per kind of server and (subscribers, rate).

    A row's time is cut into L{Setting.rounds} phases per server, and the
    servers take turns, each round beginning one server later: the shared
    path (the webhook's node, Redis, the poster) drifts from one phase to
    the next by more than the servers differ at 100 subscribers, and so
    each server meets every part of the row, and each place in the order.
    """
    for n, rate in sizes:
        print(f"-- {n} subscribers, {rate:g} commits/s", flush=True)
        phases: dict[str, list[Measured]] = {}
        for k in range(setting.rounds):
            turn = k % len(kinds)
            for kind in [*kinds[turn:], *kinds[:turn]]:
                name, measured = _undisturbed(servers, kind, n, rate, k, setting)
                phases.setdefault(name, []).append(measured)
        for name, measured_phases in phases.items():
            r = pooled(measured_phases)
            results.setdefault((n, rate), {})[name] = r
            samples.setdefault((n, rate), {})[name] = [
                ms for phase in measured_phases for ms in phase.latencies
            ]
            print(_row(name, n, r), flush=True)


def _undisturbed(
    servers: Servers, kind: str, n: int, rate: float, k: int, setting: Setting
) -> tuple[str, Measured]:
    """
    Measure one phase of a server, fresh, again while processes outside the
    benchmark (and the host, stealing) took more than L{Setting.disturbed}
    of a core in it, L{AGAIN} times at most: such a burst lands on
    whichever server is measured, and at 100 subscribers the servers differ
    by less than one moves a phase's p99.  Every try's figures are printed.

    @return: the server's name, and what the last try measured.
    """
    attempt = 0
    while True:
        with contextlib.ExitStack() as own:
            server = servers.feed(kind, own)
            if setting.rounds > 1 or attempt:
                print(
                    f"  {server.name}, round {k + 1} of {setting.rounds}"
                    + (f", try {attempt + 1}" if attempt else "")
                    + ":",
                    file=sys.stderr,
                )
            tag = f"{server.name[0]}{n}r{rate:g}{_TRIES[attempt]}{k}"
            measured = measure(server, n, rate, tag, setting)
        if measured.disturbance <= setting.disturbed or attempt == AGAIN:
            return server.name, measured
        setting.again[server.name] = setting.again.get(server.name, 0) + 1
        print(
            f"  disturbed: outside the benchmark {measured.disturbance:.2f} of a"
            f" core (over {setting.disturbed:g}); measured again",
            file=sys.stderr,
        )
        attempt += 1


def verdicts(results: Results, samples: Samples, args: argparse.Namespace) -> list[str]:
    """
    @return: the issue's targets, each with the figures it rests on and
        whether this run met it.
    """
    lines = []
    ours = "julython /live"
    big = set(_sizes(args.big, args.rate))
    for (n, rate), by in results.items():
        if ours not in by:
            continue
        mine = by[ours]
        heavy = rate > args.rate
        for peer, theirs in by.items():
            if peer in (ours, FLOOR):
                continue
            if heavy:
                lines.append(_throughput(n, rate, mine, theirs, peer))
            else:
                ok = (
                    mine["p50 ms"] <= theirs["p50 ms"]
                    and mine["p99 ms"] <= theirs["p99 ms"]
                    and not mine["missing"]
                    and not mine["repeated"]
                )
                lines.append(
                    f"{n} at {rate:g}/s: p50 {mine['p50 ms']:.1f} vs"
                    f" {theirs['p50 ms']:.1f}, p99 {mine['p99 ms']:.1f} vs"
                    f" {theirs['p99 ms']:.1f} ({peer}): {'met' if ok else 'NOT met'}"
                    + _noise(samples[n, rate][ours], samples[n, rate][peer])
                )
        if FLOOR in by:
            floor = by[FLOOR]
            lines.append(
                f"{n} at {rate:g}/s: p50 {mine['p50 ms']:.1f} vs"
                f" {floor['p50 ms']:.1f}, p99 {mine['p99 ms']:.1f} vs"
                f" {floor['p99 ms']:.1f} (the floor, no target)"
                + _noise(samples[n, rate][ours], samples[n, rate][FLOOR])
            )
        if (n, rate) in big:
            ok = mine["p99 ms"] < 250 and not (mine["missing"] or mine["repeated"])
            lines.append(
                f"{n} at {rate:g}/s: p99 {mine['p99 ms']:.1f} ms (target < 250):"
                f" {'met' if ok else 'NOT met'}"
            )
    return lines


def _noise(ours: list[float], theirs: list[float]) -> str:
    """
    @return: how far apart julython's and a peer's p50 and p99 could be by
        the luck of this run's samples alone (a bootstrap's 95 % interval of
        each difference, julython's minus the peer's), and whether each
        difference is ahead, behind or within that luck.
    """
    parts = []
    ps = (50, 99)
    for p, (low, high) in zip(ps, difference_intervals(ours, theirs, ps), strict=True):
        if high < 0:
            side = "ahead"
        elif low > 0:
            side = "behind"
        else:
            side = "level"
        parts.append(f"p{p} {side} ({low:+.1f} to {high:+.1f} ms)")
    return "; 95 % of resamples: " + ", ".join(parts)


def _throughput(
    n: int, rate: float, mine: dict[str, float], theirs: dict[str, float], peer: str
) -> str:
    """
    @return: the verdict on julython's deliveries a second against a peer's
        (at least twice), or, when the commits posted were too few for any
        server to deliver twice what the peer did, that the row cannot tell.
    """
    ratio = mine["deliveries/s"] / max(theirs["deliveries/s"], 1e-9)
    offered = n * mine["commits/s"]
    clean = not (mine["missing"] or mine["repeated"])
    verdict = "met" if ratio >= 2 and clean else "NOT met"
    if verdict != "met" and offered < 2 * theirs["deliveries/s"]:
        share = theirs["deliveries/s"] / offered
        mine_share = mine["deliveries/s"] / offered
        verdict = (
            f"cannot tell at this rate: the peer delivered {share:.0%} of the"
            f" {offered:,.0f} a second posted, julython {mine_share:.0%}"
        )
    return (
        f"{n} at {rate:g}/s: deliveries/s {ratio:.2f} x {peer} (target >= 2): {verdict}"
    )


def memory_rows(servers: Servers, args: argparse.Namespace) -> None:
    """
    Measure and print the memory each idle watcher costs, on fresh servers
    (a server that has served before reuses what it freed), with and
    without permessage-deflate.
    """
    n = args.memory
    print(f"\nmemory per idle watcher: (RSS with {n} watchers - RSS with none) / {n}")
    print(f"{'server':<22}{'deflate':>8}{'KiB/watcher':>13}")
    for kind in args.servers:
        if kind == "floor":
            continue  # It has no watchers: only sockets.
        for deflate in (False, True):
            with contextlib.ExitStack() as own:
                server = servers.fresh(kind, own, deflate)
                size = memory_per_watcher(server, n, args.processes, deflate)
            print(
                f"{server.name:<22}{'on' if deflate else 'off':>8}{size / 1024:>13.1f}",
                flush=True,
            )


def _sizes(text: str, rate: float) -> list[tuple[int, float]]:
    """@return: C{N} or C{N:RATE} items, comma-separated, with their rates."""
    sizes = []
    for item in filter(None, text.split(",")):
        n, _, r = item.partition(":")
        sizes.append((int(n), float(r) if r else rate))
    return sizes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--subscribers", default="100,1000,5000", help="rows of every server")
    add("--rate", type=float, default=50, help="commits per second")
    add(
        "--heavy",
        default="1000:200,1000:600",
        help="N:RATE rows of every server (deliveries a second)",
    )
    add("--big", default="10000", help="rows of julython alone (N or N:RATE)")
    add("--memory", type=int, default=1000, help="idle watchers (0: skip)")
    add("--seconds", type=float, default=20, help="per row and server")
    add(
        "--rounds",
        type=int,
        default=3,
        help="phases each --subscribers row is cut into, the servers taking turns",
    )
    add("--processes", type=int, default=4, help="client processes, at least")
    add(
        "--disturbed",
        type=float,
        default=0.1,
        help="cores that processes outside the benchmark (and the host) may take"
        f" in a phase before it is measured again ({AGAIN} times at most)",
    )
    add(
        "--servers",
        default="julython,websockets,tornado,floor",
        help="the floor is in the --subscribers rows only",
    )
    add(
        "--one-node",
        action="store_true",
        help="julython's feed answers the webhook too, in the same process",
    )
    add("--quick", action="store_true", help="100 and 1000, 4 s, 1 round, no 10,000")
    add("--py-spy", type=Path, help="profile each server in each phase into DIR")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.seconds, args.big = "100,1000", 4.0, ""
        args.rounds = 1
        args.memory = min(args.memory, 500)
    args.servers = args.servers.split(",")
    if args.py_spy:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    return args


def _redis_pid(redis_socket: Path) -> int:
    """@return: the process id of the Redis server on C{redis_socket}."""
    info = redis_call(redis_socket, "INFO", "server")
    for line in info.splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":")[1])
    raise BenchError("Redis did not say its process id")


def _raise_file_limit() -> None:
    """Let this process and its children (the servers too) open every fd."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    args = parse_args()
    # What the imports made, out of the collector's full passes: one took
    # 26 ms of the poster's 20 ms between two commits.
    gc.freeze()
    raise_on_sigterm()
    _raise_file_limit()
    print(machine())
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_socket = start_redis(stack, directory / "redis")
        # The node the commits are posted to; julython's feed is another
        # node of the same event, as each peer is a process of its own.
        hook = start_julython(stack, redis_socket, directory / "webhook")
        servers = Servers(redis_socket, directory, hook, args.one_node)
        url = f"http://{LOOPBACK}:{hook.port}"
        _seed_feed(url)
        print(
            f"one commit a push; at least {args.processes} client processes, "
            f"{PER_PROCESS} subscribers each at most; julython replays the last "
            f"{REPLAY_TAIL} entries to each subscriber as it connects; "
            f"{args.seconds:g} s per row and server"
            + (
                f"; the {args.subscribers} rows in {args.rounds} phases a server,"
                " the servers taking turns"
                if args.rounds > 1 and len(args.servers) > 1
                else ""
            )
        )
        print(HEADER)
        results: Results = {}
        others = {
            "webhook": hook.process.pid,
            "redis": _redis_pid(redis_socket),
            "poster": os.getpid(),
        }
        published = Published(redis_socket)
        stack.callback(published.close)
        setting = Setting(
            url,
            args.processes,
            args.seconds,
            args.rounds,
            others,
            published,
            args.py_spy,
            args.disturbed,
            {},
        )
        samples: Samples = {}
        rows = _sizes(args.subscribers, args.rate)
        latency_rows(servers, args.servers, rows, setting, results, samples)
        # Verdicts on deliveries, or on julython alone: one phase is enough.
        once = setting._replace(rounds=1)
        heavy = _sizes(args.heavy, args.rate)
        peers = [kind for kind in args.servers if kind != "floor"]
        latency_rows(servers, peers, heavy, once, results, samples)
        if "julython" in args.servers:
            big = _sizes(args.big, args.rate)
            latency_rows(servers, ["julython"], big, once, results, samples)
        if args.memory:
            memory_rows(servers, args)
        again = ", ".join(f"{name} {count}" for name, count in setting.again.items())
        print(
            "\nphases measured again, disturbed by processes outside the benchmark"
            f" (over {args.disturbed:g} of a core): {again or 'none'}"
        )
        print("\ntargets:", *verdicts(results, samples, args), sep="\n  ")


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench/live.py: {e}")

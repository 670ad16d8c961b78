# -*- test-case-name: tests.config.test_config -*-
"""
The command line of C{twistd julython} and the frozen L{Config} it produces.

Every value is checked here, before any service starts, and every bad value
raises L{usage.UsageError} with a message naming the option and the problem;
C{twistd} prints it beside the usage text.  This module does not import
C{twisted.internet}: listen endpoints are checked for their shape only, and
L{julytwisted.service} turns them into endpoints.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs
from twisted.python import usage

from julytwisted.game.games import Game, slugify

DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"
"""Where the web service listens when no C{--listen} is given."""

DEFAULT_DATA_DIR = "julython-data"
"""The data directory, relative to the working directory, by default."""

DEFAULT_REDIS_PORT = 6379
"""The port of a C{redis://} URL that names none."""

WEBHOOK_SECRET_ENV = "JULYTHON_WEBHOOK_SECRET"
"""The environment variable C{--webhook-secret} falls back to."""

ADMIN_TOKEN_ENV = "JULYTHON_ADMIN_TOKEN"
"""The environment variable C{--admin-token} falls back to."""

SESSION_SECRET_ENV = "JULYTHON_SESSION_SECRET"
"""The environment variable C{--session-secret} falls back to."""

ENDPOINT_TYPES = ("tcp", "tcp6", "ssl", "unix", "systemd")
"""The server endpoint types C{--listen} accepts."""

MiB = 1024 * 1024

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

DEFAULT_UPLOAD_TYPES: Mapping[str, tuple[str, ...]] = {
    "avatar": IMAGE_TYPES,
    "screenshot": IMAGE_TYPES,
    "file": (
        *IMAGE_TYPES,
        "application/pdf",
        "application/zip",
        "application/gzip",
        "text/plain",
        "application/octet-stream",
    ),
}
"""The content types, as the bytes show them, each kind of upload accepts."""

_DIGITS = re.compile(r"[0-9]+")
_SIZE = re.compile(r"([0-9]+)\s*([kmg]i?b?|b)?", re.I)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}
_BUILTIN_SLUG = re.compile(r"(julython|j-an-ulython)-[0-9]{4}")
_REDIS_FORMS = (
    "redis://[:PASSWORD@]HOST[:PORT][/DB], unix:///PATH/TO.sock[?db=DB] or "
    "redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER[?db=DB]"
)


@attrs.frozen
class RedisAddress:
    """
    Where an external Redis server listens, as C{--redis} names it.

    Either C{host} and C{port} are set (TCP) or C{path} is (a Unix socket).

    @ivar host: the host name or IP address, or L{None} for a Unix socket.
    @ivar port: the TCP port, or L{None} for a Unix socket.
    @ivar path: the Unix socket's path, or L{None} for TCP.
    @ivar db: the database number to select.
    @ivar password: the password to authenticate with, or L{None}.
    @ivar sentinels: the Redis Sentinels to ask where the master of
        C{service} is, when the address goes through Sentinel (then C{host},
        C{port} and C{path} are L{None}).
    @ivar service: the master's name in the Sentinels' configuration.
    """

    host: str | None
    port: int | None
    path: str | None
    db: int = 0
    password: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str | None = None

    @property
    def is_unix(self) -> bool:
        """Whether the server is reached through a Unix socket."""
        return self.path is not None


@attrs.frozen
class Limit:
    """
    A rate limit: C{count} requests at once, then C{count} per C{period}.

    @ivar count: requests allowed at once, and per C{period} after.
    @ivar period: seconds.
    """

    count: int
    period: float

    def __str__(self) -> str:
        return f"{self.count}/{self.period:g}s"


#: The rate limits by name, and their defaults: webhook posts per client
#: address (a code host posts from few addresses: keep it generous),
#: JSON-RPC requests per token (per address when anonymous), sign-ups and
#: logins per address, websocket connects per address (besides the number
#: of websockets held at once, C{--live-ip-limit}).
DEFAULT_LIMITS: dict[str, Limit | None] = {
    "webhooks": Limit(1200, 60.0),
    "rpc": Limit(600, 60.0),
    "login": Limit(10, 60.0),
    "live": Limit(120, 60.0),
}

_LIMIT = re.compile(r"(?P<count>[0-9]{1,6})/(?P<period>[0-9]{0,5})(?P<unit>[smh])")
_PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_limit(spec: str) -> tuple[str, Limit | None]:
    """
    @param spec: C{NAME=COUNT/PERIOD}, the period in seconds, minutes or hours
        with an optional number before the unit (C{rpc=600/m},
        C{login=5/10m}), or C{NAME=off}.
    @return: the name and the limit (L{None} for off).
    @raise usage.UsageError: for an unknown name or a malformed limit.
    """
    name, _, value = spec.partition("=")
    name, value = name.strip(), value.strip()
    if name not in DEFAULT_LIMITS:
        known = ", ".join(DEFAULT_LIMITS)
        raise usage.UsageError(f"--rate-limit: {name!r} is none of {known}")
    if value.lower() == "off":
        return name, None
    found = _LIMIT.fullmatch(value)
    if found is None or int(found["count"]) == 0 or found["period"] == "0":
        raise usage.UsageError(
            f"--rate-limit: {spec!r} is not NAME=COUNT/PERIOD like rpc=600/m, "
            "login=5/10m or webhooks=off"
        )
    seconds = int(found["period"] or 1) * _PERIODS[found["unit"]]
    return name, Limit(int(found["count"]), float(seconds))


@attrs.frozen(kw_only=True)
class LiveSettings:
    """
    How the live feed at C{/live} treats its watchers.

    @ivar ip_limit: open websockets one client IP address may hold.
    @ivar send_limit: bytes queued for one watcher that cannot keep up
        before it is closed with code 1013 (try again later).
    @ivar deflate: accept the permessage-deflate extension when a client
        offers it.
    @ivar ping_interval: whole seconds between pings to each watcher; one
        that does not answer within as many again is dropped.
    @ivar max_message: the largest frame or message a client may send, bytes.
    @ivar echo: answer C{/live?echo=1} by echoing every message, for
        protocol conformance runs; off in production.
    """

    ip_limit: int = 100
    send_limit: int = 1024 * 1024
    deflate: bool = False
    ping_interval: int = 20
    max_message: int = 64 * 1024
    echo: bool = False


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Config:
    """
    Everything the service needs to know from its command line.

    @ivar listen: the server endpoint descriptions (strports) to listen on.
    @ivar redis: the external Redis server, or L{None} to run an embedded one
        under C{data_dir}.
    @ivar data_dir: where the embedded Redis and uploaded files live.
    @ivar webhook_secret: the secret webhook signatures are checked against,
        or L{None} to accept unsigned webhooks.
    @ivar admin_token: the bearer token of administrative calls, or L{None}
        to refuse them all.
    @ivar games: the games besides the built-in Julython and J(an)ulython.
    @ivar webhook_max_body: the largest webhook body accepted, in bytes.
    @ivar redis_timeout: seconds to wait for Redis before answering 503.
    @ivar workers: jobs this process runs at once; 0 runs none (web only).
    @ivar notify: outgoing webhooks (Discord- or Slack-compatible) told of
        every push that brought new commits.
    @ivar job_visibility: seconds a job may go without a heartbeat from its
        worker before another worker takes it over.
    @ivar job_grace: seconds a stopping worker waits for its running jobs
        before leaving them to be taken over.
    @ivar recount_at: the time of day (UTC) of the nightly recount, or
        L{None} for none.
    @ivar sweep_every: minutes between orphan-adoption sweeps, or L{None}
        for none.
    @ivar rate_limits: every rate limit by name; L{None} for none.
    @ivar trusted_proxies: addresses or networks of the proxies in front,
        whose C{X-Forwarded-For} is believed.
    @ivar files_dir: where uploaded files are kept, shared by the nodes
        that name the same one; L{None} for C{data_dir/files}.
    @ivar upload_max_file: the largest uploaded file, in bytes.
    @ivar upload_max_body: the largest upload body, all its files, in bytes.
    @ivar upload_max_parts: the most files in one upload.
    @ivar upload_quota: the bytes of distinct files one player may upload.
    @ivar upload_types: the content types each kind of upload accepts; C{*}
        accepts any.
    @ivar session_secret: the key that signs the web pages' session
        cookies, or L{None} for one generated once and kept in C{data_dir}.
    @ivar admin_players: the players who may use the admin pages.
    @ivar live: the live feed's limits.
    """

    listen: tuple[str, ...] = attrs.field(default=(DEFAULT_LISTEN,), converter=tuple)
    redis: RedisAddress | None = None
    data_dir: Path = attrs.field(converter=Path)
    webhook_secret: str | None = None
    admin_token: str | None = None
    games: tuple[Game, ...] = attrs.field(default=(), converter=tuple)
    webhook_max_body: int = 25 * 1024 * 1024
    redis_timeout: float = 5.0
    workers: int = 4
    notify: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    job_visibility: float = 30.0
    job_grace: float = 10.0
    recount_at: time | None = time(3, 0)
    sweep_every: int | None = 60
    rate_limits: dict[str, Limit | None] = attrs.field(
        factory=lambda: dict(DEFAULT_LIMITS)
    )
    trusted_proxies: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    files_dir: Path | None = None
    upload_max_file: int = 20 * MiB
    upload_max_body: int = 100 * MiB
    upload_max_parts: int = 10
    upload_quota: int = 200 * MiB
    upload_types: Mapping[str, tuple[str, ...]] = DEFAULT_UPLOAD_TYPES
    session_secret: str | None = None
    admin_players: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    live: LiveSettings = LiveSettings()


def parse_listen(description: str) -> str:
    """
    Check the shape of a server endpoint description.

    @param description: a strport such as C{"tcp:8080:interface=127.0.0.1"},
        or a bare port number.
    @return: the description, a bare port number turned into C{"tcp:PORT"}.
    @raise usage.UsageError: when it is empty, names no endpoint type of
        L{ENDPOINT_TYPES}, or gives that type no arguments.
    """
    text = description.strip()
    if not text:
        raise usage.UsageError("--listen: the endpoint description is empty")
    if _DIGITS.fullmatch(text):
        port = int(text)
        if port > 65535:
            raise usage.UsageError(f"--listen: port {port} is over 65535")
        return f"tcp:{port}"
    kind, colon, rest = text.partition(":")
    if kind not in ENDPOINT_TYPES:
        raise usage.UsageError(
            f"--listen {description!r}: endpoint type {kind!r} is not one of "
            f"{', '.join(ENDPOINT_TYPES)}"
        )
    if not colon or not rest:
        raise usage.UsageError(
            f"--listen {description!r}: give the {kind} endpoint its arguments, "
            f"as in {DEFAULT_LISTEN!r}"
        )
    return text


def parse_size(option: str, text: str) -> int:
    """
    @param text: a number of bytes, or of KiB, MiB or GiB with a suffix
        C{K}, C{M} or C{G} (C{20M}, C{1GiB}).
    @return: the bytes, at least 1.
    @raise usage.UsageError: for anything else.
    """
    match = _SIZE.fullmatch(text.strip())
    if not match or int(match.group(1)) < 1:
        raise usage.UsageError(
            f"--{option}: {text!r} is not a size such as 1048576, 512K, 20M or 1G"
        )
    unit = (match.group(2) or "")[:1].lower()
    return int(match.group(1)) * _UNITS[unit]


def parse_upload_types(
    specs: Iterable[str],
) -> Mapping[str, tuple[str, ...]]:
    """
    @param specs: C{KIND=TYPE,TYPE...} values, each replacing the default
        list of its kind (C{avatar}, C{screenshot} or C{file}).
    @return: the accepted types of every kind.
    @raise usage.UsageError: for an unknown kind or a malformed type.
    """
    types = dict(DEFAULT_UPLOAD_TYPES)
    for spec in specs:
        kind, equals, listed = spec.partition("=")
        kind = kind.strip()
        if not equals or kind not in types:
            raise usage.UsageError(
                f"--upload-types {spec!r}: expected KIND=TYPE,... with KIND one "
                f"of {', '.join(types)}"
            )
        names = tuple(t.strip().lower() for t in listed.split(",") if t.strip())
        for name in names:
            if name != "*" and not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", name):
                raise usage.UsageError(
                    f"--upload-types {spec!r}: {name!r} is not a content type"
                )
        types[kind] = names
    return types


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _db(text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise usage.UsageError(
            f"--redis: database {text!r} is not a non-negative integer"
        )
    return int(text)


def _tcp_redis(url: str) -> RedisAddress:
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise usage.UsageError("--redis: a redis:// URL takes no query or fragment")
    if parts.username:
        raise usage.UsageError(
            "--redis: user names are not supported; write redis://:PASSWORD@HOST"
        )
    if not parts.hostname:
        raise usage.UsageError(f"--redis {_redact(url)!r}: the host is missing")
    try:
        port = parts.port
    except ValueError:
        port_text = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise usage.UsageError(f"--redis: port {port_text!r} is not valid") from None
    if port == 0:
        raise usage.UsageError("--redis: port 0 is not valid")
    db_text = parts.path.removeprefix("/")
    password = parts.password
    return RedisAddress(
        host=parts.hostname,
        port=DEFAULT_REDIS_PORT if port is None else port,
        path=None,
        db=_db(db_text) if db_text else 0,
        password=None if password is None else unquote(password),
    )


def _sentinel_redis(url: str) -> RedisAddress:
    rest = url.split("://", 1)[1]
    hosts, slash, tail = rest.partition("/")
    password = None
    if "@" in hosts:
        credentials, _, hosts = hosts.rpartition("@")
        if not credentials.startswith(":"):
            raise usage.UsageError(
                "--redis: user names are not supported; write "
                "redis+sentinel://:PASSWORD@HOST:PORT/MASTER"
            )
        password = unquote(credentials[1:])
    service, _, query = tail.partition("?")
    if not slash or not service:
        raise usage.UsageError("--redis: a redis+sentinel:// URL needs /MASTER-NAME")
    sentinels = []
    for item in hosts.split(","):
        host, colon, port_text = item.strip().rpartition(":")
        if not colon:
            host, port_text = item.strip(), "26379"
        host = host.strip("[]")
        if (
            not host
            or not _DIGITS.fullmatch(port_text)
            or not 0 < int(port_text) < 65536
        ):
            raise usage.UsageError(f"--redis: sentinel {item!r} is not HOST:PORT")
        sentinels.append((host, int(port_text)))
    db = 0
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "db":
            raise usage.UsageError(
                f"--redis: unknown query parameter {key!r}; only db is understood"
            )
        db = _db(value)
    return RedisAddress(
        host=None,
        port=None,
        path=None,
        db=db,
        password=password,
        sentinels=tuple(sentinels),
        service=unquote(service),
    )


def _unix_redis(url: str) -> RedisAddress:
    parts = urlsplit(url)
    if parts.netloc:
        raise usage.UsageError(
            f"--redis {_redact(url)!r}: a unix:// URL has an empty host and an "
            "absolute path, as in unix:///run/redis.sock"
        )
    path = unquote(parts.path)
    if not path.startswith("/") or path == "/":
        raise usage.UsageError(f"--redis {url!r}: the socket path is missing")
    if parts.fragment:
        raise usage.UsageError("--redis: a unix:// URL takes no fragment")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        if parts.query:
            raise usage.UsageError(
                f"--redis: query {parts.query!r} is malformed; write ?db=N"
            ) from None
        query = []
    db = 0
    for key, value in query:
        if key != "db":
            raise usage.UsageError(
                f"--redis: unknown query parameter {key!r}; only db is understood"
            )
        db = _db(value)
    return RedisAddress(host=None, port=None, path=path, db=db)


def parse_redis_url(url: str) -> RedisAddress:
    """
    Parse the C{--redis} URL.

    @param url: C{redis://[:password@]host[:port][/db]} (port 6379 and
        database 0 by default), C{unix:///path/to.sock[?db=N]}, or
        C{redis+sentinel://[:password@]host:port[,host:port...]/master[?db=N]}
        (the Sentinels, port 26379 by default, and the master's name).
    @return: the address it names.
    @raise usage.UsageError: for any other form, including C{rediss://}
        (TLS, not supported yet), a bad port or a bad database number.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "redis":
        return _tcp_redis(url)
    if scheme == "unix":
        return _unix_redis(url)
    if scheme == "redis+sentinel":
        return _sentinel_redis(url)
    if scheme == "rediss":
        raise usage.UsageError(
            "--redis: rediss:// (Redis over TLS) is not supported yet; "
            "use redis:// or unix://"
        )
    raise usage.UsageError(
        f"--redis {_redact(url)!r}: expected a URL of the form {_REDIS_FORMS}"
    )


def _instant(text: str, what: str, spec: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise usage.UsageError(
            f"--game {spec!r}: {what} {text!r} is not an ISO 8601 instant"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise usage.UsageError(
            f"--game {spec!r}: {what} {text!r} carries no UTC offset; "
            "add Z or one such as +02:00"
        )
    return when.astimezone(UTC)


def parse_game(spec: str) -> Game:
    """
    Parse one C{--game} value.

    @param spec: C{NAME=START/END}, where START and END are ISO 8601 instants
        with a UTC offset or C{Z}, such as
        C{"PyCon Sprint=2026-05-18T00:00Z/2026-05-22T00:00Z"}.
    @return: the game, its instants in UTC.
    @raise usage.UsageError: when the value is malformed, an instant is naive,
        the game does not end after it starts, or the name gives an empty
        slug or one of the built-in games' shape.
    """
    name, equals, window = spec.rpartition("=")
    name = name.strip()
    if not equals or not name:
        raise usage.UsageError(f"--game {spec!r}: expected NAME=START/END")
    start_text, slash, end_text = window.partition("/")
    if not slash:
        raise usage.UsageError(f"--game {spec!r}: expected NAME=START/END")
    start = _instant(start_text, "start", spec)
    end = _instant(end_text, "end", spec)
    if end <= start:
        raise usage.UsageError(f"--game {spec!r}: the game must end after it starts")
    slug = slugify(name)
    if not slug:
        raise usage.UsageError(f"--game {spec!r}: the name holds no letter or digit")
    if _BUILTIN_SLUG.fullmatch(slug):
        raise usage.UsageError(
            f"--game {spec!r}: slug {slug!r} is reserved for the built-in "
            "Julython and J(an)ulython games"
        )
    return Game(name, start, end)


def _unique_games(games: list[Game]) -> tuple[Game, ...]:
    seen: dict[str, Game] = {}
    for game in games:
        other = seen.setdefault(game.slug, game)
        if other is not game:
            raise usage.UsageError(
                f"--game: {other.name!r} and {game.name!r} share the slug {game.slug!r}"
            )
    return tuple(games)


class Options(usage.Options):
    """
    The options of C{twistd julython}.

    After L{parseOptions}, C{self.config} holds the L{Config}.
    """

    longdesc = (
        "Run a Julython-style coding competition: repositories post push "
        "webhooks to /api/v1/github (or bitbucket, gitlab), every new commit in "
        "a game's window scores, and boards, a live feed, a REST API and "
        "JSON-RPC show the results. Julython (July) and J(an)ulython (January) "
        "run every year; --game adds others. Without --redis an embedded "
        "redis-server keeps its data under --data-dir. The webhook secret and "
        f"the admin token may also come from ${WEBHOOK_SECRET_ENV} and "
        f"${ADMIN_TOKEN_ENV}, which keeps them out of the process list."
    )

    optParameters = [
        [
            "redis",
            None,
            None,
            f"Use the external Redis server at this URL: {_REDIS_FORMS}. "
            "Default: an embedded redis-server under --data-dir.",
        ],
        [
            "data-dir",
            None,
            DEFAULT_DATA_DIR,
            "Keep the embedded Redis data and uploaded files in this directory.",
        ],
        [
            "webhook-secret",
            None,
            None,
            "Refuse webhooks not signed with this secret "
            f"(default: ${WEBHOOK_SECRET_ENV}; unset accepts unsigned webhooks).",
        ],
        [
            "admin-token",
            None,
            None,
            "Bearer token that authorises admin.* calls "
            f"(default: ${ADMIN_TOKEN_ENV}; unset refuses them all).",
        ],
        [
            "session-secret",
            None,
            None,
            "Key that signs the web sessions' cookies; every node of one site "
            f"needs the same (default: ${SESSION_SECRET_ENV}; unset: one made "
            "once and kept in DATA_DIR/session-secret).",
        ],
        ["workers", None, "4", "Run up to this many background jobs at once."],
        [
            "job-visibility",
            None,
            "30",
            "Seconds a running job may go unheard from (its process died) "
            "before another worker takes it over.",
        ],
        [
            "recount-at",
            None,
            "03:00",
            "Recount the running games' boards every night at this time "
            "(HH:MM, UTC), on one node; off for never.",
        ],
        [
            "sweep-every",
            None,
            "60",
            "Adopt orphan commits of owned e-mails every this many minutes, "
            "on one node; off for never.",
        ],
        [
            "job-grace",
            None,
            "10",
            "Seconds a stopping process waits for its running jobs; the rest "
            "are left for other workers to run again.",
        ],
        [
            "files-dir",
            None,
            None,
            "Keep uploaded files here (default: DATA-DIR/files); nodes that "
            "name one directory share their files.",
        ],
        ["upload-max-file", None, "20M", "Refuse uploaded files over this size."],
        [
            "upload-max-body",
            None,
            "100M",
            "Refuse upload bodies (all their files) over this size.",
        ],
        ["upload-max-parts", None, "10", "Refuse uploads of more files than this."],
        [
            "upload-quota",
            None,
            "200M",
            "Let each player store this much in distinct uploaded files.",
        ],
        [
            "live-ip-limit",
            None,
            "100",
            "Let one client IP address hold this many live websockets at once.",
        ],
        [
            "live-send-limit",
            None,
            str(1024 * 1024),
            "Close a live watcher with code 1013 once this many bytes wait for it.",
        ],
        [
            "live-ping",
            None,
            "20",
            "Ping every live watcher after this many idle seconds; drop it when "
            "no pong comes within as many again (0: never).",
        ],
    ]

    optFlags = [
        [
            "no-worker",
            None,
            "Run no background jobs in this process (a web-only node); "
            "other nodes' workers run them.",
        ],
        [
            "live-deflate",
            None,
            "Accept the permessage-deflate extension on the live feed (saves "
            "bandwidth, costs CPU per watcher).",
        ],
        [
            "live-echo",
            None,
            "Echo every message sent to /live?echo=1, for websocket protocol "
            "conformance runs. Not for production.",
        ],
    ]

    config: Config

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        """
        @param environ: the environment to read secrets from; L{os.environ}
            (as it is now) by default.
        """
        super().__init__()
        # Help texts come from indented docstrings; twistd prints them reflowed.
        self.docs = {
            name: " ".join((doc or "").split()) for name, doc in self.docs.items()
        }
        self._environ = dict(os.environ if environ is None else environ)
        self._listen: list[str] = []
        self._games: list[Game] = []
        self._notify: list[str] = []
        self._limits = dict(DEFAULT_LIMITS)
        self._proxies: list[str] = []
        self._upload_types: list[str] = []
        self._admin_players: list[str] = []

    def opt_listen(self, description: str) -> None:
        """
        Listen for HTTP on this server endpoint (a strport such as
        tcp:8080:interface=0.0.0.0, unix:/run/julython.sock, ssl:443:...,
        systemd:domain=INET:index=0, or a bare port number). Repeat to listen
        on several. Default: tcp:8080:interface=127.0.0.1.
        """
        self._listen.append(parse_listen(description))

    def opt_game(self, spec: str) -> None:
        """
        Add a game NAME=START/END besides Julython and J(an)ulython, with
        START and END ISO 8601 instants carrying Z or an offset, for example
        "Spring Sprint=2026-04-01T00:00Z/2026-04-08T00:00Z". Repeatable.
        """
        self._games.append(parse_game(spec))

    def opt_admin_player(self, username: str) -> None:
        """
        Let this player use the web site's admin pages once signed in.
        Repeatable.
        """
        name = username.strip().lower()
        if not name:
            raise usage.UsageError("--admin-player: the username is empty")
        self._admin_players.append(name)

    def opt_notify(self, url: str) -> None:
        """
        POST a message about every push with new commits to this URL (a
        Discord or Slack incoming webhook). Repeatable.
        """
        if not url.startswith(("http://", "https://")):
            raise usage.UsageError(f"--notify: {url!r} is not an http(s) URL")
        self._notify.append(url)

    def opt_rate_limit(self, spec: str) -> None:
        """
        Set a rate limit NAME=COUNT/PERIOD (COUNT at once, then COUNT per
        PERIOD; periods like s, m, h, 10m), or NAME=off. Names: webhooks
        (per address; default 1200/m), rpc (per token, else address; 600/m),
        login (sign-ups and logins per address; 10/m), live (websocket
        connects per address; 120/m). Repeatable.
        """
        name, limit = parse_limit(spec)
        self._limits[name] = limit

    def opt_trusted_proxy(self, address: str) -> None:
        """
        Believe X-Forwarded-For from this proxy address or network (nginx in
        front), for per-address rate limits. Repeatable.
        """
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise usage.UsageError(
                f"--trusted-proxy: {address!r} is not an address or network"
            ) from None
        self._proxies.append(address)

    def opt_upload_types(self, spec: str) -> None:
        """
        Accept these content types (as the bytes show them) for a kind of
        upload: KIND=TYPE,TYPE with KIND avatar, screenshot or file (no kind
        given), replacing its default list; * accepts any. Repeatable.
        """
        self._upload_types.append(spec)

    def _upload_parts(self) -> int:
        raw = str(self["upload-max-parts"])
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise usage.UsageError("--upload-max-parts: a whole number from 1 to 1000")
        return int(raw)

    def _workers(self) -> int:
        if self["no-worker"]:
            return 0
        raw = str(self["workers"])
        if not raw.isdigit() or not 1 <= int(raw) <= 256:
            raise usage.UsageError("--workers: a whole number from 1 to 256")
        return int(raw)

    def _seconds(self, option: str, least: float) -> float:
        raw = str(self[option])
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not least <= value <= 86400:
            raise usage.UsageError(
                f"--{option}: a number of seconds from {least:g} to 86400, not {raw!r}"
            )
        return value

    def _files_dir(self) -> Path | None:
        raw = self["files-dir"]
        if raw is None:
            return None
        if not raw.strip():
            raise usage.UsageError("--files-dir: the directory name is empty")
        return Path(os.path.abspath(os.path.expanduser(raw)))

    def _recount_at(self) -> time | None:
        raw = str(self["recount-at"]).strip()
        if raw.lower() == "off":
            return None
        found = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", raw)
        if found is None:
            raise usage.UsageError(f"--recount-at: HH:MM (UTC) or off, not {raw!r}")
        return time(int(found[1]), int(found[2]))

    def _sweep_every(self) -> int | None:
        raw = str(self["sweep-every"]).strip()
        if raw.lower() == "off":
            return None
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 10080:
            raise usage.UsageError(
                f"--sweep-every: minutes from 1 to 10080, or off, not {raw!r}"
            )
        return int(raw)

    def _count(self, option: str, low: int, high: int) -> int:
        raw = str(self[option])
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise usage.UsageError(f"--{option}: a whole number from {low} to {high}")
        return int(raw)

    def _live(self) -> LiveSettings:
        return LiveSettings(
            ip_limit=self._count("live-ip-limit", 1, 1_000_000),
            send_limit=self._count("live-send-limit", 1024, 1024**3),
            ping_interval=self._count("live-ping", 0, 86400),
            deflate=bool(self["live-deflate"]),
            echo=bool(self["live-echo"]),
        )

    def _secret(self, option: str, variable: str) -> str | None:
        value = self[option] or self._environ.get(variable, "")
        return value or None

    def postOptions(self) -> None:
        """
        Check the values that need the whole command line, and build
        C{self.config}.

        @raise usage.UsageError: for a bad value.
        """
        self["listen"] = tuple(self._listen) or (DEFAULT_LISTEN,)
        self["game"] = _unique_games(self._games)
        redis = self["redis"]
        data_dir = self["data-dir"]
        if not data_dir:
            raise usage.UsageError("--data-dir: the directory name is empty")
        self.config = Config(
            listen=self["listen"],
            redis=None if redis is None else parse_redis_url(redis),
            data_dir=Path(os.path.abspath(os.path.expanduser(data_dir))),
            webhook_secret=self._secret("webhook-secret", WEBHOOK_SECRET_ENV),
            admin_token=self._secret("admin-token", ADMIN_TOKEN_ENV),
            session_secret=self._secret("session-secret", SESSION_SECRET_ENV),
            games=self["game"],
            workers=self._workers(),
            notify=self._notify,
            admin_players=self._admin_players,
            job_visibility=self._seconds("job-visibility", 1),
            job_grace=self._seconds("job-grace", 0),
            recount_at=self._recount_at(),
            sweep_every=self._sweep_every(),
            rate_limits=self._limits,
            trusted_proxies=self._proxies,
            files_dir=self._files_dir(),
            upload_max_file=parse_size("upload-max-file", self["upload-max-file"]),
            upload_max_body=parse_size("upload-max-body", self["upload-max-body"]),
            upload_max_parts=self._upload_parts(),
            upload_quota=parse_size("upload-quota", self["upload-quota"]),
            upload_types=parse_upload_types(self._upload_types),
            live=self._live(),
        )


__all__ = [
    "ADMIN_TOKEN_ENV",
    "DEFAULT_DATA_DIR",
    "DEFAULT_LIMITS",
    "DEFAULT_LISTEN",
    "DEFAULT_REDIS_PORT",
    "DEFAULT_UPLOAD_TYPES",
    "ENDPOINT_TYPES",
    "SESSION_SECRET_ENV",
    "WEBHOOK_SECRET_ENV",
    "Config",
    "Limit",
    "LiveSettings",
    "Options",
    "RedisAddress",
    "parse_game",
    "parse_limit",
    "parse_listen",
    "parse_redis_url",
    "parse_size",
    "parse_upload_types",
]

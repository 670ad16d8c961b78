# -*- test-case-name: tests.test_config -*-
"""
The command line of C{twistd julython} and the frozen L{Config} it produces.

Every value is checked here, before any service starts, and every bad value
raises L{usage.UsageError} with a message naming the option and the problem;
C{twistd} prints it beside the usage text.  This module does not import
C{twisted.internet}: listen endpoints are checked for their shape only, and
L{julytwisted.service} turns them into endpoints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs
from twisted.python import usage

from julytwisted.models import Game, slugify

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

ENDPOINT_TYPES = ("tcp", "tcp6", "ssl", "unix", "systemd")
"""The server endpoint types C{--listen} accepts."""

_DIGITS = re.compile(r"[0-9]+")
_BUILTIN_SLUG = re.compile(r"(julython|j-an-ulython)-[0-9]{4}")
_REDIS_FORMS = "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH/TO.sock[?db=DB]"


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
    """

    host: str | None
    port: int | None
    path: str | None
    db: int = 0
    password: str | None = None

    @property
    def is_unix(self) -> bool:
        """Whether the server is reached through a Unix socket."""
        return self.path is not None


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
        database 0 by default) or C{unix:///path/to.sock[?db=N]}.
    @return: the address it names.
    @raise usage.UsageError: for any other form, including C{rediss://}
        (TLS, not supported yet), a bad port or a bad database number.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "redis":
        return _tcp_redis(url)
    if scheme == "unix":
        return _unix_redis(url)
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
        ["workers", None, "4", "Run up to this many background jobs at once."],
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

    def opt_notify(self, url: str) -> None:
        """
        POST a message about every push with new commits to this URL (a
        Discord or Slack incoming webhook). Repeatable.
        """
        if not url.startswith(("http://", "https://")):
            raise usage.UsageError(f"--notify: {url!r} is not an http(s) URL")
        self._notify.append(url)

    def _workers(self) -> int:
        if self["no-worker"]:
            return 0
        raw = str(self["workers"])
        if not raw.isdigit() or not 1 <= int(raw) <= 256:
            raise usage.UsageError("--workers: a whole number from 1 to 256")
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
            games=self["game"],
            workers=self._workers(),
            notify=self._notify,
            live=self._live(),
        )


__all__ = [
    "ADMIN_TOKEN_ENV",
    "DEFAULT_DATA_DIR",
    "DEFAULT_LISTEN",
    "DEFAULT_REDIS_PORT",
    "ENDPOINT_TYPES",
    "WEBHOOK_SECRET_ENV",
    "Config",
    "LiveSettings",
    "Options",
    "RedisAddress",
    "parse_game",
    "parse_listen",
    "parse_redis_url",
]

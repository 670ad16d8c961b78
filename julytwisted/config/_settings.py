# -*- test-case-name: tests.config.test_config -*-
"""
The settings records C{twistd julython} produces, and their defaults: the
frozen L{Config} and the smaller records it holds (L{RedisAddress},
L{MailRelay}, L{Limit}, L{LiveSettings}).

Nothing here reads a command line; L{julytwisted.config._options} does, and
L{julytwisted.config._parsers} checks each value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Literal

import attrs

from julytwisted.game.games import Game
from julytwisted.game.review import BURST_LIMIT
from julytwisted.hosts import ConfiguredHost, OAuthApp

DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"
"""Where the web service listens when no C{--listen} is given."""

DEFAULT_DATA_DIR = "julython-data"
"""The data directory, relative to the working directory, by default."""

DEFAULT_REDIS_PORT = 6379
"""The port of a C{redis://} URL that names none."""

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
class MailRelay:
    """
    The SMTP relay C{--smtp} names, which sends the links that confirm
    e-mails and reset passwords.  L{julytwisted.service} hands it to
    L{julytwisted.mail.Mailer} as a C{MailServer}; this package does not
    import C{twisted.mail}, which would install the default reactor.

    @ivar host: the relay's host name (also the name its certificate must
        carry).
    @ivar port: its port.
    @ivar security: C{"starttls"} (C{smtp://}: upgrade where offered;
        required with credentials) or C{"tls"} (C{smtps://}: implicit TLS).
    @ivar username: the login, if the relay wants one.
    @ivar password: its password.
    """

    host: str
    port: int
    security: Literal["starttls", "tls"] = "starttls"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)


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
#: JSON-RPC requests per player (per address when the credentials prove
#: none), sign-ups and logins per address, accounts made per address (by
#: the sign-up form, C{julython.signup} or a sign-in with a code host),
#: websocket connects per address (besides the number of websockets held at
#: once, C{--live-ip-limit}); and the budget of failed credentials at every
#: door, per address and per username (L{julytwisted.store.failures}): only
#: failures spend those two.
DEFAULT_LIMITS: dict[str, Limit | None] = {
    "webhooks": Limit(1200, 60.0),
    "rpc": Limit(600, 60.0),
    "login": Limit(10, 60.0),
    "signup": Limit(20, 3600.0),
    "live": Limit(120, 60.0),
    "credentials": Limit(10, 600.0),
    "credentials-user": Limit(20, 3600.0),
}


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
    @ivar webhook_secret: the secret the pushes of repositories nobody added
        are checked against in an open event, or L{None} to accept them
        unsigned there.
    @ivar open_repositories: an open event: pushes of repositories no player
        added are accepted, checked with C{webhook_secret} only (every
        holder of it may post anything); off, they are refused with 403.
        An added repository is always checked with its own secret.
    @ivar verify_commits: check on its host that each new commit of an
        added repository is in it before it scores (pending until then).
    @ivar admin_token: the bearer token of administrative calls, or L{None}
        to refuse them all.
    @ivar games: the games besides the built-in Julython and J(an)ulython.
    @ivar late_grace: how long after a game's window a commit made in it
        may still arrive and score.
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
    @ivar review_days: how many days a new commit's points stay pending
        before they count (C{--review-days}); 0: at once.
    @ivar burst_limit: the commits by one author dated in one minute past
        which each is held for an admin (C{--burst-limit}).
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
    @ivar smtp: the relay that mails confirmation and password reset links,
        or L{None} for none (then typed e-mails cannot be verified).
    @ivar mail_from: the C{From} address of that mail.
    @ivar public_url: the site's address as players reach it, which mailed
        links start with (no trailing slash).
    @ivar rpc_batch_limit: the most calls one JSON-RPC batch may hold.
    @ivar live: the live feed's limits.
    @ivar oauth: the apps julytwisted is registered as at each code host
        players sign in with, by provider (C{--oauth}).
    @ivar code_hosts: where each code host is (C{--provider-url}), by
        provider; the public service of a provider with an app but no URL.
    """

    listen: tuple[str, ...] = attrs.field(default=(DEFAULT_LISTEN,), converter=tuple)
    redis: RedisAddress | None = None
    data_dir: Path = attrs.field(converter=Path)
    webhook_secret: str | None = None
    open_repositories: bool = False
    verify_commits: bool = False
    admin_token: str | None = None
    games: tuple[Game, ...] = attrs.field(default=(), converter=tuple)
    late_grace: timedelta = timedelta(hours=48)
    webhook_max_body: int = 25 * 1024 * 1024
    redis_timeout: float = 5.0
    workers: int = 4
    notify: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    job_visibility: float = 30.0
    job_grace: float = 10.0
    recount_at: time | None = time(3, 0)
    sweep_every: int | None = 60
    review_days: int = 0
    burst_limit: int = BURST_LIMIT
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
    smtp: MailRelay | None = None
    mail_from: str | None = None
    public_url: str | None = None
    rpc_batch_limit: int = 1000
    live: LiveSettings = LiveSettings()
    oauth: Mapping[str, OAuthApp] = attrs.field(factory=dict)
    code_hosts: Mapping[str, ConfiguredHost] = attrs.field(factory=dict)


__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_LIMITS",
    "DEFAULT_LISTEN",
    "DEFAULT_REDIS_PORT",
    "DEFAULT_UPLOAD_TYPES",
    "IMAGE_TYPES",
    "Config",
    "Limit",
    "LiveSettings",
    "MailRelay",
    "MiB",
    "RedisAddress",
]

# -*- test-case-name: tests.config.test_config -*-
"""
L{Options}, the command line of C{twistd julython}: the option table, its
help texts, and the gathering of every checked value into one L{Config}.

Each value is checked by a parser of L{julytwisted.config._parsers} (or
L{julytwisted.config._redis_url}) before any service starts; a bad one
raises L{usage.UsageError}, which C{twistd} prints beside the usage text.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from twisted.python import usage

from julytwisted.config._mail import (
    SMTP_FORMS,
    parse_mail_from,
    parse_public_url,
    parse_smtp_url,
)
from julytwisted.config._oauth import (
    code_hosts,
    oauth_apps,
    parse_client,
    parse_host,
    parse_secret_file,
)
from julytwisted.config._parsers import (
    parse_count,
    parse_duration,
    parse_game,
    parse_limit,
    parse_listen,
    parse_minutes,
    parse_seconds,
    parse_size,
    parse_time_of_day,
    parse_upload_types,
    unique_games,
)
from julytwisted.config._redis_url import REDIS_FORMS, parse_redis_url
from julytwisted.config._settings import (
    DEFAULT_DATA_DIR,
    DEFAULT_LIMITS,
    DEFAULT_LISTEN,
    Config,
    LiveSettings,
    MailRelay,
    RedisAddress,
)
from julytwisted.game.games import Game
from julytwisted.game.review import MAX_REVIEW_DAYS
from julytwisted.hosts import ConfiguredHost

WEBHOOK_SECRET_ENV = "JULYTHON_WEBHOOK_SECRET"
"""The environment variable C{--webhook-secret} falls back to."""

ADMIN_TOKEN_ENV = "JULYTHON_ADMIN_TOKEN"
"""The environment variable C{--admin-token} falls back to."""

SESSION_SECRET_ENV = "JULYTHON_SESSION_SECRET"
"""The environment variable C{--session-secret} falls back to."""

SMTP_PASSWORD_ENV = "JULYTHON_SMTP_PASSWORD"
"""The environment variable the password of C{--smtp}'s user falls back to."""


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
            f"Use the external Redis server at this URL: {REDIS_FORMS}. "
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
            "With --open-repositories, refuse pushes of repositories nobody "
            "added unless signed with this secret "
            f"(default: ${WEBHOOK_SECRET_ENV}; unset accepts them unsigned).",
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
        [
            "smtp",
            None,
            None,
            f"Mail the links that confirm typed e-mails and reset passwords "
            f"through this relay: {SMTP_FORMS}; smtp:// uses STARTTLS where "
            "offered (required with a password), smtps:// TLS from the start. "
            f"The password may come from ${SMTP_PASSWORD_ENV}. Unset: typed "
            "e-mails cannot be verified.",
        ],
        [
            "mail-from",
            None,
            None,
            "The From address of that mail (default: Julython "
            "<noreply@HOST of --public-url>).",
        ],
        [
            "public-url",
            None,
            None,
            "The site's address as players reach it (https://julython.example); "
            "mailed links start with it. Needed with --smtp.",
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
            "late-grace",
            None,
            "48h",
            "Let a commit score in a game it was made in when its push arrives "
            "up to this long after the game ends (48h, 2d, 30m; at most 366d).",
        ],
        [
            "review-days",
            None,
            "0",
            "Hold each new commit's points as pending for this many days "
            "(0 to 90) before they count, unless an admin rejects it; 0: off. "
            "Flagged commits wait for an admin whatever this says.",
        ],
        [
            "burst-limit",
            None,
            "30",
            "Hold for an admin each commit past this many by one author "
            "dated in one minute (1 to 10000).",
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
            "rpc-batch-limit",
            None,
            "1000",
            "Refuse a JSON-RPC batch of more calls than this (error -32600).",
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
            "open-repositories",
            None,
            "An open event: accept pushes of repositories no player added, "
            "checked with --webhook-secret only, so that every holder of that "
            "secret may post any repository, commit and author. Added "
            "repositories are always checked with their own secret.",
        ],
        [
            "verify-commits",
            None,
            "Check on the host, with the owner's token, that each new commit "
            "of an added repository is in it before it scores; until then its "
            "points are pending.",
        ],
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
        self._oauth: dict[str, str] = {}
        self._secret_files: dict[str, Path] = {}
        self._hosts: dict[str, ConfiguredHost] = {}

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
        (per address; default 1200/m), rpc (per player, else address;
        600/m), login (sign-up and sign-in forms per address; 10/m), signup
        (accounts made per address, at every door; 20/h), live (websocket
        connects per address; 120/m), credentials (failed credentials per
        address, at every door; 10/10m), credentials-user (failed
        credentials per username; 20/h). Repeatable.
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

    def opt_oauth(self, spec: str) -> None:
        """
        Let players sign in with a code host: PROVIDER=CLIENT_ID, with
        PROVIDER github, gitlab or bitbucket and the client id (Bitbucket:
        the consumer's key) the host gave when the app was registered. The
        secret comes from $JULYTHON_OAUTH_<PROVIDER>_SECRET or
        --oauth-secret-file. Repeatable, once per provider.
        """
        provider, client_id = parse_client(spec)
        if provider in self._oauth:
            raise usage.UsageError(f"--oauth: {provider} is given twice")
        self._oauth[provider] = client_id

    def opt_oauth_secret_file(self, spec: str) -> None:
        """
        Read a code host's client secret from a file: PROVIDER=PATH, in
        place of $JULYTHON_OAUTH_<PROVIDER>_SECRET. Repeatable.
        """
        provider, path = parse_secret_file(spec)
        self._secret_files[provider] = path

    def opt_provider_url(self, spec: str) -> None:
        """
        Where a code host is, PROVIDER=WEB_URL[,API_URL]: GitHub Enterprise
        (its API at WEB_URL/api/v3 unless given), a self-managed GitLab
        (WEB_URL/api/v4), a Bitbucket Data Center (bitbucket-server=WEB_URL,
        WEB_URL/rest/api/1.0), or a stub in tests. Default: the public
        service (none for a Data Center). Repeatable.
        """
        host = parse_host(spec)
        self._hosts[host.provider] = host

    def opt_upload_types(self, spec: str) -> None:
        """
        Accept these content types (as the bytes show them) for a kind of
        upload: KIND=TYPE,TYPE with KIND avatar, screenshot or file (no kind
        given), replacing its default list; * accepts any. Repeatable.
        """
        self._upload_types.append(spec)

    def postOptions(self) -> None:
        """
        Check the values that need the whole command line, and build
        C{self.config}.

        @raise usage.UsageError: for a bad value.
        """
        self["listen"] = tuple(self._listen) or (DEFAULT_LISTEN,)
        self["game"] = unique_games(self._games)
        smtp, sender, public = self._mail()
        self.config = Config(
            data_dir=self._data_dir(),
            listen=self["listen"],
            redis=self._redis(),
            webhook_secret=self._secret("webhook-secret", WEBHOOK_SECRET_ENV),
            open_repositories=bool(self["open-repositories"]),
            verify_commits=bool(self["verify-commits"]),
            admin_token=self._secret("admin-token", ADMIN_TOKEN_ENV),
            session_secret=self._secret("session-secret", SESSION_SECRET_ENV),
            games=self["game"],
            late_grace=parse_duration(
                "late-grace", self._text("late-grace"), timedelta(days=366)
            ),
            workers=self._workers(),
            notify=self._notify,
            admin_players=self._admin_players,
            smtp=smtp,
            mail_from=sender,
            public_url=public,
            job_visibility=self._seconds("job-visibility", 1),
            job_grace=self._seconds("job-grace", 0),
            recount_at=parse_time_of_day("recount-at", self._text("recount-at")),
            sweep_every=parse_minutes("sweep-every", self._text("sweep-every")),
            review_days=self._count("review-days", 0, MAX_REVIEW_DAYS),
            burst_limit=self._count("burst-limit", 1, 10000),
            rate_limits=self._limits,
            trusted_proxies=self._proxies,
            files_dir=self._files_dir(),
            upload_max_file=self._size("upload-max-file"),
            upload_max_body=self._size("upload-max-body"),
            upload_max_parts=self._count("upload-max-parts", 1, 1000),
            upload_quota=self._size("upload-quota"),
            upload_types=parse_upload_types(self._upload_types),
            rpc_batch_limit=self._count("rpc-batch-limit", 1, 100_000),
            live=self._live(),
            **self._sign_in(),
        )

    # The steps of postOptions, one value each.

    def _text(self, option: str) -> str:
        return str(self[option])

    def _count(self, option: str, low: int, high: int) -> int:
        return parse_count(option, self._text(option), low, high)

    def _seconds(self, option: str, least: float) -> float:
        return parse_seconds(option, self._text(option), least)

    def _size(self, option: str) -> int:
        return parse_size(option, self._text(option))

    def _data_dir(self) -> Path:
        raw = self["data-dir"]
        if not raw:
            raise usage.UsageError("--data-dir: the directory name is empty")
        return Path(os.path.abspath(os.path.expanduser(raw)))

    def _redis(self) -> RedisAddress | None:
        raw = self["redis"]
        return None if raw is None else parse_redis_url(raw)

    def _secret(self, option: str, variable: str) -> str | None:
        value = self[option] or self._environ.get(variable, "")
        return value or None

    def _mail(self) -> tuple[MailRelay | None, str | None, str | None]:
        """
        C{--smtp}, C{--mail-from} and C{--public-url}, checked together.

        @return: the relay, the sender and the public URL.
        """
        raw = self["public-url"]
        public = None if raw is None else parse_public_url(raw)
        if self["smtp"] is None:
            if self["mail-from"] is not None:
                raise usage.UsageError("--mail-from: give --smtp too")
            return None, None, public
        if public is None:
            raise usage.UsageError(
                "--smtp needs --public-url: the links it mails point there"
            )
        relay = parse_smtp_url(
            self["smtp"], self._environ.get(SMTP_PASSWORD_ENV) or None
        )
        sender = parse_mail_from(self["mail-from"], public)
        return relay, sender, public

    def _workers(self) -> int:
        return 0 if self["no-worker"] else self._count("workers", 1, 256)

    def _files_dir(self) -> Path | None:
        raw = self["files-dir"]
        if raw is None:
            return None
        if not raw.strip():
            raise usage.UsageError("--files-dir: the directory name is empty")
        return Path(os.path.abspath(os.path.expanduser(raw)))

    def _sign_in(self) -> dict[str, Any]:
        apps = oauth_apps(self._oauth, self._secret_files, self._environ)
        return {"oauth": apps, "code_hosts": code_hosts(self._hosts, apps)}

    def _live(self) -> LiveSettings:
        return LiveSettings(
            ip_limit=self._count("live-ip-limit", 1, 1_000_000),
            send_limit=self._count("live-send-limit", 1024, 1024**3),
            ping_interval=self._count("live-ping", 0, 86400),
            deflate=bool(self["live-deflate"]),
            echo=bool(self["live-echo"]),
        )


__all__ = [
    "ADMIN_TOKEN_ENV",
    "SESSION_SECRET_ENV",
    "SMTP_PASSWORD_ENV",
    "WEBHOOK_SECRET_ENV",
    "Options",
]

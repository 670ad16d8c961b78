"""
Tests for L{julytwisted.config}: the options of C{twistd julython}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from twisted.python.usage import UsageError

from julytwisted.config import (
    Config,
    Options,
    RedisAddress,
    parse_listen,
    parse_redis_url,
)
from julytwisted.game.games import Game


def parse(args: Sequence[str], environ: Mapping[str, str] | None = None) -> Config:
    """Parse a command line with an empty environment unless one is given."""
    options = Options({} if environ is None else environ)
    options.parseOptions(list(args))  # type: ignore[no-untyped-call]
    return options.config


def refused(args: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """Parse a command line that must be refused, and return the message."""
    with pytest.raises(UsageError) as caught:
        parse(args, environ)
    return str(caught.value)


def test_defaults() -> None:
    """With no options: the default listen, embedded Redis, no secrets."""
    config = parse([])
    assert config.listen == ("tcp:8080:interface=127.0.0.1",)
    assert config.redis is None
    assert config.webhook_secret is None
    assert config.admin_token is None
    assert config.games == ()
    assert config.webhook_max_body == 25 * 1024 * 1024
    assert config.redis_timeout == 5.0


def test_default_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data directory defaults to julython-data under the working directory."""
    monkeypatch.chdir(tmp_path)
    assert parse([]).data_dir == tmp_path / "julython-data"


def test_data_dir_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative --data-dir is resolved against the working directory."""
    monkeypatch.chdir(tmp_path)
    assert parse(["--data-dir", "a/../b"]).data_dir == tmp_path / "b"


def test_data_dir_absolute(tmp_path: Path) -> None:
    """An absolute --data-dir is kept."""
    assert parse(["--data-dir", str(tmp_path)]).data_dir == tmp_path


def test_data_dir_empty_refused() -> None:
    """An empty --data-dir is refused."""
    assert "--data-dir" in refused(["--data-dir", ""])


def test_options_holds_config() -> None:
    """After parseOptions the options carry the Config as .config."""
    options = Options({})
    options.parseOptions(["--listen", "9000"])  # type: ignore[no-untyped-call]
    assert isinstance(options.config, Config)
    assert options["listen"] == ("tcp:9000",)


def test_listen_one() -> None:
    """One --listen replaces the default."""
    assert parse(["--listen", "unix:/tmp/j.sock"]).listen == ("unix:/tmp/j.sock",)


def test_listen_repeated() -> None:
    """Repeated --listen options are all kept, in order."""
    config = parse(["--listen", "tcp:80", "--listen=tcp6:81:interface=\\:\\:1"])
    assert config.listen == ("tcp:80", "tcp6:81:interface=\\:\\:1")


def test_listen_bare_port() -> None:
    """A bare port number becomes a TCP endpoint description."""
    assert parse(["--listen", "8081"]).listen == ("tcp:8081",)


def test_listen_endpoint_types() -> None:
    """Each supported endpoint type is accepted as given."""
    for description in (
        "tcp:8080",
        "tcp6:8080",
        "ssl:443:privateKey=k.pem",
        "unix:/run/j.sock",
        "systemd:domain=INET:index=0",
    ):
        assert parse_listen(description) == description


def test_listen_empty_refused() -> None:
    """An empty --listen is refused."""
    assert "empty" in refused(["--listen", ""])


def test_listen_unknown_type_refused() -> None:
    """An endpoint type outside tcp, tcp6, ssl, unix, systemd is refused."""
    message = refused(["--listen", "http:8080"])
    assert "'http'" in message
    assert "tcp, tcp6, ssl, unix, systemd" in message


def test_listen_type_without_arguments_refused() -> None:
    """An endpoint type with nothing after it is refused."""
    assert "arguments" in refused(["--listen", "tcp:"])
    assert "arguments" in refused(["--listen", "unix"])


def test_listen_port_too_large_refused() -> None:
    """A bare port over 65535 is refused."""
    assert "65536" in refused(["--listen", "65536"])


def test_redis_host() -> None:
    """A redis:// URL with a host only takes port 6379 and database 0."""
    address = parse(["--redis", "redis://cache.example"]).redis
    assert address == RedisAddress("cache.example", 6379, None, 0, None)
    assert address is not None and not address.is_unix


def test_redis_full() -> None:
    """A redis:// URL gives its password (percent-decoded), port and database."""
    address = parse_redis_url("redis://:s%40cret@10.0.0.5:7000/3")
    assert address == RedisAddress("10.0.0.5", 7000, None, 3, "s@cret")


def test_redis_ipv6() -> None:
    """A bracketed IPv6 host is understood."""
    assert parse_redis_url("redis://[::1]:6380").host == "::1"


def test_redis_trailing_slash() -> None:
    """A redis:// URL ending in a bare slash selects database 0."""
    assert parse_redis_url("redis://h/").db == 0


def test_redis_unix() -> None:
    """A unix:// URL names a socket path and optionally a database."""
    address = parse(["--redis", "unix:///run/redis/redis.sock?db=2"]).redis
    assert address == RedisAddress(None, None, "/run/redis/redis.sock", 2, None)
    assert address is not None and address.is_unix


def test_redis_unix_default_db() -> None:
    """A unix:// URL without a query selects database 0."""
    assert parse_redis_url("unix:///tmp/r.sock").db == 0


def test_rediss_refused() -> None:
    """rediss:// is refused as not supported yet."""
    message = refused(["--redis", "rediss://h:6380"])
    assert "rediss://" in message
    assert "not supported" in message


def test_redis_other_scheme_refused() -> None:
    """A URL of another form is refused with the accepted forms named."""
    for url in ("http://h", "localhost:6379", "redis+unix:///r.sock", ""):
        message = refused(["--redis", url])
        assert "redis://" in message and "unix://" in message, url


def test_redis_bad_port_refused() -> None:
    """A port that is not a number in range is refused, naming the port."""
    assert "port 'abc'" in refused(["--redis", "redis://h:abc"])
    assert "port '99999'" in refused(["--redis", "redis://h:99999"])
    assert "port 0" in refused(["--redis", "redis://h:0"])


def test_redis_bad_db_refused() -> None:
    """A database that is not a non-negative integer is refused."""
    for url in ("redis://h/x", "redis://h/-1", "redis://h/1/2", "unix:///r?db=a"):
        assert "non-negative integer" in refused(["--redis", url]), url


def test_redis_missing_host_refused() -> None:
    """A redis:// URL without a host is refused."""
    assert "host" in refused(["--redis", "redis://:pw@:6379"])


def test_redis_error_hides_password() -> None:
    """A refusal does not repeat the URL's password."""
    assert "hunter2" not in refused(["--redis", "redis://:hunter2@:6379"])


def test_redis_user_name_refused() -> None:
    """A user name in a redis:// URL is refused."""
    assert "user names" in refused(["--redis", "redis://bob:pw@h"])


def test_redis_unix_with_host_refused() -> None:
    """A unix:// URL with a host part is refused."""
    assert "empty host" in refused(["--redis", "unix://run/redis.sock"])


def test_redis_unix_without_path_refused() -> None:
    """A unix:// URL without a socket path is refused."""
    assert "path" in refused(["--redis", "unix:///"])


def test_redis_unix_unknown_query_refused() -> None:
    """A unix:// URL query parameter other than db is refused."""
    assert "'password'" in refused(["--redis", "unix:///r.sock?password=x"])


def test_redis_query_on_tcp_refused() -> None:
    """A redis:// URL with a query is refused."""
    assert "query" in refused(["--redis", "redis://h?db=1"])


def test_webhook_secret_option() -> None:
    """--webhook-secret sets the secret."""
    assert parse(["--webhook-secret", "s3"]).webhook_secret == "s3"


def test_webhook_secret_from_environment() -> None:
    """Without the option the secret comes from JULYTHON_WEBHOOK_SECRET."""
    environ = {"JULYTHON_WEBHOOK_SECRET": "from-env"}
    assert parse([], environ).webhook_secret == "from-env"


def test_webhook_secret_option_beats_environment() -> None:
    """An explicit --webhook-secret wins over the environment."""
    environ = {"JULYTHON_WEBHOOK_SECRET": "from-env"}
    assert parse(["--webhook-secret", "cli"], environ).webhook_secret == "cli"


def test_webhook_secret_empty_is_unset() -> None:
    """An empty secret, in the environment or the option, counts as unset."""
    environ = {"JULYTHON_WEBHOOK_SECRET": ""}
    assert parse(["--webhook-secret", ""], environ).webhook_secret is None


def test_admin_token_option() -> None:
    """--admin-token sets the token."""
    assert parse(["--admin-token", "t0k"]).admin_token == "t0k"


def test_admin_token_from_environment() -> None:
    """Without the option the token comes from JULYTHON_ADMIN_TOKEN."""
    assert parse([], {"JULYTHON_ADMIN_TOKEN": "env"}).admin_token == "env"


def test_admin_token_option_beats_environment() -> None:
    """An explicit --admin-token wins over the environment."""
    config = parse(["--admin-token", "cli"], {"JULYTHON_ADMIN_TOKEN": "env"})
    assert config.admin_token == "cli"


def test_admin_token_empty_environment_is_unset() -> None:
    """An empty JULYTHON_ADMIN_TOKEN counts as unset."""
    assert parse([], {"JULYTHON_ADMIN_TOKEN": ""}).admin_token is None


def test_environment_read_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default the process environment is read when Options is made."""
    monkeypatch.setenv("JULYTHON_ADMIN_TOKEN", "early")
    options = Options()
    monkeypatch.setenv("JULYTHON_ADMIN_TOKEN", "late")
    options.parseOptions([])  # type: ignore[no-untyped-call]
    assert options.config.admin_token == "early"


def test_game() -> None:
    """--game adds a game, its instants converted to UTC."""
    config = parse(["--game", "Spring Sprint=2026-04-01T02:00+02:00/2026-04-08T00:00Z"])
    start = datetime(2026, 4, 1, tzinfo=UTC)
    assert config.games == (
        Game("Spring Sprint", start, datetime(2026, 4, 8, tzinfo=UTC)),
    )
    assert config.games[0].start.tzinfo is UTC
    assert config.games[0].slug == "spring-sprint"


def test_game_repeated() -> None:
    """Repeated --game options are all kept, in order."""
    config = parse(
        [
            "--game",
            "A=2026-04-01T00:00Z/2026-04-02T00:00Z",
            "--game",
            "B=2026-03-01T00:00Z/2026-03-02T00:00Z",
        ]
    )
    assert [game.name for game in config.games] == ["A", "B"]


def test_game_name_with_equals() -> None:
    """A game's name may hold '=': the window follows the last one."""
    config = parse(["--game", "x=y=2026-04-01T00:00Z/2026-04-02T00:00Z"])
    assert config.games[0].name == "x=y"


def test_game_malformed_refused() -> None:
    """A --game value that is not NAME=START/END is refused."""
    for spec in ("nope", "=2026-04-01T00:00Z/2026-04-02T00:00Z", "A=2026-04-01T00:00Z"):
        assert "NAME=START/END" in refused(["--game", spec]), spec


def test_game_bad_instant_refused() -> None:
    """An instant that is not ISO 8601 is refused, naming it."""
    message = refused(["--game", "A=yesterday/2026-04-02T00:00Z"])
    assert "start 'yesterday'" in message
    assert "ISO 8601" in message


def test_game_naive_instant_refused() -> None:
    """An instant without a UTC offset is refused."""
    message = refused(["--game", "A=2026-04-01T00:00Z/2026-04-02T00:00"])
    assert "end '2026-04-02T00:00'" in message
    assert "offset" in message


def test_game_ends_before_start_refused() -> None:
    """A game that does not end after it starts is refused."""
    spec = "A=2026-04-02T00:00Z/2026-04-02T02:00+02:00"
    assert "end after it starts" in refused(["--game", spec])


def test_game_empty_slug_refused() -> None:
    """A game whose name holds no letter or digit is refused."""
    spec = "!!!=2026-04-01T00:00Z/2026-04-02T00:00Z"
    assert "no letter or digit" in refused(["--game", spec])


def test_game_builtin_slug_refused() -> None:
    """A game whose slug has a built-in game's shape is refused."""
    for name in ("Julython 2027", "J(an)ulython 2027", "JULYTHON-1900"):
        spec = f"{name}=2026-04-01T00:00Z/2026-04-02T00:00Z"
        assert "reserved" in refused(["--game", spec]), name


def test_game_builtin_like_slug_accepted() -> None:
    """A slug that only resembles a built-in game's is accepted."""
    spec = "Julython 2026 Sprint=2026-04-01T00:00Z/2026-04-02T00:00Z"
    assert parse(["--game", spec]).games[0].slug == "julython-2026-sprint"


def test_game_duplicate_slug_refused() -> None:
    """Two games with the same slug are refused, naming both."""
    message = refused(
        [
            "--game",
            "Spring Sprint=2026-04-01T00:00Z/2026-04-02T00:00Z",
            "--game",
            "spring-sprint=2026-05-01T00:00Z/2026-05-02T00:00Z",
        ]
    )
    assert "'Spring Sprint'" in message
    assert "'spring-sprint'" in message


def test_help_text() -> None:
    """The usage text documents every option, the defaults and the environment."""
    text = Options({}).getUsage(width=80)
    for option in ("--listen", "--redis", "--data-dir", "--webhook-secret"):
        assert option in text
    for detail in ("--admin-token", "--game", "tcp:8080:interface=127.0.0.1"):
        assert detail in text
    assert "JULYTHON_WEBHOOK_SECRET" in text and "JULYTHON_ADMIN_TOKEN" in text


def test_config_direct() -> None:
    """A Config needs only its data directory; the rest has defaults."""
    config = Config(data_dir="/srv/j")
    assert config.data_dir == Path("/srv/j")
    assert config.listen == ("tcp:8080:interface=127.0.0.1",)
    assert attrs.evolve(config, admin_token="x").admin_token == "x"


def test_config_frozen() -> None:
    """A Config cannot be changed in place."""
    config = Config(data_dir=Path("/srv/j"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.admin_token = "x"  # type: ignore[misc]


def test_workers_and_no_worker() -> None:
    """--workers sets how many jobs run at once; --no-worker makes it 0."""
    from julytwisted.config import Options

    def config(*argv: str) -> object:
        options = Options(environ={})
        options.parseOptions(list(argv))
        return options.config

    assert config().workers == 4  # type: ignore[attr-defined]
    assert config("--workers", "8").workers == 8  # type: ignore[attr-defined]
    assert config("--no-worker").workers == 0  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="--workers"):
        config("--workers", "0")


@pytest.mark.parametrize(
    "option", ["--workers", "--upload-max-parts", "--live-ip-limit", "--sweep-every"]
)
def test_counts_refuse_digits_other_than_ascii(option: str) -> None:
    """
    A count written in digits that are not ASCII (C{"\u00b2"} is a digit to
    C{str.isdigit}, not to C{int}) is a usage error naming the option, not
    a traceback.
    """
    assert option in refused([option, "\u00b2"])


def test_notify_urls() -> None:
    """--notify is repeatable and must be http(s)."""
    from julytwisted.config import Options

    options = Options(environ={})
    options.parseOptions(["--notify", "https://a.example/x", "--notify", "http://b/y"])
    assert options.config.notify == ("https://a.example/x", "http://b/y")
    with pytest.raises(UsageError, match="--notify"):
        Options(environ={}).parseOptions(["--notify", "ftp://nope"])


def test_job_timing_options() -> None:
    """
    --job-visibility and --job-grace take seconds within bounds; a bad value
    is refused with the option's name.
    """
    from julytwisted.config import Options

    def config(*argv: str) -> Config:
        options = Options(environ={})
        options.parseOptions(list(argv))
        return options.config

    assert (config().job_visibility, config().job_grace) == (30.0, 10.0)
    chosen = config("--job-visibility", "2.5", "--job-grace", "0")
    assert (chosen.job_visibility, chosen.job_grace) == (2.5, 0.0)
    for option, value in [
        ("--job-visibility", "0.5"),
        ("--job-visibility", "soon"),
        ("--job-grace", "-1"),
        ("--job-grace", "nan"),
        ("--job-grace", "100000"),
    ]:
        with pytest.raises(UsageError, match=option):
            config(option, value)


def test_upload_defaults() -> None:
    """Uploads: 20 MiB a file, 100 MiB a body, 10 files, 200 MiB a player."""
    config = parse([])
    assert (config.upload_max_file, config.upload_max_body) == (20 << 20, 100 << 20)
    assert (config.upload_max_parts, config.upload_quota) == (10, 200 << 20)
    assert config.upload_types["avatar"] == config.upload_types["screenshot"]
    assert "text/html" not in config.upload_types["file"]


def test_upload_sizes_take_units() -> None:
    """Sizes are bytes, or K, M, G (with or without iB) in powers of 1024."""
    config = parse(
        [
            "--upload-max-file=512K",
            "--upload-max-body=1GiB",
            "--upload-quota=1000",
            "--upload-max-parts=3",
        ]
    )
    assert config.upload_max_file == 512 * 1024
    assert config.upload_max_body == 1 << 30
    assert (config.upload_quota, config.upload_max_parts) == (1000, 3)


@pytest.mark.parametrize(
    "args",
    [
        ["--upload-max-file=lots"],
        ["--upload-max-body=0"],
        ["--upload-quota=-1M"],
        ["--upload-max-parts=0"],
        ["--upload-types=video=video/mp4"],
        ["--upload-types=avatar=not a type"],
        ["--upload-types=avatar"],
    ],
)
def test_upload_bad_values_refused(args: list[str]) -> None:
    """A bad size, count, kind or content type is a usage error naming it."""
    option = args[0].split("=")[0].removeprefix("--")
    assert option in refused(args)


def test_upload_types_replace_a_kind() -> None:
    """--upload-types replaces one kind's list and keeps the others."""
    config = parse(["--upload-types", "avatar=image/png", "--upload-types=file=*"])
    assert config.upload_types["avatar"] == ("image/png",)
    assert config.upload_types["file"] == ("*",)
    assert "image/gif" in config.upload_types["screenshot"]


def test_sentinel_urls() -> None:
    """redis+sentinel:// names the Sentinels and the master; bad ones refused."""
    from julytwisted.config import parse_redis_url

    found = parse_redis_url("redis+sentinel://:pw@10.0.0.1,10.0.0.2:26380/main?db=3")
    assert found.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380))
    assert (found.service, found.db, found.password) == ("main", 3, "pw")
    assert (found.host, found.port, found.path) == (None, None, None)
    for bad in [
        "redis+sentinel://10.0.0.1",
        "redis+sentinel://10.0.0.1/",
        "redis+sentinel://10.0.0.1:notaport/main",
        "redis+sentinel://10.0.0.1:70000/main",
        "redis+sentinel://user:pw@10.0.0.1/main",
        "redis+sentinel://10.0.0.1/main?timeout=3",
    ]:
        with pytest.raises(UsageError, match="--redis"):
            parse_redis_url(bad)


def test_session_secret_and_admin_players() -> None:
    """
    --session-secret falls back to its variable, then to none (a secret kept
    in the data dir); --admin-player is repeatable and lower-cased.
    """
    assert parse([]).session_secret is None
    assert parse([], {"JULYTHON_SESSION_SECRET": "env"}).session_secret == "env"
    given = parse(["--session-secret", "s"], {"JULYTHON_SESSION_SECRET": "env"})
    assert given.session_secret == "s"
    config = parse(["--admin-player", "Ada", "--admin-player", "bob"])
    assert config.admin_players == ("ada", "bob")
    assert "--admin-player" in refused(["--admin-player", " "])


def test_open_repositories() -> None:
    """
    Repositories nobody added are refused by default; --open-repositories
    makes an open event, its secret from the environment as before.
    """
    assert parse([]).open_repositories is False
    config = parse(["--open-repositories"], {"JULYTHON_WEBHOOK_SECRET": "s"})
    assert (config.open_repositories, config.webhook_secret) == (True, "s")


def test_late_grace_default_and_units() -> None:
    """--late-grace: 48 hours unless given, in seconds, minutes, hours or days."""
    assert parse([]).late_grace == timedelta(hours=48)
    for given, expected in [
        ("2d", timedelta(days=2)),
        ("30m", timedelta(minutes=30)),
        ("12H", timedelta(hours=12)),
        ("0s", timedelta(0)),
        ("366d", timedelta(days=366)),
    ]:
        assert parse(["--late-grace", given]).late_grace == expected


@pytest.mark.parametrize(
    "given", ["", "48", "h", "-1h", "1.5h", "2w", "367d", "9999999d"]
)
def test_late_grace_refused(given: str) -> None:
    """A late grace without its unit, negative or over a year is refused."""
    assert refused(["--late-grace", given]).startswith("--late-grace: a duration")


def test_verify_commits() -> None:
    """Commits score without asking their host unless --verify-commits."""
    assert parse([]).verify_commits is False
    assert parse(["--verify-commits"]).verify_commits is True

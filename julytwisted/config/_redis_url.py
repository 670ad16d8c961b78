# -*- test-case-name: tests.config.test_config -*-
"""
C{--redis}: the URL of an external Redis server, reached over TCP, a Unix
socket, or through Redis Sentinel, parsed into a L{RedisAddress}.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from twisted.python import usage

from julytwisted.config._settings import DEFAULT_REDIS_PORT, RedisAddress

REDIS_FORMS = (
    "redis://[:PASSWORD@]HOST[:PORT][/DB], unix:///PATH/TO.sock[?db=DB] or "
    "redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER[?db=DB]"
)
"""The forms C{--redis} accepts, as its help and its errors show them."""

DEFAULT_SENTINEL_PORT = 26379
"""The port of a Sentinel a C{redis+sentinel://} URL names without one."""

_DIGITS = re.compile(r"[0-9]+")


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
        f"--redis {_redact(url)!r}: expected a URL of the form {REDIS_FORMS}"
    )


def _redact(url: str) -> str:
    """The URL without its password, for an error message."""
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


def _db_query(pairs: list[tuple[str, str]]) -> int:
    """The database a URL's query selects: C{db=N}, the only key understood."""
    db = 0
    for key, value in pairs:
        if key != "db":
            raise usage.UsageError(
                f"--redis: unknown query parameter {key!r}; only db is understood"
            )
        db = _db(value)
    return db


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
    return RedisAddress(host=None, port=None, path=path, db=_db_query(query))


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
    sentinels = tuple(_sentinel(item) for item in hosts.split(","))
    return RedisAddress(
        host=None,
        port=None,
        path=None,
        db=_db_query(parse_qsl(query, keep_blank_values=True)),
        password=password,
        sentinels=sentinels,
        service=unquote(service),
    )


def _sentinel(item: str) -> tuple[str, int]:
    """One C{HOST[:PORT]} of a C{redis+sentinel://} URL's list."""
    host, colon, port_text = item.strip().rpartition(":")
    if not colon:
        host, port_text = item.strip(), str(DEFAULT_SENTINEL_PORT)
    host = host.strip("[]")
    if not host or not _DIGITS.fullmatch(port_text) or not 0 < int(port_text) < 65536:
        raise usage.UsageError(f"--redis: sentinel {item!r} is not HOST:PORT")
    return host, int(port_text)


__all__ = ["DEFAULT_SENTINEL_PORT", "REDIS_FORMS", "parse_redis_url"]

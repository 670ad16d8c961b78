# -*- test-case-name: tests.config.test_config -*-
"""
The command line of C{twistd julython} and the frozen L{Config} it produces.

Every value is checked before any service starts, and every bad value
raises L{usage.UsageError<twisted.python.usage.UsageError>} with a message
naming the option and the problem; C{twistd} prints it beside the usage
text.  This package does not import C{twisted.internet}: listen endpoints
are checked for their shape only, and L{julytwisted.service} turns them
into endpoints.

The implementation lives in private modules, one concern each:
C{_settings} (the records and their defaults), C{_parsers} (one parser per
kind of value), C{_redis_url} (C{--redis}), C{_mail} (C{--smtp} and the
mail's other options) and C{_options} (L{Options}, the option table); this
module is the public surface.
"""

from julytwisted.config._mail import parse_smtp_url
from julytwisted.config._options import (
    ADMIN_TOKEN_ENV,
    SESSION_SECRET_ENV,
    SMTP_PASSWORD_ENV,
    WEBHOOK_SECRET_ENV,
    Options,
)
from julytwisted.config._parsers import (
    ENDPOINT_TYPES,
    parse_game,
    parse_limit,
    parse_listen,
    parse_size,
    parse_upload_types,
)
from julytwisted.config._redis_url import parse_redis_url
from julytwisted.config._settings import (
    DEFAULT_DATA_DIR,
    DEFAULT_LIMITS,
    DEFAULT_LISTEN,
    DEFAULT_REDIS_PORT,
    DEFAULT_UPLOAD_TYPES,
    Config,
    Limit,
    LiveSettings,
    MailRelay,
    RedisAddress,
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
    "SMTP_PASSWORD_ENV",
    "WEBHOOK_SECRET_ENV",
    "Config",
    "Limit",
    "LiveSettings",
    "MailRelay",
    "Options",
    "RedisAddress",
    "parse_game",
    "parse_limit",
    "parse_listen",
    "parse_redis_url",
    "parse_size",
    "parse_smtp_url",
    "parse_upload_types",
]

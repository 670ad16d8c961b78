# -*- test-case-name: tests.redis_service.test_redis_service -*-
"""
Redis for the rest of the service: an embedded redis-server child process or
an external server, and the one client every part talks through.

Every command goes through L{RedisClient}, which puts a deadline on it:
txredisapi queues commands silently while Redis is away, and a request must
fail fast (503) instead of hanging.

The implementation lives in private modules, one concern each:
C{_embedded} (the redis-server child process), C{_client} (the client with
deadlines, scripts, L{all_of}) and C{_service} (L{RedisService}, connecting
over TCP, a Unix socket or Sentinel); this module is the public surface.
"""

from julytwisted.redis_service._client import RedisClient, RedisObserver, Script, all_of
from julytwisted.redis_service._embedded import (
    EmbeddedRedis,
    embedded_arguments,
    find_redis_server,
)
from julytwisted.redis_service._service import RedisService

__all__ = [
    "EmbeddedRedis",
    "RedisClient",
    "RedisObserver",
    "RedisService",
    "Script",
    "all_of",
    "embedded_arguments",
    "find_redis_server",
]

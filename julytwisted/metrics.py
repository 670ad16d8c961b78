# -*- test-case-name: tests.test_metrics -*-
"""
What a process has done, for Prometheus: requests, webhooks, JSON-RPC calls,
jobs, the queue and Redis, in a registry of the process's own, served as
text at C{/metrics}.

The parts do not import this module: each takes a small callable (an
observer) and L{Metrics} supplies the ones that count.  Label values come from
fixed vocabularies, never straight from a client, so that no request can grow
the number of series without bound.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

log = Logger()

#: Path segments kept as they are in a route label; any other becomes C{*}.
_SEGMENTS = frozenset(
    {
        "api", "v1", "people", "projects", "locations", "teams", "languages",
        "commits", "games", "jobs", "openapi.json", "github", "bitbucket",
        "gitlab", "json", "browse", "live", "upload", "files", "healthz",
        "metrics", "help", "signup", "login", "logout", "profile", "admin",
        "static",
    }
)  # fmt: skip

#: Request latency buckets, in seconds: a fast page to a 2048-commit push.
_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)

#: Redis call buckets, in seconds.
_REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1)

_METHOD_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.]{0,63}")


def route(path: bytes) -> str:
    """
    A route label for a request path: known segments kept, others (names,
    hashes, ids) as C{*}, at most four segments deep.

    @param path: the request's path, without its query.
    """
    text = path.decode("latin-1")
    segments = text.strip("/").split("/")[:5]
    kept = [s if s in _SEGMENTS else "*" for s in segments if s]
    if len(kept) > 4:
        kept[4:] = ["..."]
    trailing = "/" if text.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


class Metrics:
    """
    The process's metrics and the observers that feed them.

    @ivar registry: this process's registry (not the global one, so tests
        and several Sites in one process stay apart).
    """

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        self._requests = Counter(
            "julython_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self._latency = Histogram(
            "julython_http_request_duration_seconds",
            "Time from a request's arrival to its last byte, by route.",
            ["route"],
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self._in_flight = Gauge(
            "julython_http_requests_in_flight",
            "Requests received and not yet answered.",
            registry=r,
        )
        self._pushes = Counter(
            "julython_webhook_pushes",
            "Webhook pushes ingested, by service.",
            ["service"],
            registry=r,
        )
        self._commits = Counter(
            "julython_commits_ingested",
            "Commits stored for the first time by webhook pushes, by service.",
            ["service"],
            registry=r,
        )
        self._rpc = Counter(
            "julython_rpc_calls",
            "JSON-RPC calls, by method and error code (0: success).",
            ["method", "code"],
            registry=r,
        )
        self._jobs = Counter(
            "julython_jobs",
            "Job runs, by job and outcome (done, retry, failed).",
            ["job", "outcome"],
            registry=r,
        )
        self._queue = Gauge(
            "julython_queue_jobs",
            "Jobs in the queue by state, read from Redis at each scrape.",
            ["state"],
            registry=r,
        )
        self._redis = Histogram(
            "julython_redis_call_duration_seconds",
            "Redis calls, by command or script.",
            ["call"],
            buckets=_REDIS_BUCKETS,
            registry=r,
        )
        self._redis_errors = Counter(
            "julython_redis_errors",
            "Redis calls that failed, by command or script and kind "
            "(unavailable: down or too slow; error: an error reply).",
            ["call", "kind"],
            registry=r,
        )
        self._limited = Counter(
            "julython_rate_limited",
            "Requests refused by a rate limit, by limit.",
            ["limit"],
            registry=r,
        )
        self._live_connections = Gauge(
            "julython_live_connections",
            "Websocket watchers connected to this process.",
            registry=r,
        )
        self._live_frames = Counter(
            "julython_live_frames_sent",
            "Live feed frames sent to watchers (each holds one message, or "
            "several coalesced under load).",
            registry=r,
        )

    # The observers the parts are given.

    def request(self, method: bytes, path: bytes, status: int, seconds: float) -> None:
        """A request was answered."""
        label = route(path)
        verb = method.decode("latin-1") if method.isalpha() else "other"
        self._requests.labels(label, verb[:10], str(status)).inc()
        self._latency.labels(label).observe(seconds)

    def in_flight_from(self, count: Callable[[], float]) -> None:
        """Read the number of requests being answered from C{count}."""
        self._in_flight.set_function(count)

    def push(self, service: str, new_commits: int) -> None:
        """A webhook push was ingested."""
        self._pushes.labels(service).inc()
        self._commits.labels(service).inc(new_commits)

    def rpc_call(self, method: str | None, code: int) -> None:
        """
        A JSON-RPC call ended.

        @param method: the method called, or L{None} when it named none that
            exists (so unknown names do not become series).
        @param code: 0, or the error code of its answer.
        """
        name = method if method and _METHOD_NAME.fullmatch(method) else "(unknown)"
        self._rpc.labels(name, str(code)).inc()

    def limited(self, limit: str) -> None:
        """A request was refused by the rate limit C{limit}."""
        self._limited.labels(limit).inc()

    def live_from(self, watchers: Callable[[], float]) -> None:
        """Read the number of live watchers from C{watchers}."""
        self._live_connections.set_function(watchers)

    def live_frames(self, count: int) -> None:
        """C{count} watchers were each sent a frame."""
        self._live_frames.inc(count)

    def job(self, name: str, outcome: str) -> None:
        """A job run ended: C{done}, C{retry} or C{failed}."""
        self._jobs.labels(name, outcome).inc()

    def redis_call(self, call: str, seconds: float, failure: str | None) -> None:
        """A Redis call ended; C{failure} is None, unavailable or error."""
        self._redis.labels(call).observe(seconds)
        if failure is not None:
            self._redis_errors.labels(call, failure).inc()

    def queue_depth(self, stats: dict[str, int]) -> None:
        """The queue's counts by state, from L{julytwisted.tasks.Queue.stats}."""
        for state, count in stats.items():
            self._queue.labels(state).set(count)

    def render(self) -> bytes:
        """@return: every metric in Prometheus' text format."""
        return generate_latest(self.registry)


class MetricsResource(Resource):
    """
    C{GET /metrics}: reads the queue's depth from Redis, then renders every
    metric.  When Redis does not answer, the rest is still served, and the
    queue gauges keep their last values.
    """

    isLeaf = True

    def __init__(
        self,
        metrics: Metrics,
        refresh: Callable[[], Awaitable[dict[str, int]]],
    ) -> None:
        """
        @param refresh: reads the queue's counts by state.
        """
        Resource.__init__(self)
        self._metrics = metrics
        self._refresh = refresh

    def render_GET(self, request: Request) -> int:
        d = Deferred.fromCoroutine(self._render(request))
        d.addErrback(lambda f: log.failure("rendering /metrics failed", f))
        return NOT_DONE_YET

    async def _render(self, request: Request) -> None:
        gone: list[object] = []
        request.notifyFinish().addErrback(gone.append)
        try:
            self._metrics.queue_depth(await self._refresh())
        except Exception as e:
            log.warn("/metrics: no queue depth this time: {e}", e=e)
        if gone:
            return
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        request.setHeader(b"Cache-Control", b"no-store")
        request.write(self._metrics.render())
        request.finish()


__all__ = ["Metrics", "MetricsResource", "route"]

"""
C{/metrics}: what a process counts, read back through Prometheus' own text
parser from a real Site, Redis and worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import reactor

from julytwisted.config import RedisAddress
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.jobs.worker import Backoff, WorkerService
from julytwisted.metrics import Metrics, route
from julytwisted.redis_service import RedisService, Script
from tests.builders import body, github_payload
from tests.jobs.test_queue import settle


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(scrape: dict[Any, float], name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (b"/", "/"),
        (b"/healthz", "/healthz"),
        (b"/api/v1/people", "/api/v1/people"),
        (b"/api/v1/people/ada", "/api/v1/people/*"),
        (b"/api/v1/commits/" + b"a" * 40, "/api/v1/commits/*"),
        (b"/json/", "/json/"),
        (b"/json/julython.whoami", "/json/*"),
        (b"/files/abc/def/ghi/jkl/mno", "/files/*/*/*/..."),
        (b"/%00/\xff", "/*/*"),
    ],
)
def test_route_labels(path: bytes, label: str) -> None:
    """Known segments stay; names, ids and anything else become *."""
    assert route(path) == label


@pytest_twisted.ensureDeferred
async def test_site_counts_requests_pushes_and_calls(server: str) -> None:
    """
    A scrape after some traffic shows requests by route and status with their
    latency, the push and its new commits, JSON-RPC calls by method and code
    (an unknown method's name is not a label), and the queue by state.
    """
    await treq.get(server + "/api/v1/people")
    await treq.get(server + "/api/v1/people/nobody")
    await treq.post(
        server + "/api/v1/github",
        body(github_payload("one", "two")),
        headers={"X-GitHub-Event": "push", "Content-Type": "application/json"},
    )
    for method in ("system.listMethods", "no.such.method"):
        call = {"jsonrpc": "2.0", "id": 1, "method": method}
        headers = {"Content-Type": "application/json"}
        await treq.post(server + "/json/", json.dumps(call).encode(), headers=headers)

    response = await treq.get(server + "/metrics")
    assert response.code == 200
    assert response.headers.getRawHeaders("Content-Type")[0].startswith("text/plain")
    scrape = samples(await response.text())

    requests = "julython_http_requests_total"
    assert value(scrape, requests, route="/api/v1/people", method="GET", status="200")
    assert value(scrape, requests, route="/api/v1/people/*", method="GET", status="404")
    assert value(scrape, requests, route="/api/v1/github", method="POST", status="201")
    latency = "julython_http_request_duration_seconds_count"
    assert value(scrape, latency, route="/api/v1/people/*") == 1
    assert value(scrape, "julython_webhook_pushes_total", service="github") == 1
    assert value(scrape, "julython_commits_ingested_total", service="github") == 2
    calls = "julython_rpc_calls_total"
    assert value(scrape, calls, method="system.listMethods", code="0") == 1
    assert value(scrape, calls, method="(unknown)", code="-32601") == 1
    assert not [k for k in scrape if "no.such.method" in str(k)]
    assert ("julython_queue_jobs", (("state", "dead"),)) in scrape
    assert value(scrape, "julython_http_requests_in_flight") == 1  # the scrape
    assert value(scrape, "process_resident_memory_bytes") > 0


@pytest_twisted.ensureDeferred
async def test_metrics_without_redis(server_without_redis: str) -> None:
    """With Redis away, /metrics still answers, without the queue's depth."""
    response = await treq.get(server_without_redis + "/metrics")
    assert response.code == 200
    scrape = samples(await response.text())
    assert ("julython_queue_jobs", (("state", "dead"),)) not in scrape


@pytest_twisted.ensureDeferred
async def test_redis_calls_timed_and_errors_counted(
    redis_socket: Path, tmp_path: Path
) -> None:
    """Commands and scripts are timed by name; error replies are counted."""
    metrics = Metrics()
    service = RedisService(
        reactor,
        RedisAddress(None, None, str(redis_socket), 0, None),
        tmp_path,
        observe=metrics.redis_call,
    )
    service.startService()
    try:
        await service.client.execute("PING")
        await service.client.run(Script("return 1", "one"))
        with pytest.raises(Exception, match=r"unknown command"):
            await service.client.execute("NOSUCHCOMMAND")
    finally:
        await service.stopService()
    scrape = samples(metrics.render().decode())
    count = "julython_redis_call_duration_seconds_count"
    assert value(scrape, count, call="PING") == 1
    # A script new to Redis costs a NOSCRIPT error reply, then EVAL.
    assert value(scrape, count, call="script:one") == 2
    errors = "julython_redis_errors_total"
    assert value(scrape, errors, call="NOSUCHCOMMAND", kind="error") == 1


@pytest_twisted.ensureDeferred
async def test_job_outcomes_counted(redis: RedisService) -> None:
    """A job that fails twice then succeeds counts two retries and a done."""
    metrics = Metrics()
    registry = JobRegistry()
    queue = Queue(redis.client, reactor)
    attempts = []

    @registry.job("flaky")
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return "ok"

    worker = WorkerService(
        queue,
        redis.dedicated_client(),
        registry,
        reactor,
        backoff=Backoff(base=0.05, cap=0.1),
        poll=0.1,
        observe=metrics.job,
    )
    worker.startService()
    try:
        assert (await settle(queue, await queue.enqueue("flaky"))).state == "done"
    finally:
        await worker.stopService()
    scrape = samples(metrics.render().decode())
    assert value(scrape, "julython_jobs_total", job="flaky", outcome="retry") == 2
    assert value(scrape, "julython_jobs_total", job="flaky", outcome="done") == 1

"""
Logs: one structured access event per request, with its id, and the JSON
lines observer, in a real C{twistd --logger julytwisted.logs.json_lines}.
"""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path

import pytest
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

from julytwisted.logs import json_lines, record
from julytwisted.site import request_id
from tests.test_twistd import Node, free_port


def test_record_carries_fields_and_traceback() -> None:
    """An event's own fields are kept; a failure comes with its traceback."""
    out = io.StringIO()
    log = Logger(namespace="test", observer=json_lines(out))
    log.info("{who} pushed {n}", who="ada", n=3, raw=b"\xff", thing=object())
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.failure("oops", Failure())
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "ada pushed 3" and first["level"] == "info"
    assert (first["who"], first["n"], first["raw"]) == ("ada", 3, "\ufffd")
    assert first["namespace"] == "test" and first["time"].endswith("Z")
    assert first["thing"].startswith("<object")
    assert second["level"] == "critical" and "ZeroDivisionError" in second["traceback"]


def test_record_of_a_bare_event() -> None:
    """An event with no format still makes a record."""
    assert record({"log_level": LogLevel.warn})["level"] == "warn"


def test_request_ids() -> None:
    """A proxy's plain id is kept; anything else gets a fresh one."""
    assert request_id(b"req-42.a:b_c") == "req-42.a:b_c"
    for given in (None, b"", b"x" * 65, b"bad id", b"\xff", b"a\nb"):
        made = request_id(given)
        assert len(made) == 16 and made != request_id(given)


def test_twistd_json_logs_one_event_per_request(tmp_path: Path) -> None:
    """
    Under C{twistd --logger julytwisted.logs.json_lines}, every line of the
    log is JSON, and each request has one access event with its id, the
    one echoed in X-Request-ID.
    """
    node = Node(tmp_path, free_port())
    node.twistd_options = ("--logger", "julytwisted.logs.json_lines")
    node.start()
    try:
        asked = urllib.request.Request(
            node.url + "/healthz", headers={"X-Request-ID": "from-nginx-1"}
        )
        with urllib.request.urlopen(asked, timeout=10) as response:
            assert response.headers["X-Request-ID"] == "from-nginx-1"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(node.url + "/api/v1/nope", timeout=10)
        made = missing.value.headers["X-Request-ID"]
    finally:
        assert node.stop()
    lines = [json.loads(line) for line in node.log().splitlines() if line.strip()]
    access = {
        r["request_id"]: r for r in lines if r["namespace"] == "julytwisted.access"
    }
    hit = access["from-nginx-1"]
    assert (hit["method"], hit["uri"], hit["status"]) == ("GET", "/healthz", 200)
    assert hit["duration_ms"] >= 0 and hit["client"] == "127.0.0.1"
    assert access[made]["status"] == 404
    assert any("starting up" in r["message"] for r in lines)

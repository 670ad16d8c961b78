# -*- test-case-name: tests.test_logs -*-
"""
Logs as JSON lines, one object per event, for log shippers:

    twistd --logger julytwisted.logs.json_lines -n julython

Each line holds the time (ISO 8601, UTC), the level, the namespace, the
formatted message, the event's own fields (an access event's request id,
method, status, duration...), and a failure's traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import IO, Any

from twisted.logger import ILogObserver, LogEvent, formatEvent
from zope.interface import provider

#: Event keys twisted.logger and the legacy log add for themselves.
_INTERNAL = frozenset({"format", "message", "isError", "system", "time", "why"})


def _field(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple) and len(value) <= 100:
        return [_field(v) for v in value]
    return repr(value)[:1000]


def record(event: LogEvent) -> dict[str, Any]:
    """
    @return: the JSON-ready object of one event: C{time}, C{level},
        C{namespace}, C{message}, its public fields, and C{traceback} when it
        carries a failure.
    """
    when = datetime.fromtimestamp(event.get("log_time", 0.0), UTC)
    level = event.get("log_level")
    found: dict[str, Any] = {
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": getattr(level, "name", "info"),
        "namespace": event.get("log_namespace", ""),
        "message": formatEvent(event),
    }
    for key, value in event.items():
        if key.startswith("log_") or key in _INTERNAL or key in found:
            continue
        found[key] = _field(value)
    failure = event.get("log_failure")
    if failure is not None:
        found["traceback"] = failure.getTraceback()
    return found


def json_lines(out: IO[str] | None = None) -> ILogObserver:
    """
    A log observer writing each event as one line of JSON: the factory
    C{twistd --logger} takes.

    @param out: where to write; standard output by default.
    """
    stream = sys.stdout if out is None else out

    @provider(ILogObserver)
    def observe(event: LogEvent) -> None:
        try:
            line = json.dumps(record(event), ensure_ascii=False)
        except Exception as e:  # a log line must never break the service
            line = json.dumps({"level": "error", "message": f"unloggable event: {e}"})
        stream.write(line + "\n")
        stream.flush()

    observer: ILogObserver = observe
    return observer


__all__ = ["json_lines", "record"]

"""
WebSocket protocol conformance of /live: every Autobahn test case, run by the
C{kosoku} client against the live feed's echo mode with permessage-deflate
on; and the feed's own frames compressed within the window a client allows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import threads
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect

from julytwisted._compat import LevelledDeflate, per_message_compress
from julytwisted.config import DEFAULT_LIMITS, Config, LiveSettings
from julytwisted.live._protocol import DEFLATE_LEVEL
from tests.live.test_live import push
from tests.live_clients import flatten, settle, ws_url

KOSOKU = str(Path(sys.executable).parent / "kosoku")

#: Cases run at once.  The server's one thread is the bottleneck on two
#: cores: 4 keeps it busy while kosoku works on another case's echo, and 8
#: was no faster (211 s against 218 s).
PARALLELISM = 4

#: Where a failed run's report is kept (the test's own directory goes), as
#: the browser tests keep their screenshots: a CI artifact.
REPORTS = Path(__file__).resolve().parents[2] / "test-results" / "autobahn"

#: Verdicts that pass, as Autobahn (and kosoku's exit status) define them.
#: UNIMPLEMENTED does not: with permessage-deflate on, the compression cases
#: must run.
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """
    Echo mode and permessage-deflate on; no connect rate limit, since the
    suite opens a connection per case from one address.  An open event:
    the deflate tests push to a repository nobody added.
    """
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        live=LiveSettings(echo=True, deflate=True),
        rate_limits={**DEFAULT_LIMITS, "live": None},
        open_repositories=True,
    )


def run_kosoku(url: str, outdir: Path) -> subprocess.CompletedProcess[str]:
    """Every case kosoku has, none left out; a report in C{outdir}."""
    return subprocess.run(
        [KOSOKU, url, "-p", str(PARALLELISM), "-o", str(outdir)],
        capture_output=True,
        text=True,
        timeout=900,
    )


def verdicts(outdir: Path) -> dict[str, tuple[str, str]]:
    """
    @return: each case's behaviour and closing behaviour, from the report,
        in the suite's order (1.1.2 before 1.1.10).
    """
    index = json.loads((outdir / "index.json").read_text())
    found = {
        case: (result["behavior"], result["behaviorClose"])
        for cases in index.values()
        for case, result in cases.items()
    }
    return dict(sorted(found.items(), key=lambda i: [int(n) for n in i[0].split(".")]))


@pytest_twisted.ensureDeferred
async def test_autobahn_cases_pass(live_server: Any, tmp_path: Path) -> None:
    """
    Every case passes: no FAILED, UNCLEAN or UNIMPLEMENTED verdict, no
    error.  On failure the report is kept in L{REPORTS} and the failing
    cases are named.
    """
    server, _ = live_server
    outdir = tmp_path / "r"
    started = time.monotonic()
    out = await threads.deferToThread(run_kosoku, ws_url(server, "echo=1"), outdir)
    took = time.monotonic() - started
    found = verdicts(outdir) if (outdir / "index.json").exists() else {}
    bad = {c: v for c, v in found.items() if not set(v) <= PASSING}
    behaviour = Counter(b for b, _ in found.values())
    closing = Counter(c for _, c in found.values())
    others = [c for c, v in found.items() if v != ("OK", "OK")]
    print(
        f"\nkosoku: {len(found)} cases in {took:.0f} s; behaviour {dict(behaviour)},"
        f" closing {dict(closing)}; not OK: {', '.join(others)}"
    )
    if out.returncode != 0 or bad or not found:
        if outdir.exists():
            shutil.rmtree(REPORTS, ignore_errors=True)
            shutil.copytree(outdir, REPORTS)
        pytest.fail(
            f"{len(bad)} of {len(found)} cases failed: {list(bad.items())[:50]}; "
            f"report kept in {REPORTS.resolve()}\n"
            + out.stdout[-3000:]
            + out.stderr[-3000:]
        )
    assert f"{len(found)} cases passed" in out.stdout


def _deflated_watch(url: str, wanted: int) -> tuple[list[dict[str, Any]], str]:
    """
    Watch with permessage-deflate, asking the server to compress within a
    512-byte window; @return: the messages and the extension agreed.
    """
    deflate = ClientPerMessageDeflateFactory(server_max_window_bits=9)
    got: list[dict[str, Any]] = []
    with connect(
        url, open_timeout=10, compression=None, extensions=[deflate], proxy=None
    ) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        while len([m for m in got if m["type"] == "commit"]) < wanted:
            got.extend(flatten(ws.recv(timeout=10)))
    return got, agreed


@pytest_twisted.ensureDeferred
async def test_deflate_in_a_small_window(live_server: Any) -> None:
    """
    A client that allows the server a 512-byte window gets the feed
    compressed within it (zlib would refuse a back reference further away),
    by our compressor, its hash table sized to that window.
    """
    server, bridge = live_server
    seen = threads.deferToThread(_deflated_watch, ws_url(server), 40)
    while not bridge.watchers:
        await settle(0.02)
    [watcher] = bridge._watchers
    deflate = per_message_compress(watcher)
    assert type(deflate) is LevelledDeflate
    assert deflate.compress_level == DEFLATE_LEVEL
    assert (deflate.server_max_window_bits, deflate.mem_level) == (9, 2)
    hashes = await push(server, *[f"deflate{i}" for i in range(40)], email="x@y.org")
    got, agreed = await seen
    assert (
        agreed.startswith("permessage-deflate") and "server_max_window_bits=9" in agreed
    )
    assert [m["commit"]["hash"] for m in got if m["type"] == "commit"] == hashes

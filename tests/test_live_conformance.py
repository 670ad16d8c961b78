"""
WebSocket protocol conformance of /live: the Autobahn test cases, run by the
C{kosoku} client against the live feed's echo mode with permessage-deflate on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from julytwisted.config import DEFAULT_LIMITS, Config, LiveSettings
from tests.live_clients import ws_url

KOSOKU = str(Path(sys.executable).parent / "kosoku")

#: Every case but the slow ones: 9.* (messages up to 16 MiB, seconds each
#: on these cores) and the compression cases (12.*, 13.*) past their fourth
#: message size, which take a minute and a half together.  The compression
#: cases kept still cover every negotiated window and context-takeover mode.
CASES = (
    *(f"{group}.*" for group in (1, 2, 3, 4, 5, 6, 7, 10)),
    *(f"12.{i}.{c}" for i in range(1, 6) for c in range(1, 5)),
    *(f"13.{i}.{c}" for i in range(1, 8) for c in range(1, 5)),
)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """
    Echo mode and permessage-deflate on; no connect rate limit, since the
    suite opens a connection per case from one address.
    """
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        live=LiveSettings(echo=True, deflate=True),
        rate_limits={**DEFAULT_LIMITS, "live": None},
    )


def run_kosoku(url: str, outdir: Path) -> subprocess.CompletedProcess[str]:
    chosen = [arg for case in CASES for arg in ("-i", case)]
    return subprocess.run(
        [KOSOKU, url, "-p", "4", "-o", str(outdir), *chosen],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest_twisted.ensureDeferred
async def test_autobahn_cases_pass(live_server: Any, tmp_path: Path) -> None:
    """Every case selected passes: no FAILED verdict, no error."""
    server, _ = live_server
    out = await deferToThread(run_kosoku, ws_url(server, "echo=1"), tmp_path / "r")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " cases passed" in out.stdout

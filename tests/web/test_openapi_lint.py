"""
The served OpenAPI document passes two independent linters with nothing to
report: redocly's recommended rules and spectral's C{spectral:oas} ruleset,
0 errors and 0 warnings each (they found 40 errors and 42 warnings before:
no security, descriptions or 4xx answers on many operations).

The linters come from npm (L{tests.web.openapi_linters}).  The test skips
only when npm itself is absent, and never where C{JULYTHON_REQUIRE_BROWSER}
is set (CI), where it fails instead.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from tests.web.openapi_linters import QUIET, NoNpm, install


@pytest.fixture(scope="module")
def linters() -> Path:
    """The directory of the C{redocly} and C{spectral} commands."""
    try:
        return install()
    except NoNpm as e:
        if os.environ.get("JULYTHON_REQUIRE_BROWSER"):
            pytest.fail(str(e))
        pytest.skip(str(e))
    except RuntimeError as e:
        pytest.fail(str(e))


async def served(server: str, directory: Path) -> Path:
    """The document as the server serves it, saved to a file."""
    response = await treq.get(server + "/api/v1/openapi.json", persistent=False)
    assert response.code == 200
    document = directory / "openapi.json"
    document.write_bytes(await response.content())
    return document


def lint(command: list[str], cwd: Path) -> str:
    """Run a linter; its standard output (the report)."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **QUIET},
    )
    assert done.stdout, done.stderr[-3000:]
    return done.stdout


@pytest_twisted.ensureDeferred
async def test_redocly_recommended_finds_nothing(
    server: str, linters: Path, tmp_path: Path
) -> None:
    """C{redocly lint --extends recommended}: 0 errors, 0 warnings."""
    document = await served(server, tmp_path)
    report = lint(
        [
            str(linters / "redocly"),
            "lint",
            "--extends",
            "recommended",
            "--format",
            "json",
            str(document),
        ],
        tmp_path,
    )
    found: dict[str, Any] = json.loads(report)
    problems = [(p["ruleId"], p["message"]) for p in found["problems"]]
    assert found["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, problems


@pytest_twisted.ensureDeferred
async def test_spectral_oas_finds_nothing(
    server: str, linters: Path, tmp_path: Path
) -> None:
    """C{spectral lint} with the C{spectral:oas} ruleset: no result at all."""
    document = await served(server, tmp_path)
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    report = lint(
        [
            str(linters / "spectral"),
            "lint",
            "--ruleset",
            str(ruleset),
            "--format",
            "json",
            "--quiet",
            str(document),
        ],
        tmp_path,
    )
    found = json.loads(report)
    assert found == [], [(r["code"], r["message"], r["path"]) for r in found]

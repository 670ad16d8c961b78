"""
The two OpenAPI linters the document is held to, redocly (its recommended
rules) and spectral (its C{spectral:oas} ruleset), installed with npm into
a cache directory once per pinned version.

C{python -m tests.web.openapi_linters} installs them ahead of the tests, as
C{.ci/run} does, so that a CI run never skips their test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: The linters, pinned; change a version here to lint with a newer one.
PACKAGES = ("@redocly/cli@2.77.0", "@stoplight/spectral-cli@6.16.3")

#: Where npm installs them, once per set of versions.
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "julytwisted"
    / (
        "openapi-linters-"
        + hashlib.sha256(" ".join(PACKAGES).encode()).hexdigest()[:12]
    )
)

#: What the linters run with: no telemetry, no update notices, no analytics.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
    "NO_UPDATE_NOTIFIER": "1",
}


class NoNpm(Exception):
    """npm is not installed, so the linters cannot be."""


def install() -> Path:
    """
    @return: the directory of the linters' commands, C{redocly} and
        C{spectral}, installed with npm if they are not yet.
    @raise NoNpm: npm is not on the path.
    @raise RuntimeError: npm failed; the message ends with its output.
    """
    commands = CACHE / "node_modules" / ".bin"
    if all((commands / name).exists() for name in ("redocly", "spectral")):
        return commands
    npm = shutil.which("npm")
    if npm is None:
        raise NoNpm(f"linting the OpenAPI document needs npm to install {PACKAGES}")
    # A staging directory renamed at the end: two runs at once never see a
    # half-installed cache.
    staging = CACHE.with_name(f"{CACHE.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    install = ["install", "--no-save", "--no-audit", "--no-fund", "--prefix"]
    done = subprocess.run(
        [npm, *install, str(staging), *PACKAGES],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **QUIET},
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"npm could not install {PACKAGES}: {done.stderr[-2000:]}")
    try:
        staging.rename(CACHE)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return commands


if __name__ == "__main__":
    try:
        print(install())
    except (NoNpm, RuntimeError) as e:
        sys.exit(str(e))

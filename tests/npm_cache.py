"""
Node packages the tests check the product with (redocly, spectral,
axe-core, GitHub's published OpenAPI description), installed with npm into
the user's cache once per pinned version.

A test that needs one calls L{installed}; C{.ci/run} installs them ahead of
the tests, so that a CI run never skips their checks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: What npm and the tools it installs run with: no telemetry, no update
#: notices, no analytics.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
    "NO_UPDATE_NOTIFIER": "1",
}


class NoNpm(Exception):
    """npm is not installed, so no package can be."""


def cache_for(packages: Sequence[str]) -> Path:
    """
    @param packages: npm package specs, pinned (C{"axe-core@4.14.1"}).
    @return: the directory these packages are installed under, one per set
        of versions.
    """
    digest = hashlib.sha256(" ".join(packages).encode()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "julytwisted" / f"npm-{digest}"


def installed(packages: Sequence[str], wanted: str) -> Path:
    """
    The path of a file the packages provide, installed with npm if it is
    not there yet.

    @param packages: npm package specs, pinned.
    @param wanted: the file's path under the install's C{node_modules}.
    @return: its absolute path.
    @raise NoNpm: npm is not on the path.
    @raise RuntimeError: npm failed; the message ends with its output.
    """
    cache = cache_for(packages)
    found = cache / "node_modules" / wanted
    if found.exists():
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise NoNpm(f"npm is needed to install {', '.join(packages)}")
    # A staging directory renamed at the end: two runs at once never see a
    # half-installed cache.
    staging = cache.with_name(f"{cache.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    install = ["install", "--no-save", "--no-audit", "--no-fund", "--prefix"]
    done = subprocess.run(
        [npm, *install, str(staging), *packages],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **QUIET},
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(
            f"npm could not install {', '.join(packages)}: {done.stderr[-2000:]}"
        )
    try:
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return found

"""
axe-core, the accessibility engine the browser tests run on every page,
installed with npm into a cache directory once per pinned version.

C{python -m tests.pages.axe} installs it ahead of the tests, as C{.ci/run}
does, so that a CI run never skips the check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.web.openapi_linters import QUIET

#: axe-core, pinned; change the version here to check with a newer one.
PACKAGE = "axe-core@4.14.1"

#: Where npm installs it, once per version.
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "julytwisted"
    / PACKAGE.replace("@", "-")
)


class NoNpm(Exception):
    """npm is not installed, so axe-core cannot be."""


def install() -> Path:
    """
    @return: the path of C{axe.min.js}, installed with npm if it is not yet.
    @raise NoNpm: npm is not on the path.
    @raise RuntimeError: npm failed; the message ends with its output.
    """
    script = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise NoNpm(f"checking pages with axe needs npm to install {PACKAGE}")
    # A staging directory renamed at the end: two runs at once never see a
    # half-installed cache.
    staging = CACHE.with_name(f"{CACHE.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    install = ["install", "--no-save", "--no-audit", "--no-fund", "--prefix"]
    done = subprocess.run(
        [npm, *install, str(staging), PACKAGE],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **QUIET},
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"npm could not install {PACKAGE}: {done.stderr[-2000:]}")
    try:
        staging.rename(CACHE)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return script


if __name__ == "__main__":
    try:
        print(install())
    except (NoNpm, RuntimeError) as e:
        sys.exit(str(e))

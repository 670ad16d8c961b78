"""
The two OpenAPI linters the document is held to, redocly (its recommended
rules) and spectral (its C{spectral:oas} ruleset), installed with npm into
a cache directory once per pinned version (L{tests.npm_cache}).

C{python -m tests.web.openapi_linters} installs them ahead of the tests, as
C{.ci/run} does, so that a CI run never skips their test.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.npm_cache import QUIET, NoNpm, installed

#: The linters, pinned; change a version here to lint with a newer one.
PACKAGES = ("@redocly/cli@2.77.0", "@stoplight/spectral-cli@6.16.3")


def install() -> Path:
    """
    @return: the directory of the linters' commands, C{redocly} and
        C{spectral}, installed with npm if they are not yet.
    @raise NoNpm: npm is not on the path.
    @raise RuntimeError: npm failed; the message ends with its output.
    """
    commands = installed(PACKAGES, ".bin/spectral").parent
    if not (commands / "redocly").exists():
        raise RuntimeError(f"npm installed {PACKAGES} without redocly")
    return commands


__all__ = ["PACKAGES", "QUIET", "NoNpm", "install"]

if __name__ == "__main__":
    try:
        print(install())
    except (NoNpm, RuntimeError) as e:
        sys.exit(str(e))

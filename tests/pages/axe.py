"""
axe-core, the accessibility engine the browser tests run on every page,
installed with npm into a cache directory once per pinned version
(L{tests.npm_cache}).

C{python -m tests.pages.axe} installs it ahead of the tests, as C{.ci/run}
does, so that a CI run never skips the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.npm_cache import NoNpm, installed

#: axe-core, pinned; change the version here to check with a newer one.
PACKAGE = "axe-core@4.14.1"


def install() -> Path:
    """
    @return: the path of C{axe.min.js}, installed with npm if it is not yet.
    @raise NoNpm: npm is not on the path.
    @raise RuntimeError: npm failed; the message ends with its output.
    """
    return installed([PACKAGE], "axe-core/axe.min.js")


__all__ = ["PACKAGE", "NoNpm", "install"]

if __name__ == "__main__":
    try:
        print(install())
    except (NoNpm, RuntimeError) as e:
        sys.exit(str(e))

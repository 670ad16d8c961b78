# -*- test-case-name: tests.test_twistd -*-
"""
What the C{julython} twistd plugin loads: the options, and a L{makeService}
that imports the service only when twistd calls it.

Kept light on purpose: klein and txredisapi install the default reactor when
imported, which must not happen before twistd has installed the one asked
for with C{--reactor}.
"""

from __future__ import annotations

from twisted.application.service import IService

from julytwisted.config import Options


def makeService(options: Options) -> IService:
    """Build the service from parsed options (see L{julytwisted.service})."""
    from julytwisted.service import makeService as make

    return make(options)


__all__ = ["Options", "makeService"]

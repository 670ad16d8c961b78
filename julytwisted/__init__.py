# -*- test-case-name: tests.test_packaging -*-
"""
julytwisted: Julython-style coding competitions on Twisted.

Start it with C{twistd -n julython}; the parts are described in the
project's README and DESIGN.  This package imports nothing on purpose:
klein and txredisapi install the default reactor when imported.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

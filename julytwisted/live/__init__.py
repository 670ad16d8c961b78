# -*- test-case-name: tests.live.test_live -*-
"""
The live feed: C{/live} (the websocket) and C{/live/} (its page), one Redis
subscription per process fanned out to its watchers, and replay by id.
"""

from julytwisted.live._resource import (
    ADMIT_AGAIN,
    REPLAY_TAIL,
    TRY_AGAIN_LATER,
    LiveBridge,
    LiveFactory,
    LiveProtocol,
    LiveResource,
    build_live,
    check_channels,
    render_entry,
)

__all__ = [
    "ADMIT_AGAIN",
    "REPLAY_TAIL",
    "TRY_AGAIN_LATER",
    "LiveBridge",
    "LiveFactory",
    "LiveProtocol",
    "LiveResource",
    "build_live",
    "check_channels",
    "render_entry",
]

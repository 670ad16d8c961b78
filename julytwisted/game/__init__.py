# -*- test-case-name: tests.game.test_scoring -*-
"""
The rules of the game, pure: games and their windows, points and the
reference tally, webhook payloads per host, file languages, badges and
streaks. No I/O: everything here is tested without a reactor.
"""

from julytwisted.game._push import bounded
from julytwisted.game.events import CommitEvent, FileChange, ProjectInfo, Push
from julytwisted.game.games import Game, slugify
from julytwisted.game.repositories import RepositoryRef, canonical_url, repository_of

__all__ = [
    "CommitEvent",
    "FileChange",
    "Game",
    "ProjectInfo",
    "Push",
    "RepositoryRef",
    "bounded",
    "canonical_url",
    "repository_of",
    "slugify",
]

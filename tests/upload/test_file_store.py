"""
One file store shared by several processes (--files-dir): each clears only
its own leftovers, and a file one stores, the others find.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from julytwisted.upload._files import FileStore


def test_processes_sharing_a_root(tmp_path: Path) -> None:
    """
    B restarting removes its own half-written file, never A's upload in
    progress; a file A stores is where B looks for it.
    """
    a, b = FileStore(tmp_path, "node-a"), FileStore(tmp_path, "node-b")
    a.prepare()
    b.prepare()
    arriving = a.begin()
    arriving.write(b"half of a")
    left = b.begin()
    left.write(b"left by a crash")
    assert FileStore(tmp_path, "node-b").prepare() == 1
    arriving.write(b" file")
    digest = arriving.close()
    stored = arriving.commit()
    assert digest == hashlib.sha256(b"half of a file").hexdigest()
    assert b.path(digest) == stored and stored.read_bytes() == b"half of a file"
    assert not any(b.temporary.iterdir())

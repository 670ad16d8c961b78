# -*- test-case-name: tests.upload.test_upload -*-
"""
The file store on disk: content-addressed files under C{DATA/files/}, each
written first to a temporary file beside them and renamed into
C{files/<aa>/<sha256>} once complete and accepted.

Paths are made from SHA-256 digests only; nothing a client sends reaches one.
Writes are plain blocking C{os.write} calls of the chunks the network gives
(64 KiB at most): into the page cache they take tens of microseconds each,
less than hashing them (see the README's upload benchmark).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

_DIGEST = re.compile(r"[0-9a-f]{64}")


def valid_digest(text: str) -> bool:
    """@return: whether C{text} is a lower-case hex SHA-256, as files are named."""
    return _DIGEST.fullmatch(text) is not None


class PartialFile:
    """
    One file being received: written to a temporary file and hashed as it
    comes.  Either L{commit}ted into the store or L{discard}ed; a discarded
    or abandoned one leaves nothing behind once discarded.

    @ivar size: the bytes written so far.
    """

    def __init__(self, store: FileStore) -> None:
        self._store = store
        self._fd, name = _mkstemp(store.temporary)
        self.path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0
        self.digest: str | None = None

    def write(self, data: bytes) -> None:
        """Append C{data} to the file and the hash."""
        self._hash.update(data)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)

    def close(self) -> str:
        """
        Close the file, keeping it as a temporary file.

        @return: its SHA-256, lower-case hex.
        """
        if self.digest is None:
            os.close(self._fd)
            self.digest = self._hash.hexdigest()
        return self.digest

    def commit(self) -> Path:
        """
        Close the file and move it into the store under its digest; when the
        store has that content already, keep the stored copy.

        @return: the stored file's path.
        """
        target = self._store.path(self.close())
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self.path.unlink(missing_ok=True)
        else:
            os.replace(self.path, target)
        return target

    def discard(self) -> None:
        """Close and remove the temporary file; safe to call more than once."""
        if self.digest is None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self.digest = ""
        self.path.unlink(missing_ok=True)


def _mkstemp(directory: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix="upload-", dir=directory)


class FileStore:
    """
    Content-addressed files under a root directory.

    Several processes may share one root (nodes on one machine, or on a
    shared file system): each writes its arriving files under a temporary
    directory of its own, and clears only that one when it starts.

    @ivar root: C{DATA/files}, or C{--files-dir}.
    @ivar temporary: where this process writes files while they arrive.
    """

    def __init__(self, root: Path, process: str = "") -> None:
        """
        @param process: names this process among those sharing C{root},
            the same across its restarts.
        """
        self.root = root
        self.temporary = root / "tmp" / process if process else root / "tmp"

    def prepare(self) -> int:
        """
        Make the directories, and remove temporary files that a stopped
        process left behind.

        @return: how many such leftovers were removed.
        """
        self.temporary.mkdir(parents=True, exist_ok=True)
        removed = 0
        for leftover in self.temporary.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def path(self, digest: str) -> Path:
        """
        @param digest: a lower-case hex SHA-256.
        @return: where the file of that content is (or would be) stored.
        @raise ValueError: when C{digest} is not such a digest.
        """
        if not valid_digest(digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest

    def begin(self) -> PartialFile:
        """@return: a new file to write an arriving upload into."""
        return PartialFile(self)


__all__ = ["FileStore", "PartialFile", "valid_digest"]

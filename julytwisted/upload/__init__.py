# -*- test-case-name: tests.upload.test_upload -*-
"""
Uploads: C{POST /upload/} streamed through a multipart push parser into the
file store, and the stored files at C{/files/<sha256>}.
"""

from julytwisted.upload._resource import (
    KINDS,
    FilesResource,
    Identify,
    StoredFile,
    UploadLimits,
    UploadResource,
    Uploads,
    UploadStream,
)
from julytwisted.upload._senders import credentials_or_session

__all__ = [
    "KINDS",
    "FilesResource",
    "Identify",
    "StoredFile",
    "UploadLimits",
    "UploadResource",
    "UploadStream",
    "Uploads",
    "credentials_or_session",
]

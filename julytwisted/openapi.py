# -*- test-case-name: tests.test_openapi -*-
"""The OpenAPI 3.1 description of the REST API at C{/api/v1/openapi.json}."""

from __future__ import annotations

from typing import Any


def openapi_document() -> dict[str, Any]:
    """@return: the OpenAPI document, as JSON-ready data."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "julytwisted", "version": "1"},
        "paths": {},
    }

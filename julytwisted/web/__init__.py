# -*- test-case-name: tests.web.test_web -*-
"""
The klein app of the machines: the REST API and its OpenAPI document, the
webhook endpoints, CORS, and health.
"""

from julytwisted.web._app import WebApp, WebSettings

__all__ = ["WebApp", "WebSettings"]

# -*- test-case-name: tests.rpc.test_rpc_describe -*-
"""
The service browser: one HTML page listing every method with its signature
and documentation, and a form per method that calls it with C{fetch()} and
shows the raw request and response.  Every name and docstring goes in as
escaped text (twisted.web.template); the script and style sheet are served
beside the page, so it needs no external asset and runs under a strict
Content-Security-Policy.

The page is its own document by default.  An application that has a layout
of its own (a header, navigation, a footer) hands the resource a
L{BrowserLayout}, which puts the browser's body in it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, flattenString, tags

from julytwisted.rpc._method import Method

#: The Content-Security-Policy of the browser's own page and files.
POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; "
    b"connect-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'none'; frame-ancestors 'none'"
)

_STATIC = Path(__file__).with_name("static")
_FILES = {
    "browser.js": b"text/javascript; charset=utf-8",
    "browser.css": b"text/css; charset=utf-8",
}
_EXAMPLES: dict[str, object] = {
    "String": "",
    "Number": 0,
    "Boolean": False,
    "Array": [],
    "Object": {},
}


class BrowserLayout(Protocol):
    """
    Puts the browser's body in an application's own page layout.

    It answers the request's headers too (the content type, a
    Content-Security-Policy that lets the page load its script and style
    sheet from the same origin and call the endpoint there).
    """

    def __call__(
        self, request: IRequest, title: str, body: Tag, head: Sequence[Tag], /
    ) -> Deferred[bytes]:
        """
        @param title: the page's title and first heading.
        @param body: the browser: twisted.web.template tags, no heading.
        @param head: the browser's script and style sheet, for C{<head>}.
        @return: the whole page, to be sent as it is.
        """


@functools.cache
def static_file(name: str) -> tuple[bytes, bytes] | None:
    """
    @return: the content type and bytes of one of the browser's files, or
        L{None} when C{name} is not one.
    """
    if name not in _FILES:
        return None
    return _FILES[name], (_STATIC / name).read_bytes()


def _template(method: Method) -> str:
    """The params a form starts with: the required ones, by name."""
    required = {p.name: _EXAMPLES.get(p.type) for p in method.params if p.required}
    return json.dumps(required) if required else ""


def _method_section(method: Method) -> Tag:
    name = method.name
    flags = [
        flag
        for flag, present in (
            ("safe: GET may call it", method.safe),
            ("authenticated", method.authenticated),
        )
        if present
    ]
    params = tags.textarea(
        _template(method), name="params", id=f"params-{name}", rows="3"
    )
    params.attributes["spellcheck"] = "false"
    form = tags.form(class_="call")(
        tags.label("params, as a JSON array or object", for_=f"params-{name}"),
        params,
        tags.p(class_="inline")(
            tags.input(type="checkbox", name="notification", id=f"notify-{name}"),
            " ",
            tags.label("send as a notification", for_=f"notify-{name}"),
        ),
        tags.button(f"Call {name}", type="submit"),
    )
    form.attributes["data-method"] = name
    exchange = tags.div(class_="exchange", hidden="hidden")(
        tags.h3("Request"),
        tags.pre(class_="request"),
        tags.h3("Response"),
        tags.pre(class_="response"),
    )
    return tags.section(class_="method", id=f"method-{name}")(
        tags.h2(tags.code(method.signature)),
        tags.p(", ".join(flags), class_="flags") if flags else "",
        tags.pre(method.doc or "(undocumented)", class_="doc"),
        form,
        exchange,
    )


def browser_body(methods: Mapping[str, Method]) -> Tag:
    """
    @param methods: every method of the service, by name.
    @return: the browser, without a heading, its endpoint (C{../}, where
        the page is served at C{<endpoint>/browse/}) in C{data-endpoint}.
    """
    ordered = [methods[name] for name in sorted(methods)]
    index = tags.ul(
        [tags.li(tags.a(m.name, href=f"#method-{m.name}")) for m in ordered]
    )
    nav = tags.nav(index)
    nav.attributes["aria-label"] = "Methods"
    body = tags.div(class_="rpc-browser")(
        tags.p(
            "JSON-RPC 2.0 calls are POSTed to ",
            tags.code("../", class_="endpoint"),
            ". Safe methods may also be called by GET, as ",
            tags.code(
                "../", tags.var("method"), "?", tags.var("name"), "=", tags.var("value")
            ),
            ".",
        ),
        tags.p(
            tags.label(
                "Authorization header, sent with every call (optional)",
                for_="authorization",
            ),
            tags.input(
                id="authorization",
                type="text",
                autocomplete="off",
                placeholder="Bearer TOKEN",
            ),
        ),
        nav,
        [_method_section(m) for m in ordered],
    )
    body.attributes["data-endpoint"] = "../"
    return body


def browser_head() -> list[Tag]:
    """The browser's style sheet and script, served beside the page."""
    return [
        tags.link(rel="stylesheet", href="browser.css"),
        tags.script(src="browser.js", defer="defer"),
    ]


async def _own_page(title: str, body: Tag) -> bytes:
    page = tags.html(lang="en")(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
            tags.title(f"{title}: service browser"),
            browser_head(),
        ),
        tags.body(class_="rpc-page")(Tag("main")(tags.h1(title), body)),
    )
    return b"<!DOCTYPE html>\n" + await flattenString(None, page)


def own_page(methods: Mapping[str, Method], title: str) -> Deferred[bytes]:
    """
    @param methods: every method of the service, by name.
    @param title: the service's name.
    @return: the browser as a document of its own, for C{<endpoint>/browse/}.
    """
    return Deferred.fromCoroutine(_own_page(title, browser_body(methods)))


__all__ = [
    "POLICY",
    "BrowserLayout",
    "browser_body",
    "browser_head",
    "own_page",
    "static_file",
]

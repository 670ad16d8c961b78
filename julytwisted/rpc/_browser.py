# -*- test-case-name: tests.rpc.test_rpc_describe -*-
"""
The service browser: one HTML page listing every method with its signature
and documentation, and a form per method that calls it with C{fetch()} and
shows the raw request and response.  Every name and docstring goes in as
escaped text; the script and style sheet are served beside the page, so it
needs no external asset and runs under a strict Content-Security-Policy.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from html import escape
from pathlib import Path

from julytwisted.rpc._method import Method

#: The Content-Security-Policy of the browser's page and files.
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


def _method_section(method: Method) -> str:
    name = escape(method.name)
    flags = [
        flag
        for flag, present in (
            ("safe: GET may call it", method.safe),
            ("authenticated", method.authenticated),
        )
        if present
    ]
    flag_html = f'<p class="flags">{escape(", ".join(flags))}</p>' if flags else ""
    return f"""
<section class="method" id="method-{name}">
  <h2><code>{escape(method.signature)}</code></h2>
  {flag_html}
  <pre class="doc">{escape(method.doc) or "(undocumented)"}</pre>
  <form class="call" data-method="{name}">
    <label>params, as a JSON array or object
      <textarea name="params" rows="3" spellcheck="false"
        >{escape(_template(method))}</textarea></label>
    <label class="inline"><input type="checkbox" name="notification">
      send as a notification</label>
    <button type="submit">Call {name}</button>
  </form>
  <div class="exchange" hidden>
    <h3>Request</h3><pre class="request"></pre>
    <h3>Response</h3><pre class="response"></pre>
  </div>
</section>"""


def render_page(methods: Mapping[str, Method], title: str) -> bytes:
    """
    @param methods: every method of the service, by name.
    @return: the browser's HTML page, to be served at C{<endpoint>/browse/}.
    """
    ordered = [methods[name] for name in sorted(methods)]
    index = "\n".join(
        f'<li><a href="#method-{escape(m.name)}">{escape(m.name)}</a></li>'
        for m in ordered
    )
    sections = "\n".join(_method_section(m) for m in ordered)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}: service browser</title>
<link rel="stylesheet" href="browser.css">
<script src="browser.js" defer></script>
</head>
<body data-endpoint="../">
<header>
  <h1>{escape(title)}</h1>
  <p>JSON-RPC 2.0 calls are POSTed to <code class="endpoint">../</code>.
  Safe methods may also be called by GET, as
  <code>../<var>method</var>?<var>name</var>=<var>value</var></code>.</p>
  <label>Authorization header, sent with every call (optional)
    <input id="authorization" type="text" autocomplete="off"
      placeholder="Bearer TOKEN"></label>
</header>
<nav><ul>
{index}
</ul></nav>
<main>
{sections}
</main>
</body>
</html>
"""
    return page.encode("utf-8")


__all__ = ["POLICY", "render_page", "static_file"]

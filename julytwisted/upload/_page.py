# -*- test-case-name: tests.upload.test_browser_upload,tests.upload.test_upload -*-
"""
The page at C{GET /upload/}: a form that sends files to C{POST /upload/},
in the site's layout, and its script at C{/upload/upload.js}.

A bare form for any kind of file: its script sends the API token typed into
it as C{Authorization: Bearer}, kept in the tab's C{sessionStorage} only,
through C{XMLHttpRequest} so that it can show progress.  (The web site's
own forms upload with the session: L{julytwisted.pages._html.upload_form}.)
No user text is ever put into the page as HTML: results are shown as text.
The script is a file of its own, so that the page's Content-Security-Policy
allows no inline script.
"""

from __future__ import annotations

import re
from importlib.resources import files

from twisted.web.template import Tag, tags

from julytwisted.representation import entity_tag

#: The page's title and heading.
TITLE = "Upload"

#: The form's script, its media type and its strong entity tag.
SCRIPT = files("julytwisted.upload").joinpath("static", "upload.js").read_bytes()
SCRIPT_TYPE = b"text/javascript; charset=utf-8"
SCRIPT_ETAG = entity_tag(SCRIPT)

#: Where the browser may be sent after a form's upload: one path on this
#: site, in printable ASCII, with no second slash or backslash after the
#: first (C{//host} and C{/\\host} name other hosts).  Browsers drop tabs
#: and newlines from a URL, so C{/<tab>/host} is C{//host}: no whitespace
#: or control character passes either.
_LOCAL = re.compile(r"/(?!/)[!-\[\]-~]*")


def local_path(target: str) -> bool:
    """@return: whether C{target} is a path on this site, safe to redirect to."""
    return _LOCAL.fullmatch(target) is not None


def head() -> list[Tag]:
    """@return: what the page adds to C{<head>}: its script."""
    return [tags.script(src="/upload/upload.js", defer="defer")]


def content() -> Tag:
    """@return: the page's form, its progress and the place of its answer."""
    kinds = [tags.option(kind, value=kind) for kind in ("file", "avatar", "screenshot")]
    token = tags.input(type="password", id="token", autocomplete="off")
    token.attributes["required"] = "required"
    chosen = tags.input(type="file", name="file", id="files", multiple="multiple")
    chosen.attributes["required"] = "required"
    progress = tags.progress(id="progress", max="1", value="0")
    progress.attributes["aria-label"] = "Upload progress"
    return tags.div(class_="upload")(
        tags.form(
            id="upload",
            method="post",
            action="/upload/",
            enctype="multipart/form-data",
            class_="form",
        )(
            tags.p(class_="field")(
                tags.label("API token (from julython.createToken)", for_="token"),
                token,
            ),
            tags.p(class_="field")(
                tags.label("Kind", for_="kind"),
                tags.select(name="kind", id="kind")(kinds),
            ),
            tags.p(class_="field")(
                tags.label("Project (for a screenshot: its slug)", for_="project"),
                tags.input(type="text", name="project", id="project"),
            ),
            tags.p(class_="field")(tags.label("Files", for_="files"), chosen),
            tags.button("Upload", type="submit"),
        ),
        progress,
        tags.pre(id="result", class_="result", **{"data-state": "idle"}),
    )


__all__ = [
    "SCRIPT",
    "SCRIPT_ETAG",
    "SCRIPT_TYPE",
    "TITLE",
    "content",
    "head",
    "local_path",
]

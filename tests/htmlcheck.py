"""
What every HTML page must be: a document html5lib parses without one parse
error, in English, titled, with one main landmark, every form control
labelled and no id used twice.
"""

from __future__ import annotations

import html5lib
from html5lib.html5parser import ParseError

__all__ = ["ParseError", "check_page", "hidden_field"]


def check_page(body: bytes) -> object:
    """
    @raise AssertionError: when the page breaks a rule above.
    @return: the parsed tree (an ElementTree element).
    """
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        tree = parser.parse(body)
    except ParseError as e:
        raise AssertionError(f"invalid HTML: {e}\n{body[:2000]!r}") from None
    assert body.startswith(b"<!DOCTYPE html>"), body[:40]
    assert tree.get("lang") == "en"
    assert (tree.findtext("head/title") or "").strip()
    assert len(tree.findall(".//main")) == 1
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), ids
    labelled = {e.get("for") for e in tree.iter("label")}
    for control in (*tree.iter("input"), *tree.iter("select")):
        if control.get("type") != "hidden":
            assert control.get("id") in labelled, control.attrib
    return tree


def hidden_field(body: bytes, name: str) -> str:
    """@return: the value of the first hidden input called C{name}."""
    tree = html5lib.parse(body, namespaceHTMLElements=False)
    for control in tree.iter("input"):
        if control.get("name") == name:
            return str(control.get("value"))
    raise AssertionError(f"no field {name!r}")

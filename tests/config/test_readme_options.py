"""
The README's Options section names every option C{twistd julython --help}
shows, in its usage block and in its table, and none that it does not: an
option added without its line in the README (as C{--files-dir} was) fails
here.
"""

from __future__ import annotations

import re
from pathlib import Path

from julytwisted.config import Options

README = Path(__file__).resolve().parents[2] / "README.md"

#: twistd's own, which every Options has.
_STANDARD = {"help", "version"}


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Options\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def help_options() -> set[str]:
    """The long options C{--help} lists, twistd's own left out."""
    listed = re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", str(Options({})), re.M)
    return set(listed) - _STANDARD


def table_options() -> list[str]:
    """The options of the README table's rows, in order."""
    rows = re.findall(r"^\| `--([a-z][a-z0-9-]*)", _section(), re.M)
    return rows


def usage_options() -> set[str]:
    """The options of the README's usage block."""
    block = _section().split("```")[1]
    return set(re.findall(r"--([a-z][a-z0-9-]*)", block))


def test_help_lists_options() -> None:
    """The help text is read: it lists options of each kind."""
    assert {"listen", "no-worker", "files-dir", "rpc-batch-limit"} <= help_options()


def test_table_lists_every_option_once() -> None:
    """Each option of --help has one row in the table, and each row an option."""
    rows = table_options()
    assert len(rows) == len(set(rows))
    assert set(rows) == help_options()


def test_usage_block_lists_every_option() -> None:
    """The usage block at the section's top names every option too."""
    assert usage_options() == help_options()

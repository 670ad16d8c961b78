"""
The package as pip builds it: the twistd plugin ships, as a namespace
module, with the Lua scripts and without a plugin cache.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the working tree."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("julytwisted-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    """
    The plugin ships without twisted/__init__.py or dropin.cache; Lua and the
    the site's (its icon too), the JSON-RPC browser's, the upload form's and
    the live page's CSS and JS ship too, each inside its package.
    """
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "twisted/plugins/julython.py" in names
    assert "twisted/__init__.py" not in names
    assert "twisted/plugins/__init__.py" not in names
    assert not any(n.endswith("dropin.cache") for n in names)
    assert "julytwisted/py.typed" in names
    assert {
        "julytwisted/store/lua/ingest.lua",
        "julytwisted/store/lua/gcra.lua",
        "julytwisted/jobs/lua/queue_enqueue.lua",
        "julytwisted/pages/static/site.css",
        "julytwisted/pages/static/site.js",
        "julytwisted/rpc/static/browser.css",
        "julytwisted/rpc/static/browser.js",
        "julytwisted/pages/static/favicon.ico",
        "julytwisted/upload/static/upload.js",
        "julytwisted/live/page/live.js",
    } <= names


def test_installed_wheel_lists_the_plugin(wheel: Path, tmp_path: Path) -> None:
    """
    Installed from the wheel alone (no editable path), Twisted's plugin scan
    finds julython and loads its options without installing a reactor.
    """
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
         str(target), str(wheel)],
        check=True,
    )  # fmt: skip
    script = (
        "import sys; "
        f"sys.path[:0] = [{str(target)!r}, {sysconfig.get_path('purelib')!r}]; "
        "from twisted.plugin import getPlugins; "
        "from twisted.application.service import IServiceMaker; "
        "makers = {p.tapname: p for p in getPlugins(IServiceMaker)}; "
        "maker = makers['julython']; "
        "assert maker.module.startswith('julytwisted'); "
        "maker.options(); "
        "import julytwisted; "
        f"assert julytwisted.__file__.startswith({str(target)!r}); "
        "assert 'twisted.internet.reactor' not in sys.modules, 'reactor installed'; "
        "print('ok')"
    )
    # -S: no site, so the editable install's path hook is not on sys.path.
    out = subprocess.run(
        [sys.executable, "-S", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip() == "ok", out.stderr


def test_every_module_names_tests_that_exist() -> None:
    """
    Each module of the package (and the client) names its test modules in a
    C{test-case-name} header, and each named module exists.
    """
    header = re.compile(r"^# -\*- test-case-name: (\S+) -\*-$", re.M)
    modules = [
        *sorted((ROOT / "julytwisted").rglob("*.py")),
        ROOT / "clients/python_proxy.py",
    ]
    missing = []
    for module in modules:
        found = header.search("\n".join(module.read_text().splitlines()[:2]))
        if found is None:
            missing.append(f"{module.relative_to(ROOT)}: no header")
            continue
        for name in found.group(1).split(","):
            if not (ROOT / (name.replace(".", "/") + ".py")).is_file():
                missing.append(f"{module.relative_to(ROOT)}: {name}")
    assert missing == []

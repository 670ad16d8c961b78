"""
Tests for L{julytwisted.languages}: the file name to language table.
"""

from __future__ import annotations

import pytest

from julytwisted.game.languages import LANGUAGES, language_for

#: The programming languages the table must know, by Linguist's names.
COMMON = [
    "Python", "JavaScript", "TypeScript", "Java", "C", "C++", "C#", "Go", "Rust",
    "Ruby", "PHP", "Swift", "Kotlin", "Scala", "Shell", "PowerShell", "Perl",
    "Lua", "R", "Julia", "Haskell", "Erlang", "Elixir", "Clojure", "OCaml", "F#",
    "Dart", "Objective-C", "Groovy", "HTML", "CSS", "SCSS", "SQL", "Vue",
    "Svelte", "Zig", "Nim", "Fortran", "MATLAB", "Assembly", "Makefile",
    "Dockerfile", "YAML", "JSON", "TOML", "Cython", "Jupyter Notebook",
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("setup.py", "Python"),
        ("src/julytwisted/hooks.pyi", "Python"),
        ("ext/_speedups.pyx", "Cython"),
        ("notebooks/Analysis.ipynb", "Jupyter Notebook"),
        ("web/app.js", "JavaScript"),
        ("web/App.jsx", "JavaScript"),
        ("web/index.mjs", "JavaScript"),
        ("web/app.ts", "TypeScript"),
        ("web/App.tsx", "TypeScript"),
        ("src/Main.java", "Java"),
        ("src/main.c", "C"),
        ("include/main.h", "C"),
        ("src/engine.cpp", "C++"),
        ("src/engine.cc", "C++"),
        ("include/engine.hpp", "C++"),
        ("Program.cs", "C#"),
        ("cmd/server/main.go", "Go"),
        ("src/lib.rs", "Rust"),
        ("app/models/user.rb", "Ruby"),
        ("index.php", "PHP"),
        ("Sources/App.swift", "Swift"),
        ("app/src/Main.kt", "Kotlin"),
        ("build.gradle.kts", "Kotlin"),
        ("src/Main.scala", "Scala"),
        ("bin/deploy.sh", "Shell"),
        ("scripts/setup.bash", "Shell"),
        ("tools/Build.ps1", "PowerShell"),
        ("script/tool.pl", "Perl"),
        ("init.lua", "Lua"),
        ("analysis.R", "R"),
        ("src/Solver.jl", "Julia"),
        ("src/Main.hs", "Haskell"),
        ("src/server.erl", "Erlang"),
        ("lib/app.ex", "Elixir"),
        ("test/app_test.exs", "Elixir"),
        ("src/core.clj", "Clojure"),
        ("bin/main.ml", "OCaml"),
        ("src/Library.fs", "F#"),
        ("lib/main.dart", "Dart"),
        ("Classes/AppDelegate.m", "Objective-C"),
        ("Jenkinsfile", "Groovy"),
        ("build.gradle", "Groovy"),
        ("templates/index.html", "HTML"),
        ("static/site.css", "CSS"),
        ("static/site.scss", "SCSS"),
        ("db/schema.sql", "SQL"),
        ("src/App.vue", "Vue"),
        ("src/App.svelte", "Svelte"),
        ("src/main.zig", "Zig"),
        ("src/app.nim", "Nim"),
        ("solver.f90", "Fortran"),
        ("model.mlx", "MATLAB"),
        ("boot/start.asm", "Assembly"),
        ("boot/entry.S", "Assembly"),
        ("Makefile", "Makefile"),
        ("src/GNUmakefile", "Makefile"),
        ("rules.mk", "Makefile"),
        ("Dockerfile", "Dockerfile"),
        ("deploy/Dockerfile.prod", "Dockerfile"),
        ("Containerfile", "Dockerfile"),
        (".github/workflows/ci.yml", "YAML"),
        ("config.yaml", "YAML"),
        ("package.json", "JSON"),
        ("pyproject.toml", "TOML"),
        ("Gemfile", "Ruby"),
        ("Rakefile", "Ruby"),
        ("CMakeLists.txt", "CMake"),
    ],
)
def test_language_by_name(path: str, language: str) -> None:
    """Each common file name maps to its language."""
    assert language_for(path) == language


@pytest.mark.parametrize(
    "path",
    [
        "README",
        "README.md",
        "readme.rst",
        "README.zh-CN.md",
        "CHANGELOG",
        "CHANGELOG.md",
        "notes.txt",
        "guide.rst",
        "docs/conf.py",
        "project/docs/api/index.html",
        "requirements.txt",
    ],
)
def test_documentation(path: str) -> None:
    """README*, CHANGELOG*, .md/.rst/.txt and files under docs/ are Documentation."""
    assert language_for(path) == "Documentation"


@pytest.mark.parametrize(
    "path",
    [
        "LICENSE",
        "LICENSE.md",
        "LICENSE-MIT",
        "licence.txt",
        "COPYING",
        "COPYING.LESSER",
        "NOTICE",
        "AUTHORS.rst",
        "docs/LICENSE",
    ],
)
def test_legalese(path: str) -> None:
    """LICENSE*, COPYING*, NOTICE* and AUTHORS* are Legalese, even under docs/."""
    assert language_for(path) == "Legalese"


def test_extension_case_insensitive() -> None:
    """Extensions match whatever their case."""
    assert language_for("SRC/MAIN.PY") == "Python"
    assert language_for("Main.Java") == "Java"


def test_code_named_like_prose() -> None:
    """A source file whose name starts like prose keeps its language."""
    assert language_for("tools/readme_check.py") == "Python"
    assert language_for("src/license_server.go") == "Go"


def test_basename_only() -> None:
    """Only the file's own name counts, not a directory that looks like one."""
    assert language_for("lib.py/data") is None
    assert language_for("src.rs/notes.unknownext") is None


@pytest.mark.parametrize(
    "path", ["", "data.bin", ".gitignore", "image.png", "weird.", "noextension"]
)
def test_unknown(path: str) -> None:
    """Names that say nothing about a language give None."""
    assert language_for(path) is None


def test_table_covers_common_languages() -> None:
    """LANGUAGES names at least 40 common languages plus the two prose kinds."""
    assert set(COMMON) <= LANGUAGES
    assert len(COMMON) >= 40
    assert {"Documentation", "Legalese"} <= LANGUAGES


@pytest.mark.parametrize(
    "path", ["a.py", "b.tsx", "Makefile", "README", "LICENSE", "c.ipynb", "d.swift"]
)
def test_results_are_listed(path: str) -> None:
    """Every language returned is one of LANGUAGES."""
    assert language_for(path) in LANGUAGES

# -*- test-case-name: tests.game.test_languages -*-
"""
Which language a changed file is written in, judged by its name alone.

A pure table: the language board credits a commit to the languages of the
files it touched.  Names follow GitHub Linguist's spelling (C{"C++"},
C{"Jupyter Notebook"}); two more names, C{"Documentation"} and
C{"Legalese"}, gather the prose every project carries.
"""

from __future__ import annotations

import re

#: The language of each lower-case extension, without its dot.  Where an
#: extension is ambiguous the commoner owner wins: C{.h} is C, C{.m} is
#: Objective-C, C{.pl} is Perl.
_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys(["py", "pyw", "pyi"], "Python"),
    **dict.fromkeys(["pyx", "pxd", "pxi"], "Cython"),
    "ipynb": "Jupyter Notebook",
    **dict.fromkeys(["js", "jsx", "mjs", "cjs"], "JavaScript"),
    **dict.fromkeys(["ts", "tsx", "mts", "cts"], "TypeScript"),
    "coffee": "CoffeeScript",
    "java": "Java",
    **dict.fromkeys(["c", "h"], "C"),
    **dict.fromkeys(
        ["cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp", "tpp"], "C++"
    ),
    **dict.fromkeys(["cs", "csx"], "C#"),
    "go": "Go",
    "rs": "Rust",
    **dict.fromkeys(["rb", "rake", "gemspec", "ru", "erb"], "Ruby"),
    **dict.fromkeys(["php", "phtml", "php3", "php4", "php5"], "PHP"),
    "swift": "Swift",
    **dict.fromkeys(["kt", "kts"], "Kotlin"),
    **dict.fromkeys(["scala", "sc"], "Scala"),
    **dict.fromkeys(["sh", "bash", "zsh", "ksh"], "Shell"),
    "fish": "fish",
    **dict.fromkeys(["ps1", "psm1", "psd1"], "PowerShell"),
    **dict.fromkeys(["bat", "cmd"], "Batchfile"),
    **dict.fromkeys(["pl", "pm", "pod"], "Perl"),
    "raku": "Raku",
    "lua": "Lua",
    **dict.fromkeys(["r", "rmd"], "R"),
    "jl": "Julia",
    **dict.fromkeys(["hs", "lhs"], "Haskell"),
    **dict.fromkeys(["erl", "hrl"], "Erlang"),
    **dict.fromkeys(["ex", "exs", "heex"], "Elixir"),
    **dict.fromkeys(["clj", "cljs", "cljc", "edn"], "Clojure"),
    **dict.fromkeys(["ml", "mli"], "OCaml"),
    **dict.fromkeys(["fs", "fsi", "fsx"], "F#"),
    "dart": "Dart",
    "m": "Objective-C",
    "mm": "Objective-C++",
    **dict.fromkeys(["groovy", "gradle", "gvy"], "Groovy"),
    **dict.fromkeys(["html", "htm", "xhtml"], "HTML"),
    "css": "CSS",
    "scss": "SCSS",
    "sass": "Sass",
    "less": "Less",
    "sql": "SQL",
    "vue": "Vue",
    "svelte": "Svelte",
    "zig": "Zig",
    **dict.fromkeys(["nim", "nims", "nimble"], "Nim"),
    **dict.fromkeys(["f", "for", "f77", "f90", "f95", "f03", "f08"], "Fortran"),
    "mlx": "MATLAB",
    **dict.fromkeys(["asm", "s", "nasm"], "Assembly"),
    **dict.fromkeys(["mk", "mak"], "Makefile"),
    "dockerfile": "Dockerfile",
    "cmake": "CMake",
    **dict.fromkeys(["yml", "yaml"], "YAML"),
    **dict.fromkeys(["json", "jsonc", "json5", "geojson"], "JSON"),
    "toml": "TOML",
    **dict.fromkeys(["xml", "xsd", "xsl", "xslt"], "XML"),
    "elm": "Elm",
    "el": "Emacs Lisp",
    **dict.fromkeys(["lisp", "lsp"], "Common Lisp"),
    **dict.fromkeys(["scm", "ss"], "Scheme"),
    "rkt": "Racket",
    "vb": "Visual Basic .NET",
    **dict.fromkeys(["pas", "dpr"], "Pascal"),
    "d": "D",
    "cr": "Crystal",
    "tcl": "Tcl",
    "nix": "Nix",
    **dict.fromkeys(["tf", "tfvars", "hcl"], "HCL"),
    "proto": "Protocol Buffer",
    **dict.fromkeys(["graphql", "gql"], "GraphQL"),
    "sol": "Solidity",
    **dict.fromkeys(["v", "sv", "svh"], "Verilog"),
    **dict.fromkeys(["vhd", "vhdl"], "VHDL"),
    **dict.fromkeys(["ada", "adb", "ads"], "Ada"),
    **dict.fromkeys(["cob", "cbl"], "COBOL"),
    "prolog": "Prolog",
    "hx": "Haxe",
    "vim": "Vim Script",
    **dict.fromkeys(["md", "markdown", "rst", "txt", "adoc", "rdoc"], "Documentation"),
}

#: Files known by their whole (lower-case) name rather than an extension.
_NAMES: dict[str, str] = {
    **dict.fromkeys(["makefile", "gnumakefile"], "Makefile"),
    **dict.fromkeys(["dockerfile", "containerfile"], "Dockerfile"),
    **dict.fromkeys(
        ["rakefile", "gemfile", "guardfile", "vagrantfile", "podfile", "brewfile"],
        "Ruby",
    ),
    "jenkinsfile": "Groovy",
    "cmakelists.txt": "CMake",
    **dict.fromkeys(["sconstruct", "sconscript"], "Python"),
    **dict.fromkeys(
        [".bashrc", ".bash_profile", ".zshrc", ".profile", "pkgbuild"], "Shell"
    ),
}

#: Names whose stem (the part before the first dot) marks prose: C{README},
#: C{README.zh-CN.md}, C{CHANGELOG-2.x}, C{LICENSE-MIT}, C{COPYING.LIB}.
_LEGALESE = re.compile(r"(licen[cs]e|copying|notice|authors)([-_].*)?")
_DOCUMENTATION = re.compile(r"(readme|changelog|changes|history)([-_].*)?")
_DOC_DIRECTORIES = frozenset({"docs", "doc"})

#: Every name L{language_for} may return.
LANGUAGES: frozenset[str] = frozenset(
    [*_EXTENSIONS.values(), *_NAMES.values(), "Documentation", "Legalese"]
)


def _prose(base: str, by_extension: str | None) -> str | None:
    """
    The prose kind of a file named C{base}, when its name says so and its
    extension names no programming language (so C{readme_tool.py} stays
    Python while C{LICENSE.md} is Legalese).
    """
    if by_extension not in (None, "Documentation"):
        return None
    stem = base.split(".", 1)[0]
    if _LEGALESE.fullmatch(stem):
        return "Legalese"
    if _DOCUMENTATION.fullmatch(stem):
        return "Documentation"
    return None


def language_for(path: str) -> str | None:
    """
    Name the language of a file from its path inside a repository.

    Legal files win first, then anything under a C{docs/} (or C{doc/})
    directory is documentation, then special file names (C{Makefile},
    C{Dockerfile.dev}), prose names (C{README*}, C{CHANGELOG*}), and last the
    extension, case-insensitively.

    @param path: a C{/}-separated path such as C{"src/app/main.py"}.
    @return: one of L{LANGUAGES}, or L{None} when the name says nothing.
    """
    *directories, base = path.lower().split("/")
    extension = base.rsplit(".", 1)[1] if "." in base.lstrip(".") else None
    by_extension = _EXTENSIONS.get(extension) if extension else None
    prose = _prose(base, by_extension)
    if prose == "Legalese":
        return prose
    if _DOC_DIRECTORIES.intersection(directories):
        return "Documentation"
    if base in _NAMES:
        return _NAMES[base]
    if base.startswith("dockerfile."):
        return "Dockerfile"
    return prose or by_extension


__all__ = ["LANGUAGES", "language_for"]

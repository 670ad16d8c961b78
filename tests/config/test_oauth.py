"""
The sign-in options: C{--oauth PROVIDER=CLIENT_ID} with its secret from the
environment or a file, and C{--provider-url}; a provider without its secret
is a usage error at start.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.python.usage import UsageError

from julytwisted.config import Config, Options
from julytwisted.hosts import ConfiguredHost, OAuthApp


def parse(args: list[str], environ: dict[str, str] | None = None) -> Config:
    options = Options(environ or {})
    options.parseOptions(args)
    return options.config


def test_no_provider_by_default() -> None:
    """Without C{--oauth}, nobody signs in with a code host."""
    config = parse([])
    assert (config.oauth, config.code_hosts) == ({}, {})


def test_client_and_secret_from_the_environment() -> None:
    """Each provider's secret comes from its own variable; the public host."""
    config = parse(
        ["--oauth", "GitHub=gh-id", "--oauth", "bitbucket=bb-key"],
        {
            "JULYTHON_OAUTH_GITHUB_SECRET": "gh-secret\n",
            "JULYTHON_OAUTH_BITBUCKET_SECRET": "bb-secret",
        },
    )
    assert config.oauth == {
        "github": OAuthApp("gh-id", "gh-secret"),
        "bitbucket": OAuthApp("bb-key", "bb-secret"),
    }
    assert config.code_hosts["github"].web_url == "https://github.com"
    assert config.code_hosts["bitbucket"].api_url == "https://api.bitbucket.org/2.0"


def test_secret_file_wins(tmp_path: Path) -> None:
    """C{--oauth-secret-file} is read, stripped, in place of the variable."""
    path = tmp_path / "gitlab-secret"
    path.write_text("from-the-file\n")
    config = parse(
        ["--oauth", "gitlab=gl-id", "--oauth-secret-file", f"gitlab={path}"],
        {"JULYTHON_OAUTH_GITLAB_SECRET": "from-the-environment"},
    )
    assert config.oauth["gitlab"].client_secret == "from-the-file"


def test_provider_url_self_managed() -> None:
    """C{--provider-url} places a host; its API defaults under its web URL."""
    config = parse(
        ["--oauth", "gitlab=id", "--provider-url", "gitlab=https://gl.example.org/"],
        {"JULYTHON_OAUTH_GITLAB_SECRET": "s"},
    )
    assert config.code_hosts == {
        "gitlab": ConfiguredHost(
            "gitlab", "https://gl.example.org", "https://gl.example.org/api/v4"
        )
    }


@pytest.mark.parametrize(
    ("args", "environ", "says"),
    [
        (["--oauth", "github=id"], {}, "$JULYTHON_OAUTH_GITHUB_SECRET"),
        (["--oauth", "github=id"], {"JULYTHON_OAUTH_GITHUB_SECRET": " "}, "secret"),
        (["--oauth", "gitea=id"], {}, "not a code host"),
        (["--oauth", "github="], {}, "PROVIDER=CLIENT_ID"),
        (["--oauth", "github"], {}, "PROVIDER=CLIENT_ID"),
        (
            ["--oauth", "github=a", "--oauth", "github=b"],
            {"JULYTHON_OAUTH_GITHUB_SECRET": "s"},
            "twice",
        ),
        (["--oauth-secret-file", "github=/nowhere"], {}, "--oauth github=CLIENT_ID"),
        (
            ["--oauth", "github=id", "--oauth-secret-file", "github=/nowhere/x"],
            {},
            "cannot read it",
        ),
        (["--provider-url", "bitbucket=https://bb.example"], {}, "API_URL"),
        (["--provider-url", "github=ftp://x"], {}, "--provider-url"),
    ],
)
def test_usage_errors(args: list[str], environ: dict[str, str], says: str) -> None:
    """
    Each bad sign-in option is a usage error naming what is wrong, before
    anything starts: above all, a provider given without its secret.
    """
    with pytest.raises(UsageError) as raised:
        parse(args, environ)
    assert says in str(raised.value)


def test_empty_secret_file(tmp_path: Path) -> None:
    """An empty secret file is refused, not taken as an empty secret."""
    path = tmp_path / "empty"
    path.write_text("\n")
    with pytest.raises(UsageError, match="empty"):
        parse(["--oauth", "github=id", "--oauth-secret-file", f"github={path}"])


def test_help_names_the_options() -> None:
    """C{twistd julython --help} lists the three options."""
    shown = str(Options({}))
    for option in ("--oauth=", "--oauth-secret-file=", "--provider-url="):
        assert option in shown

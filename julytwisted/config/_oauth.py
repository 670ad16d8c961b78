# -*- test-case-name: tests.config.test_oauth -*-
"""
The code hosts players sign in with: C{--oauth PROVIDER=CLIENT_ID}, each
app's secret (C{$JULYTHON_OAUTH_<PROVIDER>_SECRET} or C{--oauth-secret-file
PROVIDER=PATH}), and C{--provider-url PROVIDER=WEB_URL[,API_URL]}.

Secrets stay out of the command line (and so out of the process list): a
provider given without its secret is a usage error at start, not a sign-in
that fails later.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from twisted.python.usage import UsageError

from julytwisted.errors import BadProviderURL
from julytwisted.hosts import (
    PROVIDERS,
    ConfiguredHost,
    OAuthApp,
    default_host,
    parse_provider_url,
)

#: The longest secret file read: a client secret is under 100 characters.
_MAX_SECRET_FILE = 4096


def secret_variable(provider: str) -> str:
    """@return: the environment variable of C{provider}'s client secret."""
    return f"JULYTHON_OAUTH_{provider.upper()}_SECRET"


def _pair(option: str, value: str, what: str) -> tuple[str, str]:
    """
    @return: C{PROVIDER=VALUE} split, the provider lower-cased and known.
    @raise UsageError: naming C{option} and what is wrong.
    """
    name, equals, rest = value.partition("=")
    name = name.strip().lower()
    if not equals or not rest.strip():
        raise UsageError(f"--{option}: {value!r} is not PROVIDER={what}")
    if name not in PROVIDERS:
        raise UsageError(
            f"--{option}: {name!r} is not a code host julytwisted knows; "
            f"give one of {', '.join(PROVIDERS)}"
        )
    return name, rest.strip()


def parse_client(value: str) -> tuple[str, str]:
    """@return: the provider and client id of an C{--oauth} value."""
    name, client_id = _pair("oauth", value, "CLIENT_ID")
    if not PROVIDERS[name].sign_in:
        raise UsageError(
            f"--oauth: players do not sign in with {PROVIDERS[name].title} here"
        )
    return name, client_id


def parse_secret_file(value: str) -> tuple[str, Path]:
    """@return: the provider and path of an C{--oauth-secret-file} value."""
    name, path = _pair("oauth-secret-file", value, "PATH")
    return name, Path(path).expanduser()


def parse_host(value: str) -> ConfiguredHost:
    """
    @return: the host a C{--provider-url} value configures.
    @raise UsageError: for a bad value.
    """
    try:
        return parse_provider_url(value)
    except BadProviderURL as e:
        raise UsageError(f"--provider-url: {e.message}") from None


def _read_secret(provider: str, path: Path) -> str:
    option = f"--oauth-secret-file {provider}={path}"
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_SECRET_FILE + 1)
    except OSError as e:
        raise UsageError(f"{option}: cannot read it ({e.strerror})") from None
    if len(data) > _MAX_SECRET_FILE:
        raise UsageError(f"{option}: the file is too long for a client secret")
    secret = data.decode("utf-8", "replace").strip()
    if not secret:
        raise UsageError(f"{option}: the file is empty")
    return secret


def oauth_apps(
    clients: Mapping[str, str],
    secret_files: Mapping[str, Path],
    environ: Mapping[str, str],
) -> dict[str, OAuthApp]:
    """
    Pair each C{--oauth} client id with its secret: from its file if given,
    else from its environment variable.

    @raise UsageError: for a provider without a secret, or a secret file of
        a provider not given with C{--oauth}.
    """
    stray = sorted(set(secret_files) - set(clients))
    if stray:
        raise UsageError(
            f"--oauth-secret-file {stray[0]}=...: give --oauth {stray[0]}=CLIENT_ID too"
        )
    apps = {}
    for provider, client_id in clients.items():
        if provider in secret_files:
            secret = _read_secret(provider, secret_files[provider])
        else:
            secret = environ.get(secret_variable(provider), "").strip()
        if not secret:
            raise UsageError(
                f"--oauth {provider}: no client secret; set "
                f"${secret_variable(provider)} or give --oauth-secret-file "
                f"{provider}=PATH"
            )
        apps[provider] = OAuthApp(client_id, secret)
    return apps


def code_hosts(
    given: Mapping[str, ConfiguredHost], apps: Mapping[str, OAuthApp]
) -> dict[str, ConfiguredHost]:
    """
    @return: every host given by C{--provider-url}, and the public service
        of each provider with an app but no URL.
    """
    return {name: given.get(name) or default_host(name) for name in apps} | dict(given)


__all__ = [
    "code_hosts",
    "oauth_apps",
    "parse_client",
    "parse_host",
    "parse_secret_file",
    "secret_variable",
]

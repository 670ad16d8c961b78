"""
The code hosts julytwisted knows and C{--provider-url}: defaults, GitHub
Enterprise and self-managed GitLab, and every malformed value refused with
L{BadProviderURL} (never another exception).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from julytwisted.errors import JulythonError
from julytwisted.hosts import (
    PROVIDERS,
    BadProviderURL,
    ConfiguredHost,
    default_host,
    parse_provider_url,
)


@pytest.mark.parametrize(
    ("provider", "web", "api"),
    [
        ("github", "https://github.com", "https://api.github.com"),
        ("gitlab", "https://gitlab.com", "https://gitlab.com/api/v4"),
        ("bitbucket", "https://bitbucket.org", "https://api.bitbucket.org/2.0"),
    ],
)
def test_defaults(provider: str, web: str, api: str) -> None:
    """Each provider's public service, as its documentation gives it."""
    assert default_host(provider) == ConfiguredHost(provider, web, api)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "github=https://ghe.example.com",
            ConfiguredHost(
                "github", "https://ghe.example.com", "https://ghe.example.com/api/v3"
            ),
        ),
        (
            "gitlab=https://git.example.org/",
            ConfiguredHost(
                "gitlab", "https://git.example.org", "https://git.example.org/api/v4"
            ),
        ),
        (
            "GitLab = https://gitlab.com",
            ConfiguredHost("gitlab", "https://gitlab.com", "https://gitlab.com/api/v4"),
        ),
        (
            "github=https://github.com",
            ConfiguredHost("github", "https://github.com", "https://api.github.com"),
        ),
        (
            "bitbucket=http://127.0.0.1:8001,http://127.0.0.1:8001/2.0/",
            ConfiguredHost(
                "bitbucket", "http://127.0.0.1:8001", "http://127.0.0.1:8001/2.0"
            ),
        ),
        (
            "github=http://127.0.0.1:9/,http://127.0.0.1:9/api",
            ConfiguredHost("github", "http://127.0.0.1:9", "http://127.0.0.1:9/api"),
        ),
    ],
)
def test_provider_urls(value: str, expected: ConfiguredHost) -> None:
    """Enterprise and self-managed forms, and an explicit API URL."""
    assert parse_provider_url(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://github.com", "PROVIDER=WEB_URL"),
        ("github=", "PROVIDER=WEB_URL"),
        ("sourceforge=https://sf.net", "not a code host"),
        ("github=ftp://example.com", "http(s)"),
        ("github=https://", "http(s)"),
        ("github=https://user:pw@example.com", "credentials"),
        ("github=https://example.com/?x=1", "query"),
        ("github=https://example.com:99999", "not a URL"),
        ("bitbucket=https://bitbucket.example.com", "WEB_URL,API_URL"),
        ("gitlab=https://git.example.org,javascript:alert(1)", "http(s)"),
    ],
)
def test_malformed_values(value: str, problem: str) -> None:
    """Each malformed value is refused with a message saying why."""
    with pytest.raises(BadProviderURL, match=re.escape(problem)):
        parse_provider_url(value)


def test_bad_provider_url_is_a_value_error() -> None:
    """The configuration may catch it as a ValueError."""
    assert issubclass(BadProviderURL, JulythonError)
    assert issubclass(BadProviderURL, ValueError)


def test_unknown_provider_in_a_host() -> None:
    """A ConfiguredHost of an unknown kind cannot be made."""
    with pytest.raises(BadProviderURL):
        ConfiguredHost("gitea", "https://gitea.com", "https://gitea.com/api/v1")


@given(st.text(max_size=80))
def test_any_text_gives_a_host_or_the_error(value: str) -> None:
    """Whatever the option's text, the parser returns a ConfiguredHost or refuses it."""
    try:
        host = parse_provider_url(value)
    except BadProviderURL:
        return
    assert host.provider in PROVIDERS
    assert host.web_url.startswith(("http://", "https://"))
    assert not host.api_url.endswith("/")


@given(
    st.sampled_from(sorted(PROVIDERS)),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    st.integers(1, 65535),
)
def test_web_urls_round_trip(provider: str, hostname: str, port: int) -> None:
    """A web URL with a host and a port comes back as given."""
    web = f"https://{hostname}:{port}"
    value = f"{provider}={web}" + (f",{web}/2.0" if provider == "bitbucket" else "")
    assert parse_provider_url(value).web_url == web

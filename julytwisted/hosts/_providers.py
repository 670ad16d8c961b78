# -*- test-case-name: tests.hosts.test_providers -*-
"""
The code hosts julytwisted knows, what each documents about its OAuth
endpoints and scopes, and the configured address of each: a L{ConfiguredHost}.

Pure: C{--provider-url PROVIDER=WEB_URL[,API_URL]} is parsed here, and the
configuration turns the L{BadProviderURL} it may raise into its usage error.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from julytwisted.errors import BadProviderURL
from julytwisted.game.events import Host

# The hosts' names, as the rest of the product spells them.
GITHUB = Host.GITHUB
GITLAB = Host.GITLAB
BITBUCKET = Host.BITBUCKET
BITBUCKET_SERVER = Host.BITBUCKET_SERVER


@attrs.frozen
class Provider:
    """
    One kind of code host, as its documentation describes it.

    @ivar name: its name in options and routes: C{"github"}, C{"gitlab"} or
        C{"bitbucket"}.
    @ivar title: its name for people.
    @ivar web_url: where browsers go on the public service.
    @ivar api_url: the REST API's root on the public service.
    @ivar api_path: where a self-managed install serves that API under its
        web URL (GitHub Enterprise C{/api/v3}, GitLab C{/api/v4}); L{None}
        when there is no such install (Bitbucket Cloud).
    @ivar authorize_path: the OAuth authorization endpoint, under the web URL.
    @ivar token_path: the OAuth token endpoint, under the web URL.
    @ivar basic_auth: whether the token endpoint takes the client's
        credentials as HTTP Basic (Bitbucket) rather than in the form.
    @ivar scope_param: whether the authorize URL names the scopes; Bitbucket
        takes them from the OAuth consumer's permissions instead.
    @ivar sign_in_scopes: what reading the account and its verified e-mails
        needs.
    @ivar repository_scopes: what managing a repository's webhooks and
        reading its commits needs, beyond the sign-in's.
    @ivar sign_in: whether players may sign in with it (C{--oauth}); a
        Bitbucket Data Center only sends pushes and answers for commits.
    """

    name: Host
    title: str
    web_url: str
    api_url: str
    api_path: str | None
    authorize_path: str
    token_path: str
    basic_auth: bool
    scope_param: bool
    sign_in_scopes: tuple[str, ...]
    repository_scopes: tuple[str, ...]
    sign_in: bool = True


#: Every provider by name.  GitHub: C{read:user} and C{user:email} read the
#: profile and every address with its C{verified} flag; C{admin:repo_hook}
#: manages webhooks (public repositories are read without a scope).  GitLab:
#: C{read_user} reads C{/user} and C{/user/emails}; C{api} is the only scope
#: that writes hooks.  Bitbucket: the consumer's permissions C{account} (all
#: of the account, its addresses included) and C{email}, then C{repository}
#: (commits), C{repository:admin} (which Bitbucket documents as granting no
#: read of its own) and C{webhook}.  Bitbucket Data Center has no public
#: service (its URLs are empty until C{--provider-url bitbucket-server=URL}
#: names one) and no sign-in here: its OAuth 2.0 endpoints and scopes are
#: those it documents, kept for when it has.
PROVIDERS: dict[str, Provider] = {
    GITHUB: Provider(
        name=GITHUB,
        title="GitHub",
        web_url="https://github.com",
        api_url="https://api.github.com",
        api_path="/api/v3",
        authorize_path="/login/oauth/authorize",
        token_path="/login/oauth/access_token",
        basic_auth=False,
        scope_param=True,
        sign_in_scopes=("read:user", "user:email"),
        repository_scopes=("admin:repo_hook",),
    ),
    GITLAB: Provider(
        name=GITLAB,
        title="GitLab",
        web_url="https://gitlab.com",
        api_url="https://gitlab.com/api/v4",
        api_path="/api/v4",
        authorize_path="/oauth/authorize",
        token_path="/oauth/token",
        basic_auth=False,
        scope_param=True,
        sign_in_scopes=("read_user",),
        repository_scopes=("api",),
    ),
    BITBUCKET: Provider(
        name=BITBUCKET,
        title="Bitbucket",
        web_url="https://bitbucket.org",
        api_url="https://api.bitbucket.org/2.0",
        api_path=None,
        authorize_path="/site/oauth2/authorize",
        token_path="/site/oauth2/access_token",
        basic_auth=True,
        scope_param=False,
        sign_in_scopes=("account", "email"),
        repository_scopes=("repository", "repository:admin", "webhook"),
    ),
    BITBUCKET_SERVER: Provider(
        name=BITBUCKET_SERVER,
        title="Bitbucket Data Center",
        web_url="",
        api_url="",
        api_path="/rest/api/1.0",
        authorize_path="/rest/oauth2/latest/authorize",
        token_path="/rest/oauth2/latest/token",
        basic_auth=False,
        scope_param=True,
        sign_in_scopes=("PUBLIC_REPOS",),
        repository_scopes=("REPO_ADMIN",),
        sign_in=False,
    ),
}


def _provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise BadProviderURL(
            f"{name!r} is not a code host julytwisted knows; "
            f"give one of {', '.join(PROVIDERS)}"
        ) from None


@attrs.frozen
class ConfiguredHost:
    """
    One configured code host: the public service or a self-managed install.

    @ivar provider: the kind of host, a key of L{PROVIDERS}.
    @ivar web_url: where browsers go (the authorize page), without a trailing
        slash.
    @ivar api_url: the REST API's root, without a trailing slash.
    """

    provider: str = attrs.field()
    web_url: str
    api_url: str

    @provider.validator
    def _known(self, attribute: object, value: str) -> None:
        _provider(value)

    @property
    def spec(self) -> Provider:
        """What the provider documents."""
        return PROVIDERS[self.provider]

    def web(self, path: str) -> str:
        """@return: C{path} (from its leading C{/}) on the web URL."""
        return self.web_url + path

    def api(self, path: str) -> str:
        """@return: C{path} (from its leading C{/}) under the API's root."""
        return self.api_url + path


def default_host(provider: str) -> ConfiguredHost:
    """
    @return: the public service of C{provider}.
    @raise BadProviderURL: when C{provider} is not a key of L{PROVIDERS}.
    """
    spec = _provider(provider)
    return ConfiguredHost(spec.name, spec.web_url, spec.api_url)


def repository_sites(configured: Mapping[str, ConfiguredHost]) -> dict[Host, str]:
    """
    Where each host's repositories live: the web site of its configured
    install (C{--provider-url}), else of its public service.

    @param configured: the configured hosts, by provider.
    @return: each provider's site, such as C{"gitlab.example.org"}, lower-cased
        without C{www.} or a port; none for a host with no public service
        that is not configured (Bitbucket Data Center).
    """
    sites = {}
    for name, spec in PROVIDERS.items():
        host = configured.get(name)
        url = host.web_url if host is not None else spec.web_url
        hostname = (urlsplit(url).hostname or "").lower().removeprefix("www.")
        if hostname:
            sites[spec.name] = hostname
    return sites


def _base_url(text: str, what: str) -> str:
    """
    @return: C{text} as a base URL: http or https, a host, no credentials,
        query or fragment; without its trailing slashes.
    """
    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises on a bad one
    except ValueError:
        raise BadProviderURL(f"{what} {text!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadProviderURL(f"{what} {text!r} is not an http(s) URL with a host")
    if parts.username is not None or parts.query or parts.fragment:
        raise BadProviderURL(
            f"{what} {text!r} may not carry credentials, a query or a fragment"
        )
    return url


def parse_provider_url(value: str) -> ConfiguredHost:
    """
    Read one C{--provider-url} value: C{PROVIDER=WEB_URL[,API_URL]}.

    Without an API URL, the public service's web URL keeps its own API
    (C{https://api.github.com}), a GitHub Enterprise server serves it at
    C{WEB_URL/api/v3} and a self-managed GitLab at C{WEB_URL/api/v4};
    Bitbucket Cloud has no such install, so its API URL must be given.

    @param value: the option's text, such as
        C{"gitlab=https://gitlab.example.org"}.
    @return: the host it configures.
    @raise BadProviderURL: naming what is wrong.
    """
    name, equals, urls = value.partition("=")
    name = name.strip().lower()
    if not equals or not name or not urls.strip():
        raise BadProviderURL(
            f"{value!r} is not PROVIDER=WEB_URL[,API_URL], "
            "as in gitlab=https://gitlab.example.org"
        )
    spec = _provider(name)
    web_text, comma, api_text = urls.partition(",")
    web = _base_url(web_text, f"{name}'s web URL")
    if comma:
        return ConfiguredHost(name, web, _base_url(api_text, f"{name}'s API URL"))
    if spec.web_url and web.lower() == spec.web_url:
        return ConfiguredHost(name, web, spec.api_url)
    if spec.api_path is None:
        raise BadProviderURL(
            f"{spec.title} has no API under its web URL: "
            f"give it as {name}=WEB_URL,API_URL"
        )
    return ConfiguredHost(name, web, web + spec.api_path)


__all__ = [
    "BITBUCKET",
    "BITBUCKET_SERVER",
    "GITHUB",
    "GITLAB",
    "PROVIDERS",
    "ConfiguredHost",
    "Provider",
    "default_host",
    "parse_provider_url",
    "repository_sites",
]

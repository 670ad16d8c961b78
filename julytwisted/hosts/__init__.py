# -*- test-case-name: tests.hosts.test_providers,tests.hosts.test_oauth -*-
"""
Talking to code hosts (GitHub, GitLab, Bitbucket Cloud) over treq: signing a
player in with OAuth 2.0 and PKCE, reading their account and its verified
e-mails, and a repository's webhooks and commits; and the commits of a push
to a Bitbucket Data Center, whose webhooks carry none.

Pure parts (the hosts and C{--provider-url}, the authorize URL, PKCE and
C{state}, reading answers) have no I/O.  Every call takes an L{Http} (the
HTTP client, the clock, the limits) and the configured L{ConfiguredHost}, never a
global.  What goes wrong is one of the errors of L{julytwisted.errors},
re-exported here: a L{HostError} when a host fails or refuses a call, a
L{SignInFailed} when a sign-in does not complete.
"""

from julytwisted.errors import (
    BadProviderURL,
    CodeRejected,
    ConsentDenied,
    HostError,
    HostForbidden,
    HostNotFound,
    HostRateLimited,
    HostUnreachable,
    MalformedAnswer,
    SignInFailed,
    StateMismatch,
    TokenRejected,
)
from julytwisted.hosts._bitbucket_server import (
    data_center_commits,
    data_center_repository,
)
from julytwisted.hosts._http import DEFAULT_LIMIT, Http, TreqLike
from julytwisted.hosts._providers import (
    BITBUCKET,
    BITBUCKET_SERVER,
    GITHUB,
    GITLAB,
    PROVIDERS,
    ConfiguredHost,
    Provider,
    default_host,
    parse_provider_url,
    repository_sites,
)
from julytwisted.hosts._records import Account, Hook, Repository
from julytwisted.hosts._token import exchange_code, refresh
from julytwisted.hosts.api import (
    MOST_COMMITS,
    compare,
    create_hook,
    delete_hook,
    fetch_account,
    fetch_commit,
    fetch_repository,
    list_hooks,
    ping_hook,
)
from julytwisted.hosts.oauth import (
    OAuthApp,
    Pkce,
    SignIn,
    Token,
    authorize_url,
    begin,
    new_pkce,
    new_state,
    read_callback,
)

__all__ = [
    "BITBUCKET",
    "BITBUCKET_SERVER",
    "DEFAULT_LIMIT",
    "GITHUB",
    "GITLAB",
    "MOST_COMMITS",
    "PROVIDERS",
    "Account",
    "BadProviderURL",
    "CodeRejected",
    "ConfiguredHost",
    "ConsentDenied",
    "Hook",
    "HostError",
    "HostForbidden",
    "HostNotFound",
    "HostRateLimited",
    "HostUnreachable",
    "Http",
    "MalformedAnswer",
    "OAuthApp",
    "Pkce",
    "Provider",
    "Repository",
    "SignIn",
    "SignInFailed",
    "StateMismatch",
    "Token",
    "TokenRejected",
    "TreqLike",
    "authorize_url",
    "begin",
    "compare",
    "create_hook",
    "data_center_commits",
    "data_center_repository",
    "default_host",
    "delete_hook",
    "exchange_code",
    "fetch_account",
    "fetch_commit",
    "fetch_repository",
    "list_hooks",
    "new_pkce",
    "new_state",
    "parse_provider_url",
    "ping_hook",
    "read_callback",
    "refresh",
    "repository_sites",
]

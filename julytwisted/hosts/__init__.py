# -*- test-case-name: tests.hosts.test_providers,tests.hosts.test_oauth -*-
"""
Talking to code hosts (GitHub, GitLab, Bitbucket Cloud): signing a player in
with OAuth 2.0 and PKCE, and reading their account and its verified e-mails.

Pure parts (the hosts and C{--provider-url}, the authorize URL, PKCE and
C{state}, reading answers) have no I/O.  What goes wrong is one of the
errors of L{julytwisted.errors}, re-exported here: a L{HostError} when a
host fails or refuses a call, a L{SignInFailed} when a sign-in does not
complete.
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
from julytwisted.hosts._providers import (
    BITBUCKET,
    GITHUB,
    GITLAB,
    PROVIDERS,
    Host,
    Provider,
    default_host,
    parse_provider_url,
)
from julytwisted.hosts._records import Account
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
    "GITHUB",
    "GITLAB",
    "PROVIDERS",
    "Account",
    "BadProviderURL",
    "CodeRejected",
    "ConsentDenied",
    "Host",
    "HostError",
    "HostForbidden",
    "HostNotFound",
    "HostRateLimited",
    "HostUnreachable",
    "MalformedAnswer",
    "OAuthApp",
    "Pkce",
    "Provider",
    "SignIn",
    "SignInFailed",
    "StateMismatch",
    "Token",
    "TokenRejected",
    "authorize_url",
    "begin",
    "default_host",
    "new_pkce",
    "new_state",
    "parse_provider_url",
    "read_callback",
]

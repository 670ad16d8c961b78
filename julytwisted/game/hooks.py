# -*- test-case-name: tests.game.test_hooks,tests.game.test_hooks_limits -*-
"""
Push webhooks of GitHub, Bitbucket, GitLab and Bitbucket Data Center: their
signatures checked, their bodies decoded, the events that are not pushes
told apart, and their payloads reduced to L{Push}es (to the branches whose
commits to fetch, for Bitbucket Data Center).

Pure: no I/O and no reactor.  A payload is untrusted input, so whatever bytes
or JSON value arrives, these functions return a value or raise one of
L{BadSignature}, L{UnsupportedMediaType}, L{InvalidInput} or
L{InvalidPayload}, the last with a message naming the field that is wrong
(C{"commits[3].timestamp is not an ISO 8601 time"}); never anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import parse_qs

from julytwisted.errors import (
    BadSignature,
    InvalidInput,
    InvalidPayload,
    UnsupportedMediaType,
)
from julytwisted.game import _push
from julytwisted.game._bitbucket import parse_bitbucket
from julytwisted.game._bitbucket_server import (
    MAX_CHANGES,
    DataCenterFetch,
    RefsChanged,
    bounded,
    parse_refs_changed,
)
from julytwisted.game._payload import (
    Field,
    elements_or_none,
    first_count,
    flag_or,
    is_zero_sha,
    repository_id,
    text_or,
)
from julytwisted.game.events import CommitEvent, Host, ProjectInfo, Push
from julytwisted.game.repositories import RepositoryRef

_EXPECTED_TYPES = "expected application/json or a form with a payload field"


def _quoted(text: str) -> str:
    """C{text} quoted for an error message, cut short when long."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


# Signatures


def _header(headers: Mapping[str, str], name: str) -> str:
    """The value of header C{name}, which must be present."""
    value = headers.get(name.lower())
    if value is None:
        raise BadSignature(f"missing {name} header")
    return value.strip()


def _as_bytes(text: str) -> bytes:
    """C{text} as bytes that compare in constant time, whatever it holds."""
    return text.encode("utf-8", "surrogatepass")


def _check_hmac(secret: str, name: str, value: str, body: bytes) -> None:
    """Check a C{sha256=<hex>} signature header's C{value} against C{body}."""
    algorithm, equals, given = value.partition("=")
    if not equals:
        raise BadSignature(f"{name} is not of the form sha256=<hex digest>")
    if algorithm.strip().lower() != "sha256":
        raise BadSignature(
            f"unsupported signature algorithm {_quoted(algorithm)} in {name}; "
            "expected sha256"
        )
    expected = hmac.new(_as_bytes(secret), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(_as_bytes(expected), _as_bytes(given.lower())):
        raise BadSignature("signature does not match")


def verify(service: str, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """
    Check that a webhook delivery was signed with the configured secret.

    GitHub signs with C{X-Hub-Signature-256: sha256=<hex HMAC-SHA256>},
    Bitbucket Cloud and Data Center with the same value in
    C{X-Hub-Signature}; GitLab sends the secret itself in C{X-Gitlab-Token}.
    Every comparison takes constant time.

    @param service: one of L{Host}.
    @param secret: the webhook secret configured for this server.
    @param headers: the request's headers, keyed by lower-case name.
    @param body: the request body exactly as received.
    @raise BadSignature: when the header is missing, malformed or wrong.
    @raise InvalidInput: when C{service} is none of L{Host}.
    """
    if service == Host.GITLAB:
        token = _header(headers, "X-Gitlab-Token")
        if not hmac.compare_digest(_as_bytes(secret), _as_bytes(token)):
            raise BadSignature("X-Gitlab-Token does not match")
    elif service in (Host.GITHUB, Host.BITBUCKET, Host.BITBUCKET_SERVER):
        name = "X-Hub-Signature-256" if service == Host.GITHUB else "X-Hub-Signature"
        _check_hmac(secret, name, _header(headers, name), body)
    else:
        raise InvalidInput(f"unknown service {_quoted(service)}")


# Bodies


def _refuse_constant(name: str) -> object:
    """Refuse a constant (C{NaN}, C{Infinity}) that JSON itself does not allow."""
    raise InvalidPayload(f"{name} is not allowed")


def _utf8(data: bytes, what: str) -> str:
    """C{data} decoded as UTF-8, a leading byte order mark dropped."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise InvalidPayload(
            f"{what} is not UTF-8: invalid byte at offset {e.start}"
        ) from None


def _load_json(text: str, what: str) -> object:
    """The JSON value C{text} holds, strictly (no C{NaN}) and safely."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except InvalidPayload as e:
        problem = e.message
    except json.JSONDecodeError as e:
        problem = f"{e.msg} at line {e.lineno} column {e.colno}"
    except ValueError:
        problem = "a number has too many digits"
    except RecursionError:
        problem = "it is nested too deeply"
    raise InvalidPayload(f"{what} is not valid JSON: {problem}")


def _form_payload(body: bytes) -> str:
    """The C{payload} field of a URL-encoded form."""
    text = _utf8(body, "body")
    try:
        fields = parse_qs(text, keep_blank_values=True, errors="strict")
    except ValueError:
        raise InvalidPayload("form is not UTF-8 once decoded") from None
    payloads = fields.get("payload", [])
    if len(payloads) != 1:
        problem = "no payload field" if not payloads else "several payload fields"
        raise InvalidPayload(f"form has {problem}")
    return payloads[0]


def decode_body(content_type: str | None, body: bytes, forms: bool = True) -> object:
    """
    Decode a webhook body: JSON as services send it now, or the URL-encoded
    form with a C{payload} field that GitHub and Bitbucket used to send.

    JSON is read as UTF-8 (RFC 8259) whatever charset the type names.

    @param content_type: the request's C{Content-Type}, or L{None}.
    @param body: the request body.
    @param forms: whether a form is taken (no host that sends JSON only).
    @return: the JSON value the body holds.
    @raise UnsupportedMediaType: for any other content type.
    @raise InvalidPayload: when the body is not UTF-8, not JSON, or a form
        without exactly one C{payload} field.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    top, _, subtype = media_type.partition("/")
    if top == "application" and (subtype == "json" or subtype.endswith("+json")):
        return _load_json(_utf8(body, "body"), "body")
    if forms and media_type == "application/x-www-form-urlencoded":
        return _load_json(_form_payload(body), "payload field")
    shown = _quoted(media_type) if media_type else "none"
    expected = _EXPECTED_TYPES if forms else "expected application/json"
    raise UnsupportedMediaType(f"content type {shown} is not accepted; {expected}")


# Events

#: The events each host sends a push (or a ping) as, lower-cased: GitHub's
#: C{X-GitHub-Event}, GitLab's C{X-Gitlab-Event} (a system hook sends
#: pushes too), Bitbucket's C{X-Event-Key}.
_PUSH_EVENTS = {
    Host.GITHUB: frozenset({"push", "ping"}),
    Host.GITLAB: frozenset({"push hook", "tag push hook", "system hook"}),
    Host.BITBUCKET: frozenset({"repo:push"}),
    Host.BITBUCKET_SERVER: frozenset({"repo:refs_changed", "diagnostics:ping"}),
}
_GITLAB_PUSH_KINDS = ("push", "tag_push")
#: The longest event name an answer repeats.
_EVENT_LENGTH = 100


def ignored_event(service: str, event: str | None, payload: object) -> str | None:
    """
    The event a delivery is, when it is not a push: hosts send every event
    a hook subscribes to (issues, merge requests, stars) to the one URL,
    and count any 4xx as a failed delivery, disabling hooks that fail
    often, so these are answered 202 and otherwise left alone.

    @param service: one of L{Host}.
    @param event: the event header, if any (C{X-GitHub-Event},
        C{X-Gitlab-Event}, C{X-Event-Key}); without one, the body is read
        as a push (GitLab's names its kind: C{object_kind}, or a system
        hook's C{event_name}).
    @param payload: the decoded body.
    @return: the event's name, at most 100 characters; L{None} for a push
        or a ping, which are read as such, and for a body that is no JSON
        object, which is no event of any host.
    """
    if not isinstance(payload, dict):
        return None
    name = (event or "").strip()
    if name and name.lower() not in _PUSH_EVENTS.get(Host(service), frozenset()):
        return name[:_EVENT_LENGTH]
    if service == Host.GITLAB:
        for field in ("object_kind", "event_name"):
            kind = payload.get(field)
            if isinstance(kind, str) and kind not in _GITLAB_PUSH_KINDS:
                return kind[:_EVENT_LENGTH]
    return None


def names_repository(payload: object) -> bool:
    """
    Whether a payload has a repository part at all: an organisation's ping
    and Bitbucket Data Center's connection test have none.
    """
    return isinstance(payload, dict) and (
        payload.get("repository") is not None or payload.get("project") is not None
    )


# Reading payloads

# GitHub


def _github_project(repo: Field) -> ProjectInfo:
    """The repository of a push in the current or the 2012 format."""
    return _push.project(
        Host.GITHUB,
        repository_id(repo.get("id")),
        _push.page(repo.get("html_url") or repo["url"]),
        repo,
        watchers=first_count(repo, "watchers_count", "stargazers_count", "watchers"),
        forks=first_count(repo, "forks_count", "forks"),
        forked=flag_or(repo, "fork", False),
    )


def _github_commit(commit: Field) -> CommitEvent | None:
    if not flag_or(commit, "distinct", True):
        return None
    return _push.listed_commit(commit)


def parse_github(payload: object, event: str | None = None) -> Push:
    """
    Reduce a GitHub push payload, current or as GitHub sent it in 2012.

    Tag pushes and branch deletions give no commits; commits marked
    C{"distinct": false} (already pushed to another branch) are dropped.

    @param payload: the decoded JSON body.
    @param event: the C{X-GitHub-Event} header, when there is one.
    @return: the push.
    @raise InvalidPayload: when C{event} is not C{"push"} (a C{ping} is
        answered before parsing) or the payload is not a push.
    """
    if event == "ping":
        raise InvalidPayload("ping events carry no commits")
    if event and event != "push":
        raise InvalidPayload(f"{_quoted(event)} events are not pushes")
    root = Field(payload, "")
    project = _github_project(root["repository"])
    ref = text_or(root, "ref")
    deleted = flag_or(root, "deleted", False) or is_zero_sha(text_or(root, "after"))
    if deleted or ref.startswith("refs/tags/"):
        return Push(project, (), ref)
    listed = elements_or_none(root, "commits")
    commits = _push.collect(listed, "commits", _github_commit)
    return Push(
        project,
        commits,
        ref,
        before=_push.full_or_empty(root, "before"),
        after=_push.full_or_empty(root, "after"),
        listed=len(listed),
        announced=_github_announced(root, len(listed)),
    )


def _github_announced(root: Field, listed: int) -> int:
    """
    How many commits a GitHub push brought: its C{size} when it gives one,
    else those it lists, and one more (at least) when the list is at
    GitHub's cap of 2048.
    """
    size = first_count(root, "size")
    if size:
        return max(size, listed)
    return listed + 1 if listed >= _push.MAX_COMMITS else listed


# Bitbucket


# GitLab


def _gitlab_project(root: Field) -> ProjectInfo:
    """The C{project} of a push, or the C{repository} of an older one."""
    project = root.get("project")
    if project is None:
        project = root["repository"]
        ident, page = root.get("project_id"), project["homepage"]
    else:
        ident, page = project.get("id") or root.get("project_id"), project["web_url"]
    return _push.project(Host.GITLAB, repository_id(ident), _push.page(page), project)


def parse_gitlab(payload: object) -> Push:
    """
    Reduce a GitLab push event (C{object_kind} C{"push"}); a C{"tag_push"}
    and a branch deletion give no commits.

    @param payload: the decoded JSON body.
    @return: the push.
    @raise InvalidPayload: when the payload is not a GitLab push.
    """
    root = Field(payload, "")
    kind = text_or(root, "object_kind", "push")
    if kind not in ("push", "tag_push"):
        root["object_kind"].fail(f"is {_quoted(kind)}, not push or tag_push")
    project = _gitlab_project(root)
    ref = text_or(root, "ref")
    tagged = kind == "tag_push" or ref.startswith("refs/tags/")
    if tagged or is_zero_sha(text_or(root, "after")):
        return Push(project, (), ref)
    listed = elements_or_none(root, "commits")
    commits = _push.collect(listed, "commits", _push.listed_commit)
    total = root.get("total_commits_count")
    return Push(
        project,
        commits,
        ref,
        before=_push.full_or_empty(root, "before"),
        after=_push.full_or_empty(root, "after"),
        listed=len(listed),
        announced=max(len(listed), 0 if total is None else total.count()),
    )


def repository(push: Push) -> RepositoryRef:
    """@return: the repository a parsed push names, as the store keys it."""
    project = push.project
    return RepositoryRef(project.service, project.host_id, project.url)


def parse(service: str, payload: object, event: str | None = None) -> Push:
    """
    Reduce the push payload of C{service} to a L{Push}.

    @param service: one of L{Host}.
    @param payload: the decoded JSON body (see L{decode_body}).
    @param event: the event header GitHub sends (C{X-GitHub-Event}); the other
        services tell their events apart inside the payload.
    @return: the push, its commits oldest first, each hash once.
    @raise InvalidInput: when C{service} is none of the three.
    @raise InvalidPayload: when the payload is not a push of that service.
    """
    if service == Host.GITHUB:
        return parse_github(payload, event)
    if service == Host.BITBUCKET:
        return parse_bitbucket(payload)
    if service == Host.GITLAB:
        return parse_gitlab(payload)
    expected = ", ".join(Host)
    raise InvalidInput(f"unknown service {_quoted(service)}; expected {expected}")


__all__ = [
    "MAX_CHANGES",
    "DataCenterFetch",
    "RefsChanged",
    "bounded",
    "decode_body",
    "ignored_event",
    "names_repository",
    "parse",
    "parse_bitbucket",
    "parse_github",
    "parse_gitlab",
    "parse_refs_changed",
    "repository",
    "verify",
]

# -*- test-case-name: tests.jobs.test_jobs,tests.web.test_completion -*-
"""
The product's background jobs.  Each is idempotent: run twice (a worker died
after the work but before acknowledging it), it changes nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from julytwisted.errors import HostUnreachable, MailFailed, NotifyFailed
from julytwisted.game import CommitEvent, Push, RepositoryRef
from julytwisted.game.hooks import DataCenterFetch
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.models import Board, Host, Job, Recount
from julytwisted.store import Store

#: Seconds an outgoing webhook may take to answer.
NOTIFY_TIMEOUT = 10.0


#: What L{notify} needs of an HTTP client: treq's C{post}.
Post = Callable[..., Awaitable[Any]]

#: Seconds during which the same mail is asked for again in vain: a second
#: click, a second node, a retried request queue nothing more.
MAIL_INTERVAL = 60

#: Seconds during which redeliveries of one truncated push queue no second
#: completion (each commit is counted once all the same).
COMPLETION_INTERVAL = 7 * 86400


class AccountMail(Protocol):
    """
    What the mail jobs need: L{julytwisted.auth.mailing.AccountMailer}
    composes the links and sends them.
    """

    async def send_confirmation(self, username: str, email: str) -> bool:
        """Mail a pending e-mail its confirmation link; C{False}: no claim."""

    async def send_password_reset(self, login: str) -> int:
        """Mail a player their reset link; the number of messages sent."""


class PushWork(Protocol):
    """
    What the jobs that follow a push need:
    L{julytwisted.auth.pushes.PushChecks} asks the repository's host with
    its owner's token.  Each returns its job's result, JSON-ready.
    """

    async def complete(
        self,
        repository: RepositoryRef,
        before: str,
        after: str,
        ref: str,
        arrived: datetime,
    ) -> object:
        """Fetch and ingest the commits a truncated push left out."""

    async def verify(self, repository: RepositoryRef) -> object:
        """Have the host's word on each pending commit of a repository."""


def notification(event: dict[str, Any]) -> dict[str, Any]:
    """
    A Discord- and Slack-compatible message about a push.

    @param event: C{{"project": {...}, "commits": [{hash, message, username}]}}.
    @return: JSON with C{content} (Discord) and C{text} (Slack).
    """
    project = event["project"]
    lines = [f"{len(event['commits'])} new commits to {project['name']}:"]
    for commit in event["commits"][:10]:
        who = commit.get("username") or "someone"
        lines.append(f"- {who}: {commit['message'][:100]}")
    text = "\n".join(lines)
    return {"content": text, "text": text, "username": "Julython"}


def build_jobs(
    store: Store,
    post: Post,
    mail: AccountMail | None = None,
    pushes: PushWork | None = None,
) -> JobRegistry:
    """
    @param store: the data the jobs change.
    @param post: posts outgoing webhooks: C{treq.post}, or a test's own.
    @param mail: sends the accounts' mail; L{None} on a node without
        C{--smtp}, whose mail jobs then fail (and are retried, by another
        node perhaps).
    @param pushes: asks the code hosts about pushes; L{None} on a node that
        talks to none, whose completion and verification jobs then fail
        (and are retried).
    @return: the product's jobs by name.
    """
    jobs = JobRegistry()
    _register_mail(jobs, mail)
    _register_pushes(jobs, pushes)

    @jobs.job(Job.MOVE_PLAYER_POINTS)
    async def move_player_points(
        username: str, board: Board, name: str | None
    ) -> dict[str, Any]:
        """Move a player to a location or team, recounting both groups."""
        return {"games": await store.move_member(username, board, name)}

    @jobs.job(Job.ADOPT_ORPHANS)
    async def adopt_orphans(email: str, username: str) -> dict[str, Any]:
        """Score the orphan commits of a newly verified e-mail for its owner."""
        return {"adopted": await store.adopt_orphans(email), "username": username}

    @jobs.job(Job.ADOPT_ALL_ORPHANS)
    async def adopt_all_orphans() -> dict[str, int]:
        """The periodic sweep: adopt the orphans of every owned e-mail."""
        return await store.adopt_all_orphans()

    @jobs.job(Job.RELEASE_HELD)
    async def release_held() -> dict[str, int]:
        """Let the held commits whose review days ran out count."""
        return {"released": await store.review.release_due()}

    @jobs.job(Job.RECOUNT)
    async def recount(game: str) -> Recount:
        """Rebuild every board of a game from its commits; report the drift."""
        return await store.recount(game)

    @jobs.job(Job.NOTIFY)
    async def notify(url: str, event: dict[str, Any]) -> dict[str, Any]:
        """POST a message about a push to one outgoing webhook."""
        response = await post(url, json=notification(event), timeout=NOTIFY_TIMEOUT)
        await response.content()
        if not 200 <= response.code < 300:
            raise NotifyFailed(f"{url} answered {response.code}")
        return {"status": response.code}

    return jobs


def _register_mail(jobs: JobRegistry, mail: AccountMail | None) -> None:
    def mailer() -> AccountMail:
        if mail is None:
            raise MailFailed("this node sends no mail: start it with --smtp")
        return mail

    @jobs.job(Job.MAIL_CONFIRMATION)
    async def mail_confirmation(username: str, email: str) -> dict[str, bool]:
        """Mail a pending e-mail the link that confirms it."""
        return {"sent": await mailer().send_confirmation(username, email)}

    @jobs.job(Job.MAIL_PASSWORD_RESET)
    async def mail_password_reset(login: str) -> dict[str, int]:
        """Mail a player (by username or e-mail) a password reset link."""
        return {"sent": await mailer().send_password_reset(login)}


def _register_pushes(jobs: JobRegistry, pushes: PushWork | None) -> None:
    def hosts() -> PushWork:
        if pushes is None:
            raise HostUnreachable("this node's worker talks to no code host")
        return pushes

    @jobs.job(Job.COMPLETE_PUSH)
    async def complete_push(
        host: str,
        host_id: str,
        url: str,
        before: str,
        after: str,
        ref: str,
        arrived: str,
    ) -> object:
        """Fetch the commits a truncated push left out, as of its arrival."""
        repository = RepositoryRef(Host(host), host_id, url)
        when = datetime.fromisoformat(arrived)
        return await hosts().complete(repository, before, after, ref, when)

    @jobs.job(Job.VERIFY_COMMITS)
    async def verify_commits(host: str, host_id: str, url: str) -> object:
        """Score a repository's pending commits its host knows; reject the rest."""
        return await hosts().verify(RepositoryRef(Host(host), host_id, url))


# Typed enqueueing: the one place each job's arguments are spelled for the
# queue, matching the functions above.


async def queue_completion(
    queue: Queue, repository: RepositoryRef, push: Push, arrived: datetime
) -> str:
    """
    Queue the completion of a push that announces more commits than it
    lists: once per repository, C{before} and C{after} within
    L{COMPLETION_INTERVAL}, however often the push is redelivered.

    @param arrived: when the push arrived; its fetched commits score as of
        then.
    @return: the job's id: the first one's, for a redelivery.
    """
    ident = repository.id or repository.url
    job: str = await queue.enqueue(
        Job.COMPLETE_PUSH,
        repository.host,
        repository.id,
        repository.url,
        push.before,
        push.after,
        push.ref,
        arrived.isoformat(),
        unique=f"complete:{repository.host}:{ident}:{push.before}:{push.after}",
        unique_for=COMPLETION_INTERVAL,
    )
    return job


async def queue_verification(queue: Queue, repository: RepositoryRef) -> str:
    """
    Queue the verification of a repository's pending commits (all of them:
    those of earlier pushes still waiting too).

    @return: the job's id.
    """
    job: str = await queue.enqueue(
        Job.VERIFY_COMMITS, repository.host, repository.id, repository.url
    )
    return job


async def queue_adoption(queue: Queue, email: str, username: str) -> str:
    """
    Queue the adoption of C{email}'s orphan commits by its new owner.

    @return: the job's id.
    """
    job: str = await queue.enqueue(Job.ADOPT_ORPHANS, email, username)
    return job


async def queue_confirmation(queue: Queue, username: str, email: str) -> str:
    """
    Queue the mail confirming a player's pending e-mail: once per
    L{MAIL_INTERVAL}, however often it is asked for.

    @return: the job's id.
    """
    email = email.strip().lower()
    job: str = await queue.enqueue(
        Job.MAIL_CONFIRMATION,
        username,
        email,
        unique=f"mail:confirm:{username}:{email}",
        unique_for=MAIL_INTERVAL,
    )
    return job


async def queue_password_reset(queue: Queue, login: str) -> str:
    """
    Queue a password reset mail to the player a login names, if any: once
    per L{MAIL_INTERVAL} per login, however often it is asked for.

    @param login: a username or an e-mail, as typed.
    @return: the job's id.
    """
    login = login.strip().lower()
    job: str = await queue.enqueue(
        Job.MAIL_PASSWORD_RESET,
        login,
        unique=f"mail:reset:{login}",
        unique_for=MAIL_INTERVAL,
    )
    return job


async def queue_move(
    queue: Queue, username: str, board: Board, name: str | None
) -> str:
    """
    Queue the move of a player's points to another location or team.

    @param board: L{Board.LOCATIONS} or L{Board.TEAMS}.
    @param name: the group's name, or L{None} for none.
    @return: the job's id.
    """
    job: str = await queue.enqueue(Job.MOVE_PLAYER_POINTS, username, board, name)
    return job


async def queue_recount(queue: Queue, game: str) -> str:
    """
    Queue a recount of every board of a game.

    @param game: the game's slug.
    @return: the job's id.
    """
    job: str = await queue.enqueue(Job.RECOUNT, game)
    return job


async def reject_commit(
    store: Store, queue: Queue, hash: str, by: str, reason: str
) -> tuple[str, ...]:
    """
    An admin rejects a commit: it never scores, and the boards of the
    games it scored in are rebuilt without it by a recount job each.

    @param by: the admin, for the audit log.
    @return: the recount jobs' ids.
    """
    games = await store.review.reject(hash, by, reason)
    return tuple([await queue_recount(queue, game) for game in games])


async def queue_notification(queue: Queue, url: str, event: dict[str, Any]) -> str:
    """
    Queue the message about a push to one outgoing webhook.

    @return: the job's id.
    """
    job: str = await queue.enqueue(Job.NOTIFY, url, event)
    return job


# Bitbucket Data Center: its pushes carry no commits.


class DataCenterCommits(Protocol):
    """
    What the Data Center job needs to read a branch's new commits from the
    server's REST API, with the repository owner's token where there is one
    (L{julytwisted.auth.data_center.DataCenterCommitReader}).
    """

    async def __call__(self, fetch: DataCenterFetch) -> tuple[CommitEvent, ...]:
        """@return: the commits C{fetch.after} has and C{fetch.before} lacks."""


def register_data_center_jobs(
    jobs: JobRegistry, store: Store, commits: DataCenterCommits
) -> None:
    """
    Register the job that completes a Bitbucket Data Center push.

    @param commits: reads a branch's new commits from the server.
    """

    @jobs.job(Job.DATA_CENTER_COMMITS)
    async def data_center_commits(
        fields: dict[str, Any], arrived: str
    ) -> dict[str, Any]:
        """
        Fetch the commits a Bitbucket Data Center push moved a branch by,
        and ingest them as of the push's arrival; each is counted once
        however often this runs.
        """
        fetch = DataCenterFetch.from_json(fields)
        push = fetch.push(await commits(fetch))
        if not push.commits:
            return {"fetched": 0, "new": []}
        when = datetime.fromisoformat(arrived)
        result = await store.ingest(fetch.repository, push, when)
        answer: dict[str, Any] = {
            "project": result.project,
            "fetched": len(push.commits),
            "new": list(result.new),
        }
        if not result.active:
            answer["error"] = "abuse"
        return answer


async def queue_data_center_commits(
    queue: Queue, fetch: DataCenterFetch, arrived: datetime
) -> str:
    """
    Queue the fetch of one branch's commits of a Bitbucket Data Center
    push: once per repository and pair of hashes, however often the push
    is delivered.

    @param arrived: when the push arrived, which the commits score as of.
    @return: the job's id: the first one's, for a redelivery.
    """
    repository = fetch.host_id or fetch.url
    job: str = await queue.enqueue(
        Job.DATA_CENTER_COMMITS,
        fetch.to_json(),
        arrived.isoformat(),
        unique=f"data-center:{repository}:{fetch.before}:{fetch.after}",
    )
    return job


__all__ = [
    "COMPLETION_INTERVAL",
    "MAIL_INTERVAL",
    "NOTIFY_TIMEOUT",
    "AccountMail",
    "DataCenterCommits",
    "NotifyFailed",
    "Post",
    "PushWork",
    "build_jobs",
    "notification",
    "queue_adoption",
    "queue_completion",
    "queue_confirmation",
    "queue_data_center_commits",
    "queue_move",
    "queue_notification",
    "queue_password_reset",
    "queue_recount",
    "queue_verification",
    "register_data_center_jobs",
    "reject_commit",
]

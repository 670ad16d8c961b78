# -*- test-case-name: tests.test_twistd -*-
"""
Composition: builds every part of a julytwisted process from a L{Config} and
hands each its collaborators.  The only module, with the plugin, that touches
the real reactor.
"""

from __future__ import annotations

import gc
import hashlib
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorFromThreads, IReactorTCP, IReactorTime
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from julytwisted import __version__, rpc
from julytwisted.auth.accounts import Mailing, SignUps
from julytwisted.auth.authenticator import Authenticator, limit_by_principal
from julytwisted.auth.data_center import DataCenterCommitReader
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.host_tokens import HostTokens, TokenBox
from julytwisted.auth.links import SignedLinks
from julytwisted.auth.mailing import AccountMailer
from julytwisted.auth.pushes import PushChecks
from julytwisted.auth.repositories import Registrar
from julytwisted.auth.sessions import Sessions, load_secret
from julytwisted.auth.webhooks import PushGate, SecretBox
from julytwisted.config import Config, Options
from julytwisted.errors import NotFound
from julytwisted.hosts import PROVIDERS, Http, default_host, repository_sites
from julytwisted.jobs import build_jobs
from julytwisted.jobs.product import register_data_center_jobs
from julytwisted.jobs.queue import JobRegistry, Queue
from julytwisted.jobs.schedule import (
    RELEASE_EVERY,
    Plan,
    Scheduler,
    StartupMigration,
)
from julytwisted.jobs.worker import WorkerService
from julytwisted.live import LiveResource, build_live
from julytwisted.methods import build_registry, translate
from julytwisted.metrics import Metrics, MetricsResource
from julytwisted.models import Host, to_json
from julytwisted.pages import (
    FORM_MAX_BODY,
    Accounts,
    Admin,
    HostSignInPages,
    MailLinks,
    Pages,
    StaticFiles,
)
from julytwisted.pages.commits import SEGMENT as COMMITS_SEGMENT
from julytwisted.pages.commits import CommitPages
from julytwisted.pages.private_boards import SEGMENT as BOARDS_SEGMENT
from julytwisted.pages.private_boards import PrivateBoardPages
from julytwisted.pages.repositories import ADD_PATH, ProjectsDoor, RepositoryPages
from julytwisted.redis_service import RedisService
from julytwisted.site import JulythonSite, Root, WebService
from julytwisted.store import Store
from julytwisted.store.failures import FailureBudget
from julytwisted.store.ratelimit import ClientAddress, RateLimiter
from julytwisted.upload import UploadLimits, Uploads, credentials_or_session
from julytwisted.upload._files import FileStore
from julytwisted.web import WebApp, WebSettings

log = Logger()


class OrderedMultiService(MultiService):
    """
    Starts its children in the order they were added and stops them one at a
    time in reverse, each after the one before has finished: the web stops
    answering before Redis stops writing.
    """

    def stopService(self) -> Deferred[None]:
        self.running = 0
        d: Deferred[Any] = succeed(None)
        for child in reversed(list(self)):
            d.addCallback(_stop, child)
        return d.addCallback(lambda _: None)


def _stop(_: object, child: IService) -> Deferred[None] | None:
    result: Deferred[None] | None = child.stopService()
    return result


class FrozenStartup(Service):
    """
    Once the services before it have started, moves every object the
    process has made into the collector's permanent generation
    (C{gc.freeze}): the modules, classes and resources of start-up live as
    long as the process, and each full collection walked them all, about
    90,000 objects and 35 ms in which no request was answered and no
    watcher of the live feed was written to.  What is made afterwards is
    collected as before.
    """

    name = "frozen-startup"

    def startService(self) -> None:
        Service.startService(self)
        gc.freeze()

    def stopService(self) -> None:
        Service.stopService(self)
        gc.unfreeze()


def build_limiter(
    store: Store, config: Config, metrics: Metrics | None = None
) -> RateLimiter:
    """
    @return: the rate limits of C{config}, shared by every node through
        C{store}'s Redis, telling C{metrics} of each refusal.
    """
    return RateLimiter(
        store.redis,
        config.rate_limits,
        ClientAddress(config.trusted_proxies),
        on_limited=None if metrics is None else metrics.limited,
    )


def build_site(
    store: Store,
    config: Config,
    queue: Queue,
    hasher: PasswordHasher | None = None,
    metrics: Metrics | None = None,
    clock: IReactorTime | None = None,
    live: LiveResource | None = None,
    limiter: RateLimiter | None = None,
    http: Http | None = None,
) -> JulythonSite:
    """
    The Site: the public pages at C{/} and whatever the other resources
    leave, the account pages, the REST API and webhooks under C{/api/},
    JSON-RPC at C{/json/}, static files at C{/static/} and C{/metrics}.

    @param queue: where slow follow-ups go.
    @param hasher: checks and hashes passwords in a pool of its own; by
        default one the Site runs while it listens.
    @param live: the live feed's resource, mounted at C{/live}, if any.
    @param limiter: the rate limits; L{build_limiter}'s by default.
    @param metrics: what the Site counts and serves at C{/metrics}; new
        ones by default.
    @param clock: the time cached board reads and failed sign-ins go by;
        the reactor by default.
    @param http: the client the code hosts are called with (sign-in);
        treq's over the reactor by default.
    @return: the Site serving every resource, webhook bodies bounded by
        C{config.webhook_max_body}.
    """
    from twisted.internet import reactor

    if clock is None:
        clock = reactor
    owned: list[IService] = []
    if hasher is None:
        # Its threads hand results back through the real reactor, whatever
        # clock the pages go by.
        hasher = PasswordHasher(cast(IReactorFromThreads, reactor))
        owned.append(hasher)
    metrics = metrics or Metrics()
    settings = WebSettings(
        admin_token=config.admin_token,
        notify=config.notify,
        public_url=config.public_url,
        verify_commits=config.verify_commits,
    )
    limiter = limiter or build_limiter(store, config, metrics)
    authenticator = build_authenticator(store, config, hasher, limiter, metrics)
    mailing = Mailing(queue, enabled=config.smtp is not None)
    sign_ups = SignUps(store, hasher, limiter, mailing)
    secret = load_secret(config.session_secret, config.data_dir)
    box = SecretBox(secret)
    gate = PushGate(
        store,
        box,
        repository_sites(config.code_hosts),
        config.open_repositories,
        config.webhook_secret,
    )
    api = WebApp(
        store, settings, queue, metrics.push, limiter, authenticator, gate=gate
    ).app.resource()
    sessions = Sessions(store, secret, config.admin_token, config.admin_players)
    http = http or _host_client()
    hosts = HostSignInPages(
        store,
        queue,
        sessions,
        http,
        config.oauth,
        config.code_hosts,
        TokenBox(secret),
        limiter,
    )
    registrar = Registrar(
        store,
        box,
        TokenBox(secret),
        http,
        config.code_hosts,
        config.oauth,
        config.public_url,
    )
    accounts = Accounts(
        store, queue, sessions, authenticator, sign_ups, limiter, mailing, hosts
    ).app.resource()
    links = MailLinks(
        store,
        queue,
        sessions,
        SignedLinks(secret, clock),
        mailing,
        hasher,
        limiter,
        end_sessions=sessions.end_sessions,
    ).app.resource()
    admin = Admin(
        store, queue, sessions, config.admin_token, authenticator
    ).app.resource()
    data_center = config.code_hosts.get(Host.BITBUCKET_SERVER)
    pages = Pages(
        store,
        sessions,
        clock,
        open_repositories=config.open_repositories,
        data_center=None if data_center is None else data_center.web_url,
        review_days=config.review_days,
        burst_limit=config.burst_limit,
    )
    # The doors that are not pages wear the site's layout all the same.
    layout = pages.renderer.layout
    public = pages.app.resource()
    adding = RepositoryPages(registrar, sessions, hosts.providers).app.resource()
    root = Root(
        public,
        {
            b"projects": ProjectsDoor(adding, public),
            b"api": api,
            b"healthz": api,
            **{segment: accounts for segment in Accounts.segments},
            **{segment: links for segment in MailLinks.segments},
            Admin.segment: admin,
            BOARDS_SEGMENT: PrivateBoardPages(store, sessions).app.resource(),
            COMMITS_SEGMENT: CommitPages(store, sessions).app.resource(),
        },
    )
    static = StaticFiles()
    root.putChild(b"static", static)
    root.putChild(b"favicon.ico", static.file(b"favicon.ico"))
    root.putChild(
        b"json",
        rpc.JSONRPCResource(
            build_registry(store, queue, sign_ups, mailing, registrar),
            authenticate=authenticator,
            translate=translate,
            title="Julython",
            version=__version__,
            observe=metrics.rpc_call,
            admit=limit_by_principal(limiter, "rpc"),
            present=to_json,
            max_batch=config.rpc_batch_limit,
            layout=layout,
        ),
    )
    root.putChild(b"metrics", MetricsResource(metrics, queue.stats))
    uploads = build_uploads(
        store, config, credentials_or_session(authenticator, sessions)
    )
    for name, resource in uploads.resources(layout).items():
        root.putChild(name, resource)
    if live is not None:
        live.use_layout(layout)
        live.use_board_check(_board_watchers(store, sessions))
        root.putChild(b"live", live)
    limits = [
        (f"/api/v1/{service}".encode(), config.webhook_max_body) for service in Host
    ]
    limits += [
        (b"/" + segment, FORM_MAX_BODY)
        for segment in (*Accounts.segments, *MailLinks.segments, Admin.segment)
    ]
    limits.append((ADD_PATH.encode(), FORM_MAX_BODY))
    limits.append((b"/" + BOARDS_SEGMENT, FORM_MAX_BODY))
    limits.append((b"/" + COMMITS_SEGMENT, FORM_MAX_BODY))
    limits.append((b"/upload", config.upload_max_body))
    site = JulythonSite(
        root,
        limits=limits,
        streams=[(b"/upload", uploads.stream)],
        observe=metrics.request,
        services=owned,
    )
    metrics.in_flight_from(lambda: site.active)
    return site


def build_authenticator(
    store: Store,
    config: Config,
    hasher: PasswordHasher,
    limiter: RateLimiter,
    metrics: Metrics | None = None,
) -> Authenticator:
    """
    @return: the one check of credentials every door uses, within the
        budget of failures C{config} gives (C{credentials} per address,
        C{credentials-user} per username), shared by every node.
    """
    budget = FailureBudget(
        store.redis,
        config.rate_limits.get("credentials"),
        config.rate_limits.get("credentials-user"),
        on_limited=None if metrics is None else metrics.limited,
    )
    return Authenticator(store, config.admin_token, hasher, budget, limiter.address)


def build_uploads(
    store: Store, config: Config, identify: Callable[[IRequest], Awaitable[str | None]]
) -> Uploads:
    """
    @return: uploads into C{DATA/files} (or C{--files-dir}), their senders
        known by the API tokens (or passwords) the JSON-RPC methods accept.
    """
    root = config.files_dir or config.data_dir / "files"
    # Named by machine and data dir: stable across restarts, apart from the
    # other nodes sharing the directory.
    where = f"{socket.gethostname()}:{config.data_dir}".encode()
    files = FileStore(root, hashlib.sha256(where).hexdigest()[:16])
    files.prepare()
    limits = UploadLimits(
        types=config.upload_types,
        max_file=config.upload_max_file,
        max_parts=config.upload_max_parts,
        quota=config.upload_quota,
    )
    return Uploads(store, files, identify, limits)


def build_mailer(
    store: Store, config: Config, reactor: IReactorTCP, clock: IReactorTime
) -> AccountMailer | None:
    """
    @return: what mails the accounts' links through C{--smtp}, signing them
        with the session secret; L{None} without C{--smtp}, which is said
        once here: typed e-mails then cannot be verified.
    """
    if config.smtp is None or config.public_url is None:
        log.warn(
            "No --smtp: e-mails players type stay pending and cannot be "
            "verified (an admin may vouch for them), and passwords cannot be "
            "reset by mail"
        )
        return None
    from julytwisted.mail import Mailer, MailServer

    relay = config.smtp
    server = MailServer(
        relay.host, relay.port, relay.security, relay.username, relay.password
    )
    mailer = Mailer(reactor, server, config.mail_from or "julython@localhost")
    links = SignedLinks(load_secret(config.session_secret, config.data_dir), clock)
    return AccountMailer(store, links, mailer.send, config.public_url)


def with_data_center(jobs: JobRegistry, store: Store, config: Config) -> JobRegistry:
    """
    @return: C{jobs}, with the one that reads a Bitbucket Data Center push's
        commits from the configured server.
    """
    secret = load_secret(config.session_secret, config.data_dir)
    reader = DataCenterCommitReader(
        store,
        TokenBox(secret),
        _host_client(),
        config.code_hosts.get(Host.BITBUCKET_SERVER),
    )
    register_data_center_jobs(jobs, store, reader)
    return jobs


def build_push_checks(
    store: Store, config: Config, http: Http | None = None
) -> PushChecks:
    """
    @param http: the client the code hosts are called with; treq's over
        the reactor by default.
    @return: what completes truncated pushes and verifies commits at the
        code hosts of C{config}, with the repositories' owners' tokens.
    """
    http = http or _host_client()
    hosts = {
        name: config.code_hosts.get(name) or default_host(name) for name in PROVIDERS
    }
    box = TokenBox(load_secret(config.session_secret, config.data_dir))
    tokens = HostTokens(store, box, http, hosts, config.oauth)
    return PushChecks(store, tokens, http, hosts)


def _host_client() -> Http:
    """@return: treq's client over the reactor, for the code hosts."""
    from treq.client import HTTPClient
    from twisted.internet import reactor
    from twisted.web.client import Agent, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor)
    return Http(HTTPClient(Agent(reactor, pool=pool)), reactor)


def build(
    config: Config, reactor: IReactorTime
) -> tuple[MultiService, Store, JulythonSite]:
    """
    Build a whole process: Redis, the job worker (unless C{config.workers}
    is 0), the password hasher, the live feed's bridge, and the web.  They
    start in that order and stop in reverse.

    @return: the top service, the store and the site.
    """
    top = OrderedMultiService()
    metrics = Metrics()
    warn_open_repositories(config)
    redis = RedisService(
        reactor,
        config.redis,
        config.data_dir,
        timeout=config.redis_timeout,
        observe=metrics.redis_call,
    )
    redis.setServiceParent(top)
    store = Store(
        redis.client,
        reactor,
        config.games,
        late_grace=config.late_grace,
        review_days=config.review_days,
        burst_limit=config.burst_limit,
    )
    store.games.watch().setServiceParent(top)
    queue = Queue(redis.client, reactor)
    mailer = build_mailer(store, config, IReactorTCP(reactor), reactor)
    if config.workers:
        import treq

        WorkerService(
            queue,
            redis.dedicated_client(),
            with_data_center(
                build_jobs(store, treq.post, mailer, build_push_checks(store, config)),
                store,
                config,
            ),
            reactor,
            concurrency=config.workers,
            visibility=config.job_visibility,
            stop_timeout=config.job_grace,
            observe=metrics.job,
        ).setServiceParent(top)
    plan = Plan(
        recount_at=config.recount_at,
        sweep_every=None
        if config.sweep_every is None
        else timedelta(minutes=config.sweep_every),
        # With no review days nothing waits for its days to run out.
        release_every=RELEASE_EVERY if config.review_days else None,
    )
    Scheduler(queue, plan, reactor, store.games).setServiceParent(top)
    StartupMigration(store, queue, reactor).setServiceParent(top)
    limiter = build_limiter(store, config, metrics)
    # Stopped after the web, which may still be checking a password.
    hasher = PasswordHasher(cast(IReactorFromThreads, reactor))
    hasher.setServiceParent(top)
    bridge, live = build_live(
        store,
        redis.subscriber,
        config.live,
        reactor,
        limiter=limiter,
        on_flushed=metrics.live_frames,
    )
    metrics.live_from(lambda: bridge.watchers)
    redis.before_replies(bridge.read_waiting)
    bridge.setServiceParent(top)
    site = build_site(
        store,
        config,
        queue,
        hasher,
        metrics=metrics,
        clock=reactor,
        live=live,
        limiter=limiter,
    )
    WebService(site, config.listen, reactor).setServiceParent(top)
    return top, store, site


def _board_watchers(
    store: Store, sessions: Sessions
) -> Callable[[IRequest, str], Awaitable[bool]]:
    """
    @return: whether a live upgrade may watch a private board: its session's
        player is a member, or its C{?token=} is the board's read token.
    """

    async def may_watch(request: IRequest, board_id: str) -> bool:
        viewer = await sessions.viewer(request)
        given = request.args.get(b"token", [b""])[-1].decode("utf-8", "replace")
        try:
            return await store.private_boards.may_read(
                board_id, viewer.username, given or None
            )
        except NotFound:
            return False

    return may_watch


def warn_open_repositories(config: Config) -> None:
    """
    Say at start what C{--open-repositories} trusts: every holder of the
    site-wide secret (everyone, without one).
    """
    if not config.open_repositories:
        return
    holders = (
        "every holder of --webhook-secret"
        if config.webhook_secret
        else "anyone at all (no --webhook-secret is set)"
    )
    log.warn(
        "--open-repositories: pushes of repositories no player added are "
        "accepted from {holders}, who may post any repository, commit and "
        "author; added repositories are still checked with their own secret",
        holders=holders,
    )


def makeService(options: Options) -> IService:
    """
    The twistd entry point: a service from parsed command-line options.
    """
    from twisted.internet import reactor

    top, _, _ = build(options.config, reactor)
    FrozenStartup().setServiceParent(top)
    return top


__all__ = [
    "FrozenStartup",
    "OrderedMultiService",
    "build",
    "build_authenticator",
    "build_limiter",
    "build_mailer",
    "build_push_checks",
    "build_site",
    "build_uploads",
    "makeService",
    "warn_open_repositories",
]

# -*- test-case-name: tests.test_service -*-
"""
Composition: builds every part of a julytwisted process from a L{Config} and
hands each its collaborators.  The only module, with the plugin, that touches
the real reactor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import IService, MultiService
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.threads import deferToThread

from julytwisted import __version__, rpc
from julytwisted.config import Config, Options
from julytwisted.jobs import build_jobs
from julytwisted.live import LiveResource, build_live
from julytwisted.methods import Authenticator, RunInThread, build_registry, translate
from julytwisted.redis_service import RedisService
from julytwisted.site import JulythonSite, Root, WebService
from julytwisted.store import Store
from julytwisted.tasks import Queue, WorkerService
from julytwisted.web import WebApp, WebSettings


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


def build_site(
    store: Store,
    config: Config,
    queue: Queue,
    run_in_thread: RunInThread[Any] | None = None,
    live: LiveResource | None = None,
) -> JulythonSite:
    """
    @param queue: where slow follow-ups go.
    @param live: the live feed's resource, mounted at C{/live}, if any.
    @param run_in_thread: runs blocking work (password hashing) off the
        reactor; the reactor's thread pool by default.
    @return: the Site serving every resource, webhook bodies bounded by
        C{config.webhook_max_body}.
    """
    settings = WebSettings(
        webhook_secret=config.webhook_secret,
        admin_token=config.admin_token,
        notify=config.notify,
    )
    root = Root(WebApp(store, settings, queue).app.resource())
    threaded = run_in_thread or _in_reactor_threads
    root.putChild(
        b"json",
        rpc.JSONRPCResource(
            build_registry(store, queue, threaded),
            authenticate=Authenticator(store, config.admin_token, threaded),
            translate=translate,
            title="Julython",
            version=__version__,
        ),
    )
    if live is not None:
        root.putChild(b"live", live)
    limits = [
        (f"/api/v1/{service}".encode(), config.webhook_max_body)
        for service in ("github", "bitbucket", "gitlab")
    ]
    return JulythonSite(root, limits=limits)


def _in_reactor_threads(f: Callable[[], Any]) -> Deferred[Any]:
    """Run C{f} in the reactor's thread pool."""
    return deferToThread(f)


def build(
    config: Config, reactor: IReactorTime
) -> tuple[MultiService, Store, JulythonSite]:
    """
    Build a whole process: Redis, the job worker (unless C{config.workers}
    is 0), the live feed's bridge, and the web.  They start in that order and
    stop in reverse.

    @return: the top service, the store and the site.
    """
    top = OrderedMultiService()
    redis = RedisService(
        reactor, config.redis, config.data_dir, timeout=config.redis_timeout
    )
    redis.setServiceParent(top)
    store = Store(redis.client, reactor, config.games)
    queue = Queue(redis.client, reactor)
    if config.workers:
        import treq

        WorkerService(
            queue,
            redis.dedicated_client(),
            build_jobs(store, treq.post),
            reactor,
            concurrency=config.workers,
        ).setServiceParent(top)
    bridge, live = build_live(store, redis.subscriber, config.live, reactor)
    bridge.setServiceParent(top)
    site = build_site(store, config, queue, live=live)
    WebService(site, config.listen, reactor).setServiceParent(top)
    return top, store, site


def makeService(options: Options) -> IService:
    """
    The twistd entry point: a service from parsed command-line options.
    """
    from twisted.internet import reactor

    top, _, _ = build(options.config, reactor)
    return top


__all__ = ["OrderedMultiService", "build", "build_site", "makeService"]

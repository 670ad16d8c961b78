# -*- test-case-name: tests.auth.test_hashing -*-
"""
Password hashing off the reactor, in a pool of its own that a guessing storm
cannot grow or monopolise.

Each scrypt takes tens of milliseconds and 16 MiB.  In the reactor's shared
thread pool, two storms of guesses once queued without bound (RSS from 71 to
265 MB) and held an honest sign-in for 16.7 s.  Here at most C{threads}
hashes run at once; waiting work is bounded in all and per client, and
served round-robin across clients, so one client's burst waits behind
itself, not in front of everybody.  Beyond the bounds a hash is refused with
L{Overloaded} (503 and C{Retry-After}) at once, costing nothing.

Checking a password for an unknown username costs one scrypt too, against a
dummy hash: the answer's timing does not tell which usernames exist.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from julytwisted.auth.passwords import check_strength, hash_password, verify_password
from julytwisted.errors import Overloaded

_T = TypeVar("_T")


class PasswordHasher(Service):
    """
    Hashes and checks passwords in a bounded pool of its own threads.

    Started and stopped as a service: its threads live while it runs.
    """

    name = "password-hasher"

    def __init__(
        self,
        reactor: IReactorFromThreads,
        threads: int = 2,
        waiting: int = 64,
        per_client: int = 4,
    ) -> None:
        """
        @param reactor: where results are delivered.
        @param threads: hashes run at once (each takes a core and 16 MiB).
        @param waiting: hashes that may wait for a thread, from all clients.
        @param per_client: of those, how many one client may have waiting.
        """
        self._reactor = reactor
        self._threads = threads
        self._waiting_limit = waiting
        self._per_client = per_client
        self._pool = ThreadPool(threads, threads, "julython-scrypt")
        self._queues: OrderedDict[str, deque[Callable[[], None]]] = OrderedDict()
        self._waiting = 0
        self._running = 0
        self._runs = 0
        self._dummy: str | None = None

    def startService(self) -> None:
        super().startService()
        self._pool.start()

    def stopService(self) -> None:
        super().stopService()
        self._pool.stop()

    @property
    def waiting(self) -> int:
        """Hashes waiting for a thread now."""
        return self._waiting

    @property
    def runs(self) -> int:
        """Hashes and checks handed to a thread since this hasher was made."""
        return self._runs

    async def hash(self, password: object, client: str) -> str:
        """
        @param password: the new password, checked for strength first.
        @param client: who asks (the client address), for fairness.
        @return: its salted scrypt hash.
        @raise InvalidInput: for a password too short or too long.
        @raise Overloaded: when too much is waiting already.
        """
        clear = check_strength(password)
        return await self.submit(client, lambda: hash_password(clear))

    async def verify(self, password: str, stored: str | None, client: str) -> bool:
        """
        @param stored: the player's hash, or L{None} for an unknown player:
            then a dummy hash is checked, so both take the same time.
        @return: whether the password matches.
        @raise Overloaded: when too much is waiting already.
        """
        if stored is None:
            if self._dummy is None:
                self._dummy = await self.submit(client, lambda: hash_password("-"))
            dummy = self._dummy
            await self.submit(client, lambda: verify_password(password, dummy))
            return False
        return await self.submit(client, lambda: verify_password(password, stored))

    def submit(self, client: str, work: Callable[[], _T]) -> Deferred[_T]:
        """
        Run C{work} in the pool, now or after the work waiting before it.

        @param client: whose work it is: waiting work is served round-robin
            across clients.
        @return: its result.
        @raise Overloaded: when the bounds leave no room for it.
        """
        result: Deferred[_T] = Deferred()

        def start() -> None:
            self._running += 1
            self._runs += 1
            done = deferToThreadPool(self._reactor, self._pool, work)
            done.addBoth(self._finished)
            done.chainDeferred(result)

        if self._running < self._threads:
            start()
            return result
        queue = self._queues.get(client)
        if self._waiting >= self._waiting_limit or (
            queue is not None and len(queue) >= self._per_client
        ):
            raise Overloaded("too many sign-ins at once; retry shortly")
        self._queues.setdefault(client, deque()).append(start)
        self._waiting += 1
        return result

    def _finished(self, result: _T) -> _T:
        self._running -= 1
        if self._queues:
            # Round-robin: the client served next goes to the back.
            client, queue = self._queues.popitem(last=False)
            start = queue.popleft()
            if queue:
                self._queues[client] = queue
            self._waiting -= 1
            start()
        return result


__all__ = ["PasswordHasher"]

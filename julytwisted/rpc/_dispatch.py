# -*- test-case-name: tests.rpc.test_rpc,tests.rpc.test_rpc_django -*-
"""
The dispatch of request objects to methods: batches run concurrently, each
call authenticated, bound, run under a deadline and answered in its own
version's envelope.

Credentials are proved once per HTTP request, however many calls it holds:
the C{Authorization} header's before any call runs, and the C{username,
password} params of calls one set at a time (L{_proofs.Proofs}), so that a batch
cannot try many passwords at once.

Every error a call meets travels down its Deferred's errback chain and becomes
an error object in one place, L{Dispatcher.error_for}.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeAlias

import attrs
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    gatherResults,
    succeed,
)
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from julytwisted.rpc._errors import (
    AuthenticationError,
    InternalError,
    InvalidRequest,
    InvalidRequestObject,
    JSONRPCError,
    MethodNotFound,
    ParseError,
    ServerError,
)
from julytwisted.rpc._method import Method
from julytwisted.rpc._proofs import (
    Authenticator,
    Credentials,
    Proofs,
    as_deferred,
    param_credentials,
)
from julytwisted.rpc._protocol import (
    Call,
    Reply,
    encode,
    failure,
    parse_body,
    parse_call,
    success,
)

log = Logger()


@attrs.frozen
class CallContext:
    """
    The first argument of every method.

    @ivar request: the twisted.web request that carried the call.
    @ivar user: what the resource's C{authenticate} returned for the
        request's credentials, or L{None}.
    @ivar version: C{"1.0"}, C{"1.1"} or C{"2.0"}.
    @ivar method: the name the method was called by.
    """

    request: IRequest
    user: object
    version: str
    method: str


Translator: TypeAlias = Callable[[Exception], JSONRPCError | None]
"""
C{translate(exception)}: the error object to send for an exception of the
application's own, or L{None} to send an internal error.
"""

Answer: TypeAlias = "Reply | Deferred[Reply]"
"""
A reply, or a Deferred of one while a call is still running: most calls
answer at once, and are then answered without a Deferred.
"""


@attrs.frozen
class Incoming:
    """
    What the HTTP side knows of a request besides its body.

    @ivar credentials: those of the C{Authorization} header, if any.
    @ivar via_get: whether it came by HTTP GET, so only safe methods run.
    """

    request: IRequest
    credentials: Credentials | None = None
    via_get: bool = False


#: What L{Dispatcher.handle} is given when the request's header credentials
#: are still to be proved.
UNPROVED = object()


def _pending(d: Deferred[Any]) -> bool:
    return not d.called or bool(d.paused)


def _timed_out(result: object, timeout: float) -> object:
    if isinstance(result, Failure) and result.check(CancelledError):
        return Failure(ServerError(f"method timed out after {timeout:g} s"))
    return result


@attrs.define
class Dispatcher:
    """
    Runs request objects against methods and encodes their answers.

    @ivar lookup: the method of a name, or L{None}.
    @ivar clock: the clock of the deadlines, asked for when first needed.
    @ivar timeout: seconds a call may run before it is cancelled.
    @ivar max_batch: the most request objects one batch may hold.
    @ivar observe: told of every call run, with its method's name (L{None}
        for a name no method has) and C{0} or its error code.
    @ivar present: turns a method's result into JSON-ready data before it
        is encoded (the application's records); results are sent as they
        are without it.
    """

    lookup: Callable[[str], Method | None]
    clock: Callable[[], IReactorTime]
    authenticate: Authenticator | None = None
    translate: Translator | None = None
    timeout: float = 30.0
    max_batch: int = 1000
    observe: Callable[[str | None, int], None] | None = None
    present: Callable[[object], object] | None = None

    def handle_body(
        self, body: bytes, incoming: Incoming, user: object = UNPROVED
    ) -> Answer:
        """
        Answer a request body: one request object or a batch.

        @param user: what L{identify} gave for this request: the user the
            header credentials prove (L{None} for none), or the L{Failure}
            that refuses every call; by default they are proved here.
        @return: the whole answer (a response object, an array of them, or
            no text at all), or a Deferred that fires with it, never with a
            failure; cancelling it cancels the calls.  Its C{error} is set
            only for a single call's error.
        """
        try:
            payload = parse_body(body)
        except ParseError as e:
            return Reply(encode(failure("2.0", None, e)), e)
        return self.handle(payload, incoming, user)

    def handle(
        self, payload: object, incoming: Incoming, user: object = UNPROVED
    ) -> Answer:
        """Answer a decoded request body: see L{handle_body}."""
        batch = isinstance(payload, list)
        entries = payload if isinstance(payload, list) else [payload]
        if batch and not 0 < len(entries) <= self.max_batch:
            error = InvalidRequest(
                "empty batch"
                if not entries
                else f"a batch may hold at most {self.max_batch} calls"
            )
            return Reply(encode(failure("2.0", None, error)), error)
        planned = [self._plan(entry, batch) for entry in entries]
        if user is UNPROVED:
            if incoming.credentials is not None and any(
                isinstance(p, Call) for p in planned
            ):
                answer: Deferred[Reply] = self.identify(incoming).addBoth(
                    self._answer_all, planned, incoming, batch
                )
                return answer
            user = None
        return self._answer_all(user, planned, incoming, batch)

    def identify(self, incoming: Incoming) -> Deferred[object]:
        """
        Prove the credentials of the request's C{Authorization} header, once
        for all its calls.

        @return: fires with the user they prove, or L{None} when there are
            none or they prove nothing; fails with what C{authenticate}
            raised.
        """
        credentials = incoming.credentials
        complete = credentials is not None and (
            credentials.token is not None or credentials.username is not None
        )
        if self.authenticate is None or not complete:
            return succeed(None)
        d = as_deferred(self.authenticate, incoming.request, incoming.credentials)
        if _pending(d):
            d.addTimeout(self.timeout, self.clock(), onTimeoutCancel=_timed_out)
        return d

    def _answer_all(
        self,
        user: object,
        planned: list[Call | Reply],
        incoming: Incoming,
        batch: bool,
    ) -> Answer:
        if isinstance(user, Failure):
            error = self.error_for(user, "authenticate")
            return self._combine(self._refuse_all(planned, error), batch)
        proofs = Proofs(incoming.request)
        answers = [
            self.run(p, incoming, user, proofs) if isinstance(p, Call) else p
            for p in planned
        ]
        return self._settle(answers, batch)

    def _plan(self, entry: object, in_batch: bool) -> Call | Reply:
        try:
            return parse_call(entry, in_batch)
        except InvalidRequestObject as refused:
            text = encode(failure(refused.version, refused.id, refused.error))
            return Reply(text, refused.error)

    def _settle(self, answers: list[Answer], batch: bool) -> Answer:
        """The replies combined, at once if every call has answered already."""
        replies = [a for a in answers if isinstance(a, Reply)]
        if len(replies) == len(answers):
            return self._combine(replies, batch)
        ds = [a if isinstance(a, Deferred) else succeed(a) for a in answers]
        if len(ds) == 1 and not batch:
            return ds[0]
        return gatherResults(ds).addCallback(self._combine, batch)

    def _refuse_all(
        self, planned: list[Call | Reply], error: JSONRPCError
    ) -> list[Reply]:
        return [
            self._error_reply(p, error) if isinstance(p, Call) else p for p in planned
        ]

    def _combine(self, replies: list[Reply], batch: bool) -> Reply:
        if not batch:
            return replies[0]
        texts = [r.text for r in replies if r.text is not None]
        return Reply("[" + ",".join(texts) + "]" if texts else None)

    def run(
        self,
        call: Call,
        incoming: Incoming,
        user: object,
        proofs: Proofs | None = None,
    ) -> Answer:
        """
        Run one call under the deadline.

        @param user: what C{authenticate} returned for the request's header
            credentials, or L{None}.
        @param proofs: proves the credentials the request's calls carry as
            params, shared by the calls of one request; the call's own by
            default.
        @return: the reply, or a Deferred that fires with it, never with a
            failure; cancelling it cancels the method.
        """
        try:
            result = self._start(call, incoming, user, proofs)
        except Exception:
            return self._failed(Failure(), call)
        if not isinstance(result, Deferred):
            return self._succeeded(result, call)
        if _pending(result):
            result.addTimeout(self.timeout, self.clock(), onTimeoutCancel=_timed_out)
        return result.addCallbacks(
            self._succeeded, self._failed, callbackArgs=(call,), errbackArgs=(call,)
        )

    def _start(
        self, call: Call, incoming: Incoming, user: object, proofs: Proofs | None
    ) -> object:
        method = self.lookup(call.method)
        if method is None:
            raise MethodNotFound()
        if incoming.via_get and not method.safe:
            raise InvalidRequest(f"method {call.method} is not safe: call it with POST")
        if not method.authenticated:
            return self._invoke(method, call, incoming, user, call.args, call.named)
        if incoming.credentials is not None:
            if user is None:
                raise AuthenticationError("bad credentials")
            return self._invoke(method, call, incoming, user, call.args, call.named)
        credentials, args, named = param_credentials(call.args, call.named)
        if credentials is None:
            raise AuthenticationError("authentication required")
        authenticate = method.prover or self.authenticate
        if authenticate is None:
            raise AuthenticationError("bad credentials")
        if proofs is None:
            proofs = Proofs(incoming.request)
        d = proofs.user(credentials, authenticate)
        return d.addCallback(
            lambda found: self._invoke(method, call, incoming, found, args, named)
        )

    def _invoke(
        self,
        method: Method,
        call: Call,
        incoming: Incoming,
        user: object,
        args: list[Any],
        named: dict[str, Any],
    ) -> object:
        positional, keywords = method.bind(args, named)
        context = CallContext(incoming.request, user, call.version, method.name)
        result = method.function(context, *positional, **keywords)
        if inspect.iscoroutine(result):
            return Deferred.fromCoroutine(result)
        return result

    def _observed(self, call: Call, code: int) -> None:
        if self.observe is not None:
            known = self.lookup(call.method) is not None
            self.observe(call.method if known else None, code)

    def _succeeded(self, result: object, call: Call) -> Reply:
        self._observed(call, 0)
        if call.notification:
            return Reply(None)
        try:
            if self.present is not None:
                result = self.present(result)
            return Reply(encode(success(call.version, call.id, result)))
        except (TypeError, ValueError):
            log.failure(
                "the result of JSON-RPC method {method} is not JSON", method=call.method
            )
            return self._error_reply(call, InternalError())

    def _failed(self, reason: Failure, call: Call) -> Reply:
        error = self.error_for(reason, call.method)
        self._observed(call, error.code)
        return Reply(None) if call.notification else self._error_reply(call, error)

    def _error_reply(self, call: Call, error: JSONRPCError) -> Reply:
        if call.notification:
            return Reply(None)
        try:
            return Reply(encode(failure(call.version, call.id, error)), error)
        except ValueError:
            log.failure("the data of {error!r} is not JSON", error=error)
            fallback = InternalError()
            return Reply(encode(failure(call.version, call.id, fallback)), fallback)

    def error_for(self, reason: Failure, method: str) -> JSONRPCError:
        """
        The one place an exception becomes an error object: a L{JSONRPCError}
        is sent as it is; another exception goes through C{translate}, and
        what that leaves is logged with its traceback and sent as a bare
        internal error.
        """
        exception = reason.value
        if isinstance(exception, JSONRPCError):
            return exception
        if isinstance(exception, CancelledError):
            return ServerError("call cancelled")
        if self.translate is not None and isinstance(exception, Exception):
            try:
                translated = self.translate(exception)
            except Exception:
                log.failure("translating an error of {method} failed", method=method)
                return InternalError()
            if translated is not None:
                return translated
        log.failure("JSON-RPC method {method} failed", reason, method=method)
        return InternalError()


__all__ = [
    "UNPROVED",
    "Answer",
    "CallContext",
    "Dispatcher",
    "Incoming",
    "Translator",
]

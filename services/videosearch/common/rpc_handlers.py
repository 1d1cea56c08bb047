"""RPC handlers on the grpc.aio server, and the few helpers every server interceptor uses.

The services run on grpc.aio (videosearch.common.grpc_server): an open stream awaits on the
event loop instead of holding a thread. Servicer methods may still be plain functions:
:class:`SyncHandlerAdapter`, the innermost interceptor, runs those in a bounded thread pool
and presents them as coroutines, so every other interceptor (error mapping, metrics,
authentication, the concurrency cap, message limits) wraps async handlers only, once.
It also makes the caller's deadline known to the calls the handler makes
(videosearch.common.deadlines).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import grpc

from videosearch.common.deadlines import caller_deadline, set_for_this_task

HEALTH_PREFIX = "/grpc.health.v1.Health/"

_MAKERS = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def is_service_method(method: str) -> bool:
    """The services' own methods (not health or reflection, which have their own conventions)."""
    return method.startswith("/videosearch.")


def behavior_of(handler: grpc.RpcMethodHandler) -> tuple[str, Callable]:
    for kind in _MAKERS:
        behavior = getattr(handler, kind)
        if behavior is not None:
            return kind, behavior
    raise ValueError("an RPC method handler without a behavior")


def with_behavior(
    handler: grpc.RpcMethodHandler, behavior: Callable, request_deserializer=None
) -> grpc.RpcMethodHandler:
    """``handler`` with another behavior (and optionally another request deserializer)."""
    kind, _ = behavior_of(handler)
    return _MAKERS[kind](behavior, request_deserializer or handler.request_deserializer, handler.response_serializer)


class HandlerCache:
    """An interceptor's wrapped handler per method, made on the method's first call and reused.

    grpc.aio runs every interceptor on every call; building the wrapper closures and handler
    tuples anew each time cost more than an Embedder call's own work (about a third of the
    server's loop under load). Only for wrappings that depend on nothing but the method and the
    handler below, which for a registered method is the same object on every call. Bounded: a
    handler made per call (a refusal) must not grow it for ever."""

    def __init__(self, make: Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler], limit: int = 1024) -> None:
        self._make = make
        self._limit = limit
        self._handlers: dict[tuple[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler] = {}

    def get(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        key = (method, handler)
        wrapped = self._handlers.get(key)
        if wrapped is None:
            if len(self._handlers) >= self._limit:
                self._handlers.clear()
            wrapped = self._handlers[key] = self._make(method, handler)
        return wrapped


def _is_async(behavior: Callable) -> bool:
    return inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)


def wrap(
    handler: grpc.RpcMethodHandler, around: Callable[[grpc.aio.ServicerContext], AbstractAsyncContextManager]
) -> grpc.RpcMethodHandler:
    """``handler`` (async) with each call run inside ``around(context)``: one policy written once
    for unary calls and streams alike."""
    _, behavior = behavior_of(handler)
    if inspect.isasyncgenfunction(behavior):

        async def streamed(request, context):
            async with around(context):
                async for response in behavior(request, context):
                    yield response

        return with_behavior(handler, streamed)

    async def call(request, context):  # a coroutine: a unary call, or a stream written with context.write
        async with around(context):
            return await behavior(request, context)

    return with_behavior(handler, call)


def refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same kind that answers ``code`` and ``message`` without running ``handler``."""
    if handler.response_streaming:

        async def refuse_stream(_request, context):
            await context.abort(code, message)
            yield  # never reached; makes this an async generator, as a streaming handler must be

        return with_behavior(handler, refuse_stream)

    async def refuse(_request, context):
        await context.abort(code, message)

    return with_behavior(handler, refuse)


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


class SyncContext:
    """What a plain servicer method sees of its call, from a pool thread: the parts of a
    grpc ServicerContext that are safe to use off the event loop."""

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._context = context
        self._left = False

    def abort(self, code: grpc.StatusCode, details: str):
        raise _Abort(code, details)

    def is_active(self) -> bool:
        return not self._left

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def invocation_metadata(self):
        return self._context.invocation_metadata()

    def peer(self) -> str:
        return self._context.peer()

    def auth_context(self):
        return self._context.auth_context()


_END = object()


def _blocking_requests(requests, loop: asyncio.AbstractEventLoop):
    """The messages of a client stream, for a plain method reading them from a pool thread."""
    iterator = requests.__aiter__()
    while True:
        try:
            yield asyncio.run_coroutine_threadsafe(iterator.__anext__(), loop).result()
        except StopAsyncIteration:
            return


class SyncHandlerAdapter(grpc.aio.ServerInterceptor):
    """The innermost interceptor: plain servicer methods run in ``pool`` (bounded: at most
    its size run at once), async ones on the loop; both see the caller's deadline."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._wrapped = HandlerCache(self._adapted)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return self._wrapped.get(handler_call_details.method, handler)

    def _adapted(self, _method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        _, behavior = behavior_of(handler)
        if _is_async(behavior):
            return wrap(handler, _deadline_scope)
        return with_behavior(handler, self._in_pool(handler, behavior))

    def _in_pool(self, handler: grpc.RpcMethodHandler, behavior: Callable) -> Callable:
        pool = self._pool

        def prepare(request, context):
            loop = asyncio.get_running_loop()
            if handler.request_streaming:
                request = _blocking_requests(request, loop)
            with caller_deadline(context.time_remaining()):
                run = contextvars.copy_context().run  # carries the deadline into the pool thread
            return loop, request, SyncContext(context), run

        if handler.response_streaming:

            async def streamed(request, context):
                loop, request, sync_context, run = prepare(request, context)
                try:
                    responses = await loop.run_in_executor(pool, run, behavior, request, sync_context)
                    while (response := await loop.run_in_executor(pool, run, next, responses, _END)) is not _END:
                        yield response
                except _Abort as abort:
                    await context.abort(abort.code, abort.details)
                finally:
                    sync_context._left = True

            return streamed

        async def call(request, context):
            loop, request, sync_context, run = prepare(request, context)
            try:
                return await loop.run_in_executor(pool, run, behavior, request, sync_context)
            except _Abort as abort:
                await context.abort(abort.code, abort.details)
            finally:
                sync_context._left = True

        return call


@asynccontextmanager
async def _deadline_scope(context: grpc.aio.ServicerContext):
    set_for_this_task(context.time_remaining())
    yield

"""What one server takes at once: how many calls (:class:`ConcurrencyCap`) and how large a
request message (:class:`RequestSizeLimit`). Over either the caller gets RESOURCE_EXHAUSTED
with a message naming the setting, and the health service always answers."""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager

import grpc
from google.protobuf.message import DecodeError

from videosearch.common import defaults
from videosearch.common.auth import digest, token_from_metadata
from videosearch.common.rpc_handlers import HEALTH_PREFIX, HandlerCache, behavior_of, with_behavior, wrap

# gRPC itself refuses messages over this multiple of the limit, before reading them whole;
# between the limit and that, the message below (naming the setting) answers instead.
CORE_LIMIT_FACTOR = 2


class ConcurrencyCap(grpc.aio.ServerInterceptor):
    """At most ``limit`` calls run at once (open streams count, since each is a call), and
    at most ``per_token`` of them with one bearer token (0: half of ``limit``), so a caller
    holding a thousand open streams leaves the others room; the next get RESOURCE_EXHAUSTED
    at once. Calls without a token (a server without --tokens-file) share the whole cap.
    Health checks are never refused: an orchestrator must see a busy service as alive."""

    def __init__(self, limit: int, setting: str = "--max-concurrent-rpcs", *, per_token: int = 0) -> None:
        if limit < 1:
            raise ValueError(f"{setting} must be at least 1, got {limit}")
        if per_token < 0:
            raise ValueError(f"{setting}-per-token must be 0 (half of {setting}) or more, got {per_token}")
        self.limit = limit
        self.per_token = per_token or max(1, limit // 2)
        self._setting = setting
        self.in_flight = 0  # changed on the server's event loop only: no lock needed
        self._by_token: dict[bytes, int] = {}
        self._wrapped = HandlerCache(lambda _method, handler: wrap(handler, self._slot))

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(HEALTH_PREFIX):
            return handler
        return self._wrapped.get(handler_call_details.method, handler)

    @asynccontextmanager
    async def _slot(self, context):
        if self.in_flight >= self.limit:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the server is handling {self.in_flight} calls, its limit; retry in a moment, or raise "
                f"{self._setting} (default {defaults.MAX_CONCURRENT_RPCS})",
            )
        token = token_from_metadata(context.invocation_metadata())
        key = digest(token) if token else None
        if key is not None and self._by_token.get(key, 0) >= self.per_token:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this token has {self.per_token} calls running, its share of the server's {self.limit}; end some "
                f"(close streams you no longer watch) and retry, or raise {self._setting}-per-token",
            )
        self.in_flight += 1
        if key is not None:
            self._by_token[key] = self._by_token.get(key, 0) + 1
        try:
            yield
        finally:
            self.in_flight -= 1
            if key is not None:
                left = self._by_token[key] - 1
                if left:
                    self._by_token[key] = left
                else:
                    del self._by_token[key]


class _Oversized:
    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size


class _Malformed:
    """Bytes that do not parse as the method's request message (garbage, a truncated field,
    invalid UTF-8 in a string): INVALID_ARGUMENT, not gRPC's UNKNOWN "Unexpected DecodeError"."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class RequestSizeLimit(grpc.aio.ServerInterceptor):
    """Request messages over ``max_bytes`` are refused before they are parsed, and messages
    that do not parse are refused with INVALID_ARGUMENT: every request deserializer of the
    server is this one, so both hold for every method of every service."""

    def __init__(self, max_bytes: int, setting: str, send_bytes: int = defaults.MAX_MESSAGE_MB * 2**20) -> None:
        if max_bytes < 1:
            raise ValueError(f"{setting} must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self._setting = setting
        self._send_bytes = send_bytes
        self._wrapped = HandlerCache(self._limited)

    def server_options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.max_receive_message_length", CORE_LIMIT_FACTOR * self.max_bytes),
            ("grpc.max_send_message_length", self._send_bytes),
        ]

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return self._wrapped.get(handler_call_details.method, handler)

    def _limited(self, _method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        parse = handler.request_deserializer

        def deserialize(data: bytes):
            if len(data) > self.max_bytes:
                return _Oversized(len(data))  # answered by the behavior below, with a status code
            if parse is None:
                return data
            try:
                return parse(data)
            except DecodeError as exc:
                return _Malformed(str(exc) or "not a valid message")

        _, behavior = behavior_of(handler)
        admit = self._admit_stream if handler.request_streaming else self._admit_one
        if inspect.isasyncgenfunction(behavior):

            async def streamed(request, context):
                async for response in behavior(await admit(request, context), context):
                    yield response

            return with_behavior(handler, streamed, deserialize)

        async def call(request, context):
            return await behavior(await admit(request, context), context)

        return with_behavior(handler, call, deserialize)

    async def _refuse(self, oversized: _Oversized, context) -> None:
        mib = self.max_bytes / 2**20
        await context.abort(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"the request message is {oversized.size:,} bytes, over this server's limit of {self.max_bytes:,} "
            f"({mib:g} MiB, setting {self._setting}); send less per call, or raise {self._setting}",
        )

    @staticmethod
    async def _refuse_malformed(malformed: _Malformed, context) -> None:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the request message does not parse ({malformed.reason[:200]}): send a message of this method's "
            "request type, encoded by a Protocol Buffers library (strings must be valid UTF-8)",
        )

    async def _admit_one(self, request, context):
        if isinstance(request, _Oversized):
            await self._refuse(request, context)
        if isinstance(request, _Malformed):
            await self._refuse_malformed(request, context)
        return request

    async def _admit_stream(self, requests, context):
        async def checked():
            async for request in requests:
                if isinstance(request, _Oversized):
                    await self._refuse(request, context)
                if isinstance(request, _Malformed):
                    await self._refuse_malformed(request, context)
                yield request

        return checked()

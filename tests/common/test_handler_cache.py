"""HandlerCache: an interceptor wraps each method's handler once, then reuses the wrapper."""

from __future__ import annotations

import grpc
from videosearch.common.rpc_handlers import HandlerCache


def handler_of(behavior) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(behavior)


def test_a_method_is_wrapped_once_and_the_wrapper_reused():
    made = []
    cache = HandlerCache(lambda method, handler: made.append(method) or handler_of(lambda r, c: (method, r)))
    first, second = handler_of(lambda r, c: r), handler_of(lambda r, c: r)
    wrapped = cache.get("/svc/A", first)
    assert cache.get("/svc/A", first) is wrapped
    assert cache.get("/svc/B", first) is not wrapped  # another method: its own wrapper
    assert cache.get("/svc/A", second) is not wrapped  # another handler below: its own wrapper
    assert made == ["/svc/A", "/svc/B", "/svc/A"]


def test_handlers_made_per_call_cannot_grow_it_past_its_limit():
    cache = HandlerCache(lambda method, handler: handler, limit=4)
    for i in range(50):  # a refusal is a new handler on every call
        cache.get("/svc/A", handler_of(lambda r, c, i=i: i))
    assert len(cache._handlers) <= 4

"""The RPC metrics interceptor on a real gRPC server, scraped over HTTP."""

from __future__ import annotations

import re
import time
import urllib.request
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common.grpc_server import Service
from videosearch.common.metrics import MetricsInterceptor, ServiceMetrics


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def _value(text: str, pattern: str) -> float:
    match = re.search(r"^" + pattern + r" (\S+)$", text, flags=re.M)
    return float(match.group(1)) if match else 0.0


def test_rpc_counts_and_latency_by_method_and_code_move_after_calls():
    metrics = ServiceMetrics("searcher")

    def refuse(request, context):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no")

    def numbers(request, context):
        yield from (b"1", b"2")

    def register(server) -> list[str]:
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("videosearch.v1.SearcherService", {
            "DeleteVideo": grpc.unary_unary_rpc_method_handler(refuse),
            "Numbers": grpc.unary_stream_rpc_method_handler(numbers),
        })])
        return []

    # The services' own server (grpc.aio, plain methods in its thread pool), with the interceptor.
    service = Service("searcher", register, host="127.0.0.1", port=0, reflection=False,
                      interceptors=[MetricsInterceptor(metrics)]).start()
    port = service.port
    http_port = metrics.serve_http("127.0.0.1", 0)
    try:
        before = _scrape(http_port)
        ok = 'videosearch_rpcs_total{code="OK",method="Numbers",service="searcher"}'
        assert _value(before, re.escape(ok)) == 0
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)  # not counted
            for _ in range(2):
                assert list(channel.unary_stream("/videosearch.v1.SearcherService/Numbers")(b"", timeout=5)) == [b"1", b"2"]
            try:
                channel.unary_unary("/videosearch.v1.SearcherService/DeleteVideo")(b"", timeout=5)
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        refused = 'videosearch_rpcs_total{code="INVALID_ARGUMENT",method="DeleteVideo",service="searcher"}'
        # An abort sends the status at once and the call is counted as its handler returns, a moment
        # later: the count may trail the caller's answer by that moment.
        deadline = time.monotonic() + 5
        while _value(after := _scrape(http_port), re.escape(refused)) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _value(after, re.escape(ok)) == 2
        assert _value(after, re.escape(refused)) == 1
        assert _value(after, re.escape('videosearch_rpc_seconds_count{method="Numbers",service="searcher"}')) == 2
        assert "Check" not in after
    finally:
        metrics.stop()
        service.stop(0)

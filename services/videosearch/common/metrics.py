"""Prometheus metrics for operators: one interceptor counts and times every RPC of every
service by method and status code, and each service adds its own gauges and histograms
to the same registry. Served over HTTP at ``/metrics`` when a metrics port is set
(off by default: a scrape endpoint is one more port to protect).

Each server has its own registry, so several services in one process (the tests) never
clash over metric names.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from videosearch.common.rpc_handlers import HandlerCache, is_service_method, wrap

# Latency buckets from a cached vector search (~1 ms) to a long index job's RPCs (~minutes).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class ServiceMetrics:
    """The registry of one service, with the RPC metrics every service has."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.rpcs = Counter(
            "videosearch_rpcs",
            "RPCs handled, by method and status code",
            ["service", "method", "code"],
            registry=self.registry,
        )
        self.rpc_seconds = Histogram(
            "videosearch_rpc_seconds",
            "RPC handling time in seconds, by method",
            ["service", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._http: WSGIServer | None = None

    def counter(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, buckets=LATENCY_BUCKETS, labels: tuple[str, ...] = ()
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def serve_http(self, host: str, port: int) -> int:
        """Starts the /metrics endpoint; returns the bound port (``port`` 0 picks one)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._http = server
        return server.server_port

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def record(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        self.rpcs.labels(self.service, method, code.name).inc()
        self.rpc_seconds.labels(self.service, method).observe(seconds)


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC of the videosearch services. Installed outermost, so
    the code it records is the one the caller got (after errors were mapped)."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics
        self._wrapped = HandlerCache(self._timed)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or not is_service_method(handler_call_details.method):
            return handler  # health and reflection are not the services' work
        return self._wrapped.get(handler_call_details.method, handler)

    def _timed(self, full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        method = full_method.rsplit("/", 1)[-1]
        record = self._metrics.record

        @asynccontextmanager
        async def timed(context):
            started, code = time.perf_counter(), grpc.StatusCode.OK
            try:
                yield
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN  # an abort set the code it answers
                raise
            finally:
                record(method, code, time.perf_counter() - started)

        return wrap(handler, timed)

"""Server bootstrap shared by the three services: gRPC server with explicit
message limits, standard health checking, server reflection, one place where
domain errors become status codes, and graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from videosearch.common import defaults
from videosearch.common.errors import VideoSearchError
from videosearch.common.log_format import formatter as log_formatter
from videosearch.common.reflection import enable_reflection

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = defaults.MAX_MESSAGE_MB * 1024 * 1024


def message_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
    ]


CHANNEL_OPTIONS = message_options()


class PortUnavailable(OSError):
    """The server's address cannot be bound (in use, or not an address of this host)."""


def status_code_of(error: VideoSearchError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, error.status, grpc.StatusCode.INTERNAL)


def _abort_for(exc: BaseException, context: grpc.ServicerContext, method: str):
    if context.code() is not None:
        # The servicer already aborted (grpc signals that with a bare Exception): keep its status.
        raise exc
    if isinstance(exc, VideoSearchError):
        context.abort(status_code_of(exc), str(exc))
    log.exception("unexpected error in %s", method)
    context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has the details")


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Turns domain errors into their status codes and anything else into INTERNAL
    (logged with its traceback), for every RPC of every servicer."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/videosearch."):
            # Health and reflection have their own calling conventions (Watch takes a
            # response callback in non-blocking mode); they raise no domain errors.
            return handler

        def wrap_unary(behavior):
            @functools.wraps(behavior)
            def call(request, context):
                try:
                    return behavior(request, context)
                except Exception as exc:  # noqa: BLE001 - the one place errors are mapped
                    _abort_for(exc, context, method)

            return call

        def wrap_stream(behavior):
            @functools.wraps(behavior)
            def call(request, context):
                try:
                    yield from behavior(request, context)
                except Exception as exc:  # noqa: BLE001
                    _abort_for(exc, context, method)

            return call

        for kind, wrapper in (
            ("unary_unary", wrap_unary),
            ("stream_unary", wrap_unary),
            ("unary_stream", wrap_stream),
            ("stream_stream", wrap_stream),
        ):
            behavior = getattr(handler, kind)
            if behavior is not None:
                return handler._replace(**{kind: wrapper(behavior)})
        return handler


class Service:
    """A running gRPC server for one of the services."""

    def __init__(
        self,
        name: str,
        register: Callable[[grpc.Server], Iterable[str]],
        *,
        host: str,
        port: int,
        max_workers: int = defaults.SERVER_THREADS,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        reflection: bool = True,
        interceptors: Sequence[grpc.ServerInterceptor] = (),
        credentials: grpc.ServerCredentials | None = None,
    ) -> None:
        self.name = name
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name),
            # ``interceptors`` (e.g. authentication) run before errors are mapped.
            interceptors=[*interceptors, ErrorMappingInterceptor()],
            # Without so_reuseport=0 a second server binds a port that is already in use
            # (both then get half the connections) instead of failing at start.
            options=[*message_options(max_message_bytes), ("grpc.so_reuseport", 0)],
            maximum_concurrent_rpcs=None,
        )
        service_names = list(register(self.server))
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._service_names = service_names
        for service_name in ["", *service_names]:
            self.health.set(service_name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if reflection:
            enable_reflection([*service_names, health.SERVICE_NAME], self.server)
        try:
            if credentials is not None:
                self.port = self.server.add_secure_port(f"{host}:{port}", credentials)
            else:
                self.port = self.server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:  # grpcio >= 1.60 raises where older versions returned 0
            self.port = 0
        if self.port == 0:
            raise PortUnavailable(
                f"{name}: cannot listen on {host}:{port} (in use by another process, or not an address of "
                "this host); stop the other process, or choose another --port (0 picks a free one)"
            )
        self.address = f"{host}:{self.port}"
        self._stopped = threading.Event()

    def start(self) -> "Service":
        self.server.start()
        return self

    def set_serving(self, serving: bool = True) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for service_name in ["", *self._service_names]:
            self.health.set(service_name, status)
        log.info("%s health: %s", self.name, "SERVING" if serving else "NOT_SERVING")

    def stop(self, grace: float = defaults.GRACE_SECONDS) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        log.info("%s stopped", self.name)


class ShutdownSignal:
    """SIGTERM and SIGINT, handled from construction on. Until :meth:`started` a signal ends
    the process at once with exit code 0 (a service still loading its model or store has
    nothing to drain, and a supervisor should not wait for the load); after it, :meth:`wait`
    returns and the caller stops gracefully."""

    def __init__(self, name: str, *, end_while_starting: bool = True) -> None:
        self._name = name
        self._received = threading.Event()
        self._starting = end_while_starting
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        log.info("%s received %s, shutting down", self._name, signal.Signals(signum).name)
        self._received.set()
        if self._starting:
            end_process(0)

    def started(self) -> None:
        self._starting = False

    def wait(self) -> None:
        """Blocks the main thread until SIGTERM or SIGINT arrives."""
        while not self._received.wait(1.0):  # a timed wait keeps the main thread responsive to signals
            pass


def wait_for_shutdown_signal(name: str) -> None:
    """Blocks the main thread until SIGTERM or SIGINT arrives."""
    ShutdownSignal(name, end_while_starting=False).wait()


def end_process(code: int) -> None:
    """Ends a service's process right away, once its own shutdown is complete, without the
    interpreter's teardown. With torch and transformers loaded that teardown frees hundreds of
    thousands of objects one by one: seconds on a quiet machine, more than a supervisor's
    SIGTERM grace period (the launcher's 15 s) on a busy one, which then kills the service.
    Whatever matters was closed explicitly before this; logs and stdio are flushed here."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def write_port_file(path: str, port: int) -> None:
    """Writes the bound port atomically, so a launcher can start a service on port 0."""
    if not path:
        return
    target = Path(path)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(f"{port}\n")
    tmp.replace(target)


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(log_format))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])


def insecure_channel(address: str) -> grpc.Channel:
    """A client channel with the same explicit message limits as the servers."""
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)

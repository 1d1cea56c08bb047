"""Server bootstrap shared by the three services: gRPC server with explicit
message limits, standard health checking, server reflection, one place where
domain errors become status codes, and graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from videosearch.common import defaults
from videosearch.common.disk import is_disk_full
from videosearch.common.errors import VideoSearchError
from videosearch.common.log_format import formatter as log_formatter
from videosearch.common.reflection import enable_reflection
from videosearch.common.rpc_handlers import HandlerCache, SyncHandlerAdapter, is_service_method, wrap
from videosearch.common.server_limits import ConcurrencyCap, RequestSizeLimit

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


# Longest error message sent: a message quoting a caller's huge value must not exceed the
# clients' metadata limit (8 KiB) and turn into RESOURCE_EXHAUSTED "metadata size exceeds hard limit".
MAX_ERROR_CHARS = 2000


def _bounded(message: str) -> str:
    return message if len(message) <= MAX_ERROR_CHARS else f"{message[:MAX_ERROR_CHARS]}… (message cut)"


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Turns domain errors into their status codes and anything else into INTERNAL
    (logged with its traceback), for every RPC of every servicer."""

    def __init__(self) -> None:
        self._wrapped = HandlerCache(self._mapped)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not is_service_method(method):
            return handler  # health and reflection raise no domain errors
        return self._wrapped.get(method, handler)

    @staticmethod
    def _mapped(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        @asynccontextmanager
        async def mapped(context):
            try:
                yield
            except grpc.aio.AbortError:
                raise  # the handler chose its status already
            except VideoSearchError as exc:
                await context.abort(status_code_of(exc), _bounded(str(exc)))
            except Exception as exc:  # the one place errors are mapped
                if is_disk_full(exc):  # a write no owner of its directory wrapped (see common/disk.py)
                    log.error("%s: a disk of this service is full: %s", method, exc)
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "no space left on a disk this service writes to; free space there and retry "
                        "(the server log names the file)",
                    )
                log.exception("unexpected error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has the details")

        return wrap(handler, mapped)


class _EventLoopThread:
    """The server's event loop, on a thread of its own, so that the services' lifecycle
    (start, set_serving, stop) stays plain calls from any thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"{name}-grpc-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine, timeout: float | None = None):
        """Runs ``coroutine`` on the loop and returns its result (called from another thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            try:  # close what stopped streams left open (async generators), then the loop
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()


class Service:
    """A running gRPC server for one of the services, on grpc.aio: an open stream (a
    WatchIndexJob waiting for progress) costs no thread; plain servicer methods run on a
    pool of ``max_workers`` threads; at most ``max_concurrent_rpcs`` calls run at once
    (RESOURCE_EXHAUSTED beyond, health exempt)."""

    def __init__(
        self,
        name: str,
        register: Callable[[grpc.aio.Server], Iterable[str]],
        *,
        host: str,
        port: int,
        max_workers: int = defaults.SERVER_THREADS,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_concurrent_rpcs: int = defaults.MAX_CONCURRENT_RPCS,
        max_concurrent_rpcs_per_token: int = 0,
        message_setting: str = "--max-message-mb",
        reflection: bool = True,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        credentials: grpc.ServerCredentials | None = None,
        share_port: bool = False,
    ) -> None:
        self.name = name
        self._pool = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._loop = _EventLoopThread(name)
        limit = RequestSizeLimit(max_message_bytes, message_setting)
        try:
            self.port, service_names = self._loop.run(
                self._build(
                    register,
                    host,
                    port,
                    credentials,
                    reflection,
                    limit,
                    share_port,
                    # Outermost first: ``interceptors`` (metrics, which then count refusals too, and
                    # authentication, so a caller without a token takes no slot), the cap, the message
                    # limit, errors mapped to status codes, and plain methods sent to the thread pool.
                    [
                        *interceptors,
                        ConcurrencyCap(max_concurrent_rpcs, per_token=max_concurrent_rpcs_per_token),
                        limit,
                        ErrorMappingInterceptor(),
                        SyncHandlerAdapter(self._pool),
                    ],
                )
            )
        except BaseException:
            self._close_loop()
            raise
        if self.port == 0:
            self._close_loop()
            raise PortUnavailable(
                f"{name}: cannot listen on {host}:{port} (in use by another process, or not an address of "
                "this host); stop the other process, or choose another --port (0 picks a free one)"
            )
        self._service_names = service_names
        self.address = f"{host}:{self.port}"
        self._stopped = threading.Event()

    async def _build(self, register, host, port, credentials, reflection, limit, share_port, interceptors):
        self.server = grpc.aio.server(
            interceptors=interceptors,
            # Without so_reuseport=0 a second server binds a port that is already in use
            # (both then get half the connections) instead of failing at start; a service
            # built to run as several processes on one port asks for exactly that.
            options=[*limit.server_options(), ("grpc.so_reuseport", 1 if share_port else 0)],
        )
        service_names = list(register(self.server))
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        for service_name in ["", *service_names]:
            await self.health.set(service_name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if reflection:
            enable_reflection([*service_names, health.SERVICE_NAME], self.server)
        try:
            if credentials is not None:
                bound = self.server.add_secure_port(f"{host}:{port}", credentials)
            else:
                bound = self.server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:  # grpcio >= 1.60 raises where older versions returned 0
            bound = 0
        return bound, service_names

    def start(self) -> "Service":
        self._loop.run(self.server.start())
        return self

    def set_serving(self, serving: bool = True) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING

        async def set_all():
            for service_name in ["", *self._service_names]:
                await self.health.set(service_name, status)

        if self._stopped.is_set():
            return
        try:
            self._loop.run(set_all(), timeout=10)
        except (TimeoutError, futures.TimeoutError):
            if not self._stopped.is_set():
                raise
            return  # the server stopped meanwhile (its loop with it): nothing left to report to
        log.info("%s health: %s", self.name, "SERVING" if serving else "NOT_SERVING")

    def stop(self, grace: float = defaults.GRACE_SECONDS) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()

        async def stop_server():
            await self.health.enter_graceful_shutdown()
            await self.server.stop(grace)

        self._loop.run(stop_server())
        self._close_loop()
        log.info("%s stopped", self.name)

    def _close_loop(self) -> None:
        self._loop.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


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
        while not self.received(1.0):  # a timed wait keeps the main thread responsive to signals
            pass

    def received(self, timeout: float) -> bool:
        """Whether SIGTERM or SIGINT arrived, waiting up to ``timeout`` seconds for one."""
        return self._received.wait(timeout)


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

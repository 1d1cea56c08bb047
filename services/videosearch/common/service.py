"""The one shape of a videosearch service process. Each service's ``server.py``
subclasses :class:`ServiceApp` and declares only what is its own: its name, its
gRPC service, how to build its servicer and domain object, and which start-up
errors it expects. The lifecycle is the same for all:

    start()  bind (a port in use fails here, clearly), start, write the port file;
             health NOT_SERVING, so RPCs may answer UNAVAILABLE while loading
    load()   build the domain object (model, store, ...) and turn SERVING
    stop()   NOT_SERVING, drain, stop the server with a grace period, close the domain

and ``main()`` adds settings from flags and environment, logging, SIGTERM/SIGINT
and the process exit (0, or EXIT_STARTUP_FAILED with a message saying what to do)."""

from __future__ import annotations

import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf.descriptor import ServiceDescriptor

from videosearch.common.grpc_server import (
    PortUnavailable,
    Service,
    ShutdownSignal,
    configure_logging,
    end_process,
    write_port_file,
)
from videosearch.common.auth import AccessPolicy, TokenFile, reload_token_files
from videosearch.common.errors import VideoSearchError
from videosearch.common.metrics import MetricsInterceptor, ServiceMetrics
from videosearch.common.security import AuthInterceptor
from videosearch.common.settings import BaseServiceSettings

log = logging.getLogger(__name__)

EXIT_STARTUP_FAILED = 2
S = TypeVar("S", bound=BaseServiceSettings)
A = TypeVar("A", bound="ServiceApp")


class ServiceApp(ABC, Generic[S]):
    name: ClassVar[str]
    grpc_service: ClassVar[ServiceDescriptor]
    # The generated add_XServiceServicer_to_server function.
    add_servicer: ClassVar[Callable[[Any, Any], None]]
    # Reads the settings from flags and environment variables.
    read_settings: ClassVar[Callable[[Sequence[str] | None], BaseServiceSettings]]
    # Errors of __init__ or load() that end the process with EXIT_STARTUP_FAILED and their message.
    startup_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    # False where the service decides itself when it is ready (it calls set_serving).
    serving_once_loaded: ClassVar[bool] = True

    def __init__(self, settings: S, servicer: Any) -> None:
        self.settings = settings
        self.servicer = servicer
        self.service: Service | None = None
        self.metrics: ServiceMetrics | None = None
        self.metrics_port: int | None = None

    @property
    def service_name(self) -> str:
        return self.grpc_service.full_name

    @property
    def address(self) -> str:
        return self._running.address

    @property
    def port(self) -> int:
        return self._running.port

    @property
    def _running(self) -> Service:
        if self.service is None:
            raise RuntimeError(f"the {self.name} service is not started; call start() first")
        return self.service

    # -- lifecycle -----------------------------------------------------------------
    def start(self: A) -> A:
        """Binds and starts the server, health NOT_SERVING, then writes the port file."""
        s = self.settings

        def register(server) -> list[str]:
            type(self).add_servicer(self.servicer, server)
            return [self.service_name]

        tls = s.server_tls()
        self.metrics = ServiceMetrics(self.name)
        # Outermost first: metrics see every call with its final code, then authentication
        # refuses before any servicer code runs, then the service's own interceptors, then
        # (added by Service) the concurrency cap, the message limit and the error mapping.
        shared = [MetricsInterceptor(self.metrics)]
        if s.tokens_file:
            shared.append(AuthInterceptor(AccessPolicy(TokenFile(s.tokens_file), reflection_open=s.reflection)))
        self.service = Service(
            self.name,
            register,
            host=s.host,
            port=s.port,
            max_workers=s.server_threads,
            max_message_bytes=s.max_message_mb * 1024 * 1024,
            max_concurrent_rpcs=s.max_concurrent_rpcs,
            max_concurrent_rpcs_per_token=s.max_concurrent_rpcs_per_token,
            reflection=s.reflection,
            interceptors=[*shared, *self.interceptors()],
            credentials=tls.credentials() if tls else None,
            share_port=self.shares_port(),
        ).start()
        write_port_file(s.port_file, self.service.port)
        if s.metrics_port >= 0:
            self.metrics_port = self.metrics.serve_http(s.host, s.metrics_port)
            log.info("%s metrics on http://%s:%d/metrics", self.name, s.host, self.metrics_port)
        # After the port file: a launcher reading this line finds the file written.
        log.info("%s listening on %s", self.name, self.address)
        return self

    def load(self, *args, **kwargs):
        """Builds the domain object (see :meth:`open`) and turns SERVING."""
        opened = self.open(*args, **kwargs)
        if self.serving_once_loaded:
            self.set_serving(True)
        return opened

    def set_serving(self, serving: bool) -> None:
        self._running.set_serving(serving)

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, :meth:`drain`, stop the server (in-flight RPCs get ``grace``
        seconds, the settings' grace_seconds by default), then :meth:`close`."""
        grace = self.settings.grace_seconds if grace is None else grace
        if self.service is not None:
            self.service.set_serving(False)
        self.drain(grace)
        if self.service is not None:
            self.service.stop(grace)
        metrics = getattr(self, "metrics", None)  # (None too when __init__ failed before setting it)
        if metrics is not None:
            metrics.stop()
        self.close()

    @classmethod
    def serve(cls: type[A], settings: S, *args, **kwargs) -> A:
        """A started and loaded (SERVING) service, for tests and in-process use."""
        app = cls(settings).start()  # type: ignore[call-arg]  # a service's own __init__ takes settings only
        try:
            app.load(*args, **kwargs)
        except BaseException:
            app.stop(0)
            raise
        return app

    # -- what a service fills in ---------------------------------------------------
    @abstractmethod
    def open(self, *args, **kwargs):
        """Builds the domain object and attaches it to the servicer."""

    def interceptors(self) -> list:
        """Server interceptors this service adds before the shared error mapping (none yet)."""
        return []

    def drain(self, grace: float) -> None:
        """Before the server stops: end what would keep RPCs open (running jobs, streams),
        giving work in progress up to ``grace`` seconds."""

    def close(self) -> None:
        """After the server stopped: release the domain object's resources."""

    def prepare_process(self) -> None:
        """Process-wide set-up that only ``main`` does (thread counts), never in tests."""

    def shares_port(self) -> bool:
        """Whether several processes of this service may listen on one port (SO_REUSEPORT).
        Off unless a stateless service offers it as a setting."""
        return False

    def ready_message(self) -> str:
        return f"{self.name} ready on {self.address}"

    # -- the process -----------------------------------------------------------------
    @classmethod
    def main(cls, argv: Sequence[str] | None = None) -> int:
        settings = cls.read_settings(argv)
        configure_logging(settings.log_level, settings.log_format)
        # From here on SIGTERM ends the process: at once while it starts, gracefully once ready.
        shutdown = ShutdownSignal(cls.name)
        # SIGHUP reads the token file again at once (it is also read again when it changes).
        signal.signal(signal.SIGHUP, lambda _signum, _frame: reload_token_files())
        app = None
        startup_errors: tuple[type[BaseException], ...] = (
            PortUnavailable,
            ValueError,
            VideoSearchError,
            *cls.startup_errors,
        )
        try:
            app = cls(settings)  # type: ignore[call-arg, arg-type]  # its own __init__ takes its own settings
            app.prepare_process()
            app.start()
            app.load()
        except startup_errors as exc:
            log.error("%s cannot start: %s", cls.name, exc)
            if app is not None:
                app.stop(0)
            return EXIT_STARTUP_FAILED
        shutdown.started()
        log.info("%s", app.ready_message())
        shutdown.wait()
        app.stop()
        # Stopped, drained and closed: skip the interpreter's teardown (seconds with torch
        # loaded), which can outlast a supervisor's SIGTERM grace period on a busy machine.
        end_process(0)
        return 0

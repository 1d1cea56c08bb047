"""Client side of the services: a failed RPC becomes the domain error its status
code stands for, with a message that names the service and says what to do, and
:class:`ServiceClient` is the base of the typed clients (EmbedderClient,
IndexerClient, SearcherClient)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn, Self, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from videosearch.common import deadlines, errors
from videosearch.common.grpc_server import CHANNEL_OPTIONS
from videosearch.common.replicas import channel_options, channel_target, split_addresses
from videosearch.common.security import ClientSecurity

Response = TypeVar("Response")

_BY_CODE: dict[grpc.StatusCode, type[errors.VideoSearchError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.PermissionDenied,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.ABORTED: errors.FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
    grpc.StatusCode.CANCELLED: errors.Cancelled,
}


def domain_error(err: grpc.RpcError, service: str, address: str) -> errors.VideoSearchError:
    """The domain error for a failed RPC to ``service`` (e.g. "embedder") at ``address``."""
    code = err.code() if hasattr(err, "code") else None
    details = (err.details() if hasattr(err, "details") else None) or str(err)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return errors.Unavailable(
            f"{service} at {address} is unreachable: {details} "
            f"({code.name}); start the services with `videosearch-up` (or this one alone with "
            f"`videosearch-{service}`), or check --{service}-address"
        )
    kind = _BY_CODE.get(code)
    if kind is not None:
        return kind(f"{service} at {address}: {details}")
    name = code.name if code is not None else "UNKNOWN"
    hint = "" if "log has the details" in details else "; its log has the details"
    return errors.VideoSearchError(f"{service} at {address} failed ({name}): {details}{hint}")


def raise_domain_error(err: grpc.RpcError, service: str, address: str) -> NoReturn:
    """Raises domain_error(err, ...) chained to the gRPC error."""
    raise domain_error(err, service, address) from err


def client_channel(address: str, security: ClientSecurity | None = None) -> grpc.Channel:
    """The channel every client opens: TLS and a token when ``security`` says so; several
    replicas (a list, or a dns:/// name) balanced round-robin with retries on UNAVAILABLE.
    One plain address gets a plain channel: client-side health checking would hide a
    NOT_SERVING service from the caller asking it whether it is ready."""
    security = security or ClientSecurity()
    if len(split_addresses(address)) > 1 or address.strip().startswith("dns:"):
        return security.channel(channel_target(address), channel_options(CHANNEL_OPTIONS))
    return security.channel(address.strip(), list(CHANNEL_OPTIONS))


class ServiceClient:
    """What every typed client shares: one channel to ``address``, a per-call timeout,
    gRPC errors raised as the domain errors above, the health check, and closing
    (also as a context manager). Subclasses set ``service`` and wrap their stub."""

    service = "service"  # the name errors use: "embedder", "indexer", "searcher"

    def __init__(self, address: str, timeout: float = 30.0, *, security: ClientSecurity | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self._channel = client_channel(address, security)

    def _call(self, rpc: Callable[..., Response], request, *, timeout: float | None = None) -> Response:
        """One unary call; failures come out as VideoSearchError subclasses. Made while serving
        an RPC, it gives up no later than that RPC's caller does (videosearch.common.deadlines)."""
        own = self.timeout if timeout is None else timeout
        bounded = deadlines.timeout_for(own)
        try:
            return rpc(request, timeout=bounded)
        except grpc.RpcError as err:
            if bounded < own and err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                # The caller's patience ran out, not this service's timeout: not the service's fault.
                raise errors.DeadlineExceeded(
                    f"{self.service} at {self.address} did not answer within the caller's deadline ({bounded:.2f} s "
                    "left); retry with a longer deadline"
                ) from err
            raise_domain_error(err, self.service, self.address)

    def _stream(
        self, rpc: Callable[..., Iterable[Response]], request, *, timeout: float | None = None
    ) -> Iterator[Response]:
        """A server stream; failures while it runs come out as VideoSearchError subclasses."""
        try:
            yield from rpc(request, timeout=timeout)
        except grpc.RpcError as err:
            raise_domain_error(err, self.service, self.address)

    def health(self) -> str:
        """The service's standard gRPC health status: "SERVING" once it is ready
        (its model or store loaded), "NOT_SERVING" while it starts or stops."""
        stub = health_pb2_grpc.HealthStub(self._channel)
        response = self._call(stub.Check, health_pb2.HealthCheckRequest())
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

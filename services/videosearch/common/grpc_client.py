"""Client side of the error mapping: a failed RPC becomes the domain error its
status code stands for, with a message that names the service and says what to do."""

from __future__ import annotations

from typing import NoReturn

import grpc

from videosearch.common import errors

_BY_CODE: dict[grpc.StatusCode, type[errors.VideoSearchError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.FailedPrecondition,
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
            f"({code.name}); start it with `videosearch-{service}` or check --{service}-address"
        )
    kind = _BY_CODE.get(code)
    if kind is not None:
        return kind(f"{service} at {address}: {details}")
    name = code.name if code is not None else "UNKNOWN"
    return errors.VideoSearchError(f"{service} at {address} failed ({name}): {details}; its log has the details")


def raise_domain_error(err: grpc.RpcError, service: str, address: str) -> NoReturn:
    """Raises domain_error(err, ...) chained to the gRPC error."""
    raise domain_error(err, service, address) from err

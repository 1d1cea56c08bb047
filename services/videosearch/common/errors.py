"""Domain errors. Each names the gRPC status it maps to, as a plain string, so
domain modules stay free of gRPC; the mapping to real status codes happens once,
in :mod:`videosearch.common.grpc_server`. Messages should say what to do."""


class VideoSearchError(Exception):
    """Base of every error a caller can act on."""

    status = "INTERNAL"


class InvalidArgument(VideoSearchError):
    """The request is malformed; fixing the request fixes it."""

    status = "INVALID_ARGUMENT"


class NotFound(VideoSearchError):
    """The named video, job or file does not exist."""

    status = "NOT_FOUND"


class PermissionDenied(VideoSearchError):
    """The request names something the service may not touch (a path outside the allowed roots)."""

    status = "PERMISSION_DENIED"


class FailedPrecondition(VideoSearchError):
    """The system is not in a state where the request can work (for example a model mismatch)."""

    status = "FAILED_PRECONDITION"


class AlreadyExists(FailedPrecondition):
    """What the request would create is there already (a library for that folder)."""

    status = "ALREADY_EXISTS"


class ResourceExhausted(VideoSearchError):
    """A queue or limit is full; retry later or send less."""

    status = "RESOURCE_EXHAUSTED"


class Unavailable(VideoSearchError):
    """A dependency (model, store, another service) is not ready or not reachable; retry later."""

    status = "UNAVAILABLE"


class Cancelled(VideoSearchError):
    """The operation was cancelled by a caller."""

    status = "CANCELLED"


class DeadlineExceeded(VideoSearchError):
    """The caller's deadline passed before the work (or a call it needed) could finish."""

    status = "DEADLINE_EXCEEDED"

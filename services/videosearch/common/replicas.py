"""Several replicas of a service behind one client channel: gRPC's own client-side
``round_robin`` load balancing and health checking, and a retry policy that sends a call
that failed with UNAVAILABLE to another replica.

An address may be one ``host:port``, a comma-separated list of them, or a DNS name whose
records list the replicas (``dns:///embedder:50051``; Docker Compose gives one name to all
replicas of a service). The channel target and its service config come from here, so every
client that reaches a service uses the same policy.

Only idempotent methods are retried (the embed calls and reads). A write such as
UpsertVideo is not: it goes to one Searcher, whose answer says whether it landed.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable

from videosearch.common.errors import InvalidArgument

# Retried on another replica when one answers UNAVAILABLE (it went away mid-call).
IDEMPOTENT_METHODS = {
    "videosearch.v1.EmbedderService": ("GetModelInfo", "EmbedImages", "EmbedTexts"),
    "videosearch.v1.SearcherService": ("Search", "GetVideo", "ListVideos", "GetStats"),
    "videosearch.v1.IndexerService": ("GetIndexJob", "ListIndexJobs"),
}


def split_addresses(address: str) -> list[str]:
    """``"a:1, b:2"`` -> ``["a:1", "b:2"]``; one address stays one."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if not parts:
        raise InvalidArgument(
            "the service address is empty; give host:port, a comma-separated list, or dns:///name:port"
        )
    return parts


def channel_target(address: str) -> str:
    """The gRPC target for one address, a list, or a DNS name of several replicas."""
    parts = split_addresses(address)
    if len(parts) == 1:
        return parts[0]
    if any("://" in part for part in parts):
        raise InvalidArgument(
            f"{address!r} mixes a resolver name with a list; give one dns:///name:port or host:port,..."
        )
    return "ipv4:" + ",".join(_literal(part) for part in parts)


def _literal(address: str) -> str:
    """A host:port as ip:port, for gRPC's static ``ipv4:`` resolver."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidArgument(f"{address!r} is not host:port")
    try:
        return f"{socket.gethostbyname(host)}:{port}"
    except OSError as exc:
        raise InvalidArgument(f"cannot resolve {host!r} ({exc.strerror}); check the address") from None


def replica_addresses(address: str) -> list[str]:
    """Each replica an address stands for, as ip:port: the list's entries, or every record
    of a ``dns:///name:port`` (looked up now; Compose gives one record per replica)."""
    parts = split_addresses(address)
    if len(parts) == 1 and parts[0].startswith("dns:"):
        host, _, port = parts[0].split("/")[-1].rpartition(":")
        try:
            records = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_STREAM)
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"cannot resolve {parts[0]!r} ({exc}); check the address") from None
        return sorted({":".join(map(str, record[4][:2])) for record in records})  # AF_INET: (host, port)
    return [_literal(part) if len(parts) > 1 else part for part in parts]


def service_config(services: Iterable[str] = IDEMPOTENT_METHODS) -> str:
    """round_robin over ready replicas (client-side health checking drops those not
    SERVING), and retries of idempotent methods on UNAVAILABLE."""
    names = [{"service": service, "method": method} for service in services for method in IDEMPOTENT_METHODS[service]]
    return json.dumps(
        {
            "loadBalancingConfig": [{"round_robin": {}}],
            "healthCheckConfig": {"serviceName": ""},
            "methodConfig": [
                {
                    "name": names,
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "1s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


def channel_options(options: Iterable[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    return [*options, ("grpc.service_config", service_config()), ("grpc.enable_retries", 1)]

"""Exits 0 when the gRPC service at ADDRESS reports SERVING on the standard
health service, 1 otherwise; used by the Docker healthchecks.

    python -m videosearch.healthcheck 127.0.0.1:50051
    python -m videosearch.healthcheck 127.0.0.1:50051 --tls-ca-file ca.crt --tls-server-name embedder

Health checking needs no token (it stays open when tokens are on), but a service
serving TLS is reached over TLS: give the CA and the name its certificate carries.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from videosearch.common.security import ClientSecurity


def is_serving(address: str, timeout: float = 3.0, security: ClientSecurity | None = None) -> bool:
    with (security or ClientSecurity()).channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 when the service at ADDRESS is SERVING, 1 otherwise.")
    parser.add_argument("address", help="HOST:PORT")
    parser.add_argument("--tls-ca-file", default="", help="PEM CA of the service's certificate (when it serves TLS)")
    parser.add_argument("--tls-server-name", default="", help="the name in the certificate, when not the host dialled")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    security = ClientSecurity(tls_ca_file=args.tls_ca_file, tls_server_name=args.tls_server_name)
    return 0 if is_serving(args.address, security=security) else 1


if __name__ == "__main__":
    sys.exit(main())

"""TLS and bearer tokens on the wire: the server side (credentials and an interceptor that
enforces :class:`videosearch.common.auth.AccessPolicy` on every RPC) and the client side
(one way to open a channel that every client and service-to-service call uses).

Both are opt-in. Without a certificate a server listens in plaintext; without a token
file it accepts every call (the trusted single-machine default). docs/security.md says
when to turn each on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from videosearch.common.auth import METADATA_KEY, AccessPolicy, AuthFailure
from videosearch.common.errors import InvalidArgument
from videosearch.common.rpc_handlers import refusal


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidArgument(
            f"cannot read the {what} {path}: {exc.strerror}; check the path and its permissions"
        ) from None


@dataclass(frozen=True)
class ServerTls:
    """A server certificate and key (PEM), and optionally a CA whose client certificates
    are required (mutual TLS)."""

    cert_file: str
    key_file: str
    client_ca_file: str = ""

    def credentials(self) -> grpc.ServerCredentials:
        pair = [(_read(self.key_file, "TLS key"), _read(self.cert_file, "TLS certificate"))]
        if self.client_ca_file:
            return grpc.ssl_server_credentials(
                pair, root_certificates=_read(self.client_ca_file, "client CA"), require_client_auth=True
            )
        return grpc.ssl_server_credentials(pair)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without the role their method needs, before any servicer code runs."""

    def __init__(self, policy: AccessPolicy) -> None:
        self._policy = policy

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        try:
            self._policy.check(handler_call_details.method, handler_call_details.invocation_metadata)
        except AuthFailure as failure:
            return refusal(handler, getattr(grpc.StatusCode, failure.status), str(failure))
        return handler


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` to every call. A metadata interceptor rather
    than call credentials, so it also works on plaintext loopback channels."""

    def __init__(self, token: str) -> None:
        self._header = (METADATA_KEY, f"Bearer {token}")

    def _with_token(self, details):
        metadata = [*(details.metadata or ()), self._header]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression) -> None:
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = credentials, wait_for_ready, compression


@dataclass(frozen=True)
class ClientSecurity:
    """How a client reaches a service: plaintext by default; TLS when ``tls_ca_file`` is
    set (with a client certificate for mutual TLS); a bearer token when ``token_file`` is."""

    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    token_file: str = ""
    # For certificates whose name is not the host dialled (tests, IP addresses).
    tls_server_name: str = ""

    def token(self) -> str | None:
        if not self.token_file:
            return None
        token = _read(self.token_file, "token file").decode().strip()
        if not token:
            raise InvalidArgument(f"the token file {self.token_file} is empty; put the token in it")
        return token

    def channel(self, address: str, options: list[tuple[str, object]] | None = None) -> grpc.Channel:
        options = list(options or [])
        if self.tls_ca_file:
            chain = _read(self.tls_cert_file, "client certificate") if self.tls_cert_file else None
            key = _read(self.tls_key_file, "client key") if self.tls_key_file else None
            credentials = grpc.ssl_channel_credentials(_read(self.tls_ca_file, "TLS CA"), key, chain)
            if self.tls_server_name:
                options.append(("grpc.ssl_target_name_override", self.tls_server_name))
            channel = grpc.secure_channel(address, credentials, options=options)
        else:
            channel = grpc.insecure_channel(address, options=options)
        token = self.token()
        return grpc.intercept_channel(channel, _BearerToken(token)) if token else channel

"""TLS, mutual TLS and bearer tokens on a real gRPC server on port 0, with a certificate
authority the test makes. The full table of every RPC of the three services against
{no token, read, write} runs through the real services in tests/system/test_auth.py."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common.auth import AccessPolicy, AuthFailure, Role, TokenTable, digest, main as token_main
from videosearch.common.errors import InvalidArgument
from videosearch.common.grpc_server import Service
from videosearch.common.security import AuthInterceptor, ClientSecurity, ServerTls

from tests.common.certs import ThrowawayAuthority

READ_METHOD = "/videosearch.v1.SearcherService/Search"
WRITE_METHOD = "/videosearch.v1.SearcherService/DeleteVideo"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    authority = ThrowawayAuthority(folder)
    stranger = ThrowawayAuthority(folder / "other", name="some other CA")
    return {
        "ca": authority.ca,
        "server": authority.issue("server", "localhost", server=True),
        "client": authority.issue("client", "indexer", server=False),
        "stranger_client": stranger.issue("stranger", "intruder", server=False),
        "stranger_ca": stranger.ca,
    }


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokens")
    (folder / "read.token").write_text("reader-secret\n")
    (folder / "write.token").write_text("writer-secret\n")
    table = folder / "tokens.txt"
    table.write_text(f"# who may call\nread sha256:{digest('reader-secret').hex()}  # the web page\n"
                     "write writer-secret\n")
    return folder, TokenTable.load(table)


def _echo(request: bytes, context) -> bytes:
    return request


def _serve(credentials=None, policy: AccessPolicy | None = None):
    """A real server: the standard health service plus two raw methods named like a read
    and a write RPC (the interceptor decides by name; these echo bytes)."""
    def register(server) -> list[str]:
        handlers = {name: grpc.unary_unary_rpc_method_handler(_echo) for name in ("Search", "DeleteVideo")}
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("videosearch.v1.SearcherService", handlers)])
        return []

    # The services' own server (grpc.aio, with its health service), with the interceptor under test.
    service = Service("test", register, host="127.0.0.1", port=0, reflection=False, credentials=credentials,
                      interceptors=[AuthInterceptor(policy)] if policy else []).start()
    service.set_serving(True)
    return service, service.address


def _health(channel) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status


def _call(channel, method: str) -> bytes:
    return channel.unary_unary(method)(b"ping", timeout=10)


def test_token_file_keeps_digests_and_rejects_what_it_cannot_read(tmp_path, tokens):
    _folder, table = tokens
    assert table.role_of("reader-secret") is Role.READ and table.role_of("writer-secret") is Role.WRITE
    assert table.role_of("reader-secretX") is None
    assert all(len(value) == 32 for value, *_ in table.entries)  # only digests, never the raw text
    for line in ("admin sha256:00", "read sha256:zz", "read", "write a b"):
        (tmp_path / "bad.txt").write_text(line + "\n")
        with pytest.raises(InvalidArgument, match="bad.txt:1"):
            TokenTable.load(tmp_path / "bad.txt")
    (tmp_path / "empty.txt").write_text("# nobody\n")
    with pytest.raises(InvalidArgument, match="no tokens"):
        TokenTable.load(tmp_path / "empty.txt")


def test_policy_table(tokens):
    _folder, table = tokens
    policy = AccessPolicy(table, reflection_open=False)
    cases = [
        ("/grpc.health.v1.Health/Check", None, None),
        ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", None, "UNAUTHENTICATED"),
        (READ_METHOD, None, "UNAUTHENTICATED"),
        (READ_METHOD, "Bearer nope", "UNAUTHENTICATED"),
        (READ_METHOD, "Basic reader-secret", "UNAUTHENTICATED"),
        (READ_METHOD, "Bearer reader-secret", None),
        (WRITE_METHOD, "Bearer reader-secret", "PERMISSION_DENIED"),
        (WRITE_METHOD, "bearer writer-secret", None),
        ("/videosearch.v1.SearcherService/SomeFutureRpc", "Bearer reader-secret", "PERMISSION_DENIED"),
    ]
    for method, header, expected in cases:
        metadata = [("authorization", header)] if header else []
        try:
            policy.check(method, metadata)
            outcome = None
        except AuthFailure as failure:
            outcome = failure.status
            assert "token" in str(failure)
        assert outcome == expected, (method, header)


def test_videosearch_token_writes_the_token_and_prints_its_digest_line(tmp_path, capsys):
    assert token_main(["--role", "write", "--out", str(tmp_path / "t")]) == 0
    token = (tmp_path / "t").read_text().strip()
    line = capsys.readouterr().out.strip()
    assert line == f"write sha256:{digest(token).hex()}" and token not in line
    assert oct((tmp_path / "t").stat().st_mode & 0o777) == "0o600"
    (tmp_path / "table").write_text(line)
    assert TokenTable.load(tmp_path / "table").role_of(token) is Role.WRITE


def test_tls_handshake_with_the_test_ca(pki):
    server, address = _serve(ServerTls(pki["server"].cert, pki["server"].key).credentials())
    try:
        with ClientSecurity(tls_ca_file=pki["ca"].cert).channel(address) as channel:
            assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
        for security in (ClientSecurity(), ClientSecurity(tls_ca_file=pki["stranger_ca"].cert)):
            with security.channel(address) as channel, pytest.raises(grpc.RpcError) as info:
                _health(channel)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(0)


def test_mutual_tls_needs_a_client_certificate_from_the_client_ca(pki):
    tls = ServerTls(pki["server"].cert, pki["server"].key, client_ca_file=pki["ca"].cert)
    server, address = _serve(tls.credentials())
    try:
        signed = ClientSecurity(tls_ca_file=pki["ca"].cert, tls_cert_file=pki["client"].cert,
                                tls_key_file=pki["client"].key)
        with signed.channel(address) as channel:
            assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
        unsigned = ClientSecurity(tls_ca_file=pki["ca"].cert)
        stranger = ClientSecurity(tls_ca_file=pki["ca"].cert, tls_cert_file=pki["stranger_client"].cert,
                                  tls_key_file=pki["stranger_client"].key)
        for security in (unsigned, stranger):
            with security.channel(address) as channel, pytest.raises(grpc.RpcError) as info:
                _health(channel)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(0)


def test_tokens_over_tls_health_open_roles_enforced(pki, tokens):
    folder, table = tokens
    server, address = _serve(ServerTls(pki["server"].cert, pki["server"].key).credentials(), AccessPolicy(table))
    ca = pki["ca"].cert
    try:
        with ClientSecurity(tls_ca_file=ca).channel(address) as anonymous:
            assert _health(anonymous) == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as info:
                _call(anonymous, READ_METHOD)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with ClientSecurity(tls_ca_file=ca, token_file=str(folder / "read.token")).channel(address) as reader:
            assert _call(reader, READ_METHOD) == b"ping"
            with pytest.raises(grpc.RpcError) as info:
                _call(reader, WRITE_METHOD)
            assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with ClientSecurity(tls_ca_file=ca, token_file=str(folder / "write.token")).channel(address) as writer:
            assert _call(writer, WRITE_METHOD) == b"ping" and _call(writer, READ_METHOD) == b"ping"
    finally:
        server.stop(0)

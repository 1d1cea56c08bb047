"""Bytes that are not the method's request message, sent to every RPC of the three services:
garbage, a truncated field, invalid UTF-8 in a string field. Each is INVALID_ARGUMENT with a
message that says what to send (the shared server's request deserializer refuses them), never
gRPC's UNKNOWN "Unexpected <class DecodeError>" nor INTERNAL, and the services keep serving."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from videosearch.v1 import embedder_pb2, indexer_pb2, searcher_pb2

pytestmark = pytest.mark.timeout(300)
GARBAGE = b"\xff\xff\xff\xff"
TRUNCATED = b"\x0a\x05ab"  # field 1, length 5, two bytes follow


def _methods():
    for module, service in ((embedder_pb2, "embedder"), (searcher_pb2, "searcher"), (indexer_pb2, "indexer")):
        for descriptor in module.DESCRIPTOR.services_by_name.values():
            for method in descriptor.methods:
                yield service, descriptor.full_name, method


def _bad_utf8(message) -> bytes | None:
    """A string field of ``message`` holding invalid UTF-8, or None when it has no string field."""
    for field in message.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            return bytes([field.number << 3 | 2, 2]) + b"\xc3\x28"
    return None


METHODS = list(_methods())


def _call(channel: grpc.Channel, service_name: str, method, payload: bytes) -> grpc.StatusCode:
    path = f"/{service_name}/{method.name}"
    identity = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        if method.client_streaming and method.server_streaming:
            list(channel.stream_stream(path, **identity)(iter([payload]), timeout=30))
        elif method.client_streaming:
            channel.stream_unary(path, **identity)(iter([payload]), timeout=30)
        elif method.server_streaming:
            for _ in channel.unary_stream(path, **identity)(payload, timeout=5):
                break  # a message that parsed and started a stream: not what this test is about
        else:
            channel.unary_unary(path, **identity)(payload, timeout=30)
    except grpc.RpcError as err:
        return err.code(), err.details()
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize("service,service_name,method", METHODS, ids=[f"{s}.{m.name}" for s, _, m in METHODS])
def test_malformed_bytes_are_invalid_argument(live_services, service, service_name, method):
    channel = live_services.channels[service]
    for name, payload in (("garbage", GARBAGE), ("truncated", TRUNCATED), ("bad utf-8", _bad_utf8(method.input_type))):
        if payload is None:
            continue
        code, details = _call(channel, service_name, method, payload)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {code} {details}"
        assert "does not parse" in details and "Unexpected" not in details, details
    health = live_services.searcher.GetStats(searcher_pb2.GetStatsRequest(), timeout=30)
    assert health is not None, "the services keep serving"

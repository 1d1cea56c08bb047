"""Three real Embedder servers behind one channel: calls are spread over them by gRPC's
round_robin, and when one is stopped mid-way every call still succeeds (the retry policy
and client-side health checking move to the others)."""

from __future__ import annotations

import threading

import grpc
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.common.replicas import channel_options, channel_target, replica_addresses, split_addresses
from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.server import serve
from videosearch.embedder.settings import EmbedderSettings
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

pytestmark = pytest.mark.timeout(300)


class CountingClip(ClipEmbedder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.text_calls = 0
        self._lock = threading.Lock()

    def embed_texts(self, texts):
        with self._lock:
            self.text_calls += 1
        return super().embed_texts(texts)


def test_targets_for_one_address_a_list_and_a_dns_name():
    assert channel_target("127.0.0.1:5") == "127.0.0.1:5"
    assert channel_target("dns:///embedder:50051") == "dns:///embedder:50051"
    assert channel_target("127.0.0.1:5, localhost:6") == "ipv4:127.0.0.1:5,127.0.0.1:6"
    assert split_addresses("a:1,b:2") == ["a:1", "b:2"]
    for bad in ("", " , ", "127.0.0.1:5,dns:///x:1", "nohostport,127.0.0.1:5"):
        with pytest.raises(InvalidArgument):
            channel_target(bad)


def test_each_replica_of_a_list_or_a_dns_name():
    """What the Embedder's model check asks one by one (see embedder/model_pin.py)."""
    assert replica_addresses("localhost:5, 127.0.0.1:6") == ["127.0.0.1:5", "127.0.0.1:6"]
    assert replica_addresses("dns:///localhost:7") == ["127.0.0.1:7"]
    assert replica_addresses("embedder:8") == ["embedder:8"]  # one address is dialled as given
    with pytest.raises(InvalidArgument, match="cannot resolve"):
        replica_addresses("dns:///no-such-host.invalid:9")


def test_calls_spread_over_replicas_and_survive_one_stopping(tiny_clip_dir):
    models = [CountingClip(str(tiny_clip_dir), device="cpu", dtype="float32") for _ in range(3)]
    servers = [serve(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), model) for model in models]
    addresses = ",".join(server.address for server in servers)
    channel = grpc.insecure_channel(channel_target(addresses), options=channel_options())
    stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
    try:
        request = embedder_pb2.EmbedTextsRequest(texts=["a red circle"])
        for _ in range(30):
            stub.EmbedTexts(request, timeout=30, wait_for_ready=True)
        first = [m.text_calls for m in models]
        assert sum(first) == 30 and min(first) >= 5, f"round_robin spreads the calls: {first}"

        servers[1].stop(0)  # one replica goes away; the callers must not notice
        for _ in range(30):  # no wait_for_ready: a call that meets the stopped one must be retried
            stub.EmbedTexts(request, timeout=30)
        second = [m.text_calls - f for m, f in zip(models, first)]
        print(f"calls per replica: before the stop {first}, after {second}")
        assert second[0] + second[2] == 30 and second[0] >= 5 and second[2] >= 5
    finally:
        channel.close()
        for server in servers:
            server.stop(0)

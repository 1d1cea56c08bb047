"""The three services in this process on port 0 (the tiny CLIP for the Embedder, a fresh
Searcher store, an Indexer whose one allowed root is a fresh folder), for tests that speak
raw gRPC to all three."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from videosearch.common.grpc_server import insecure_channel
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, indexer_pb2_grpc, searcher_pb2_grpc


@dataclass
class LiveServices:
    root: Path  # the Indexer's allowed root
    embedder: embedder_pb2_grpc.EmbedderServiceStub
    searcher: searcher_pb2_grpc.SearcherServiceStub
    indexer: indexer_pb2_grpc.IndexerServiceStub
    channels: dict[str, grpc.Channel]
    model_id: str
    dim: int
    image_size: int
    max_images_per_request: int
    max_texts_per_request: int
    addresses: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def live_services(tiny_clip_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), device="cpu", dtype="float32"))
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    indexer = IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(root),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1, rpc_timeout_s=10.0)).start()
    addresses = {"embedder": embedder.address, "searcher": searcher.address, "indexer": f"127.0.0.1:{indexer.port}"}
    channels = {name: insecure_channel(address) for name, address in addresses.items()}
    embedder_stub = embedder_pb2_grpc.EmbedderServiceStub(channels["embedder"])
    info = embedder_stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=30)
    yield LiveServices(
        root=root, embedder=embedder_stub, searcher=searcher_pb2_grpc.SearcherServiceStub(channels["searcher"]),
        indexer=indexer_pb2_grpc.IndexerServiceStub(channels["indexer"]), channels=channels,
        model_id=info.model_id, dim=info.embedding_dim, image_size=info.preprocessing.crop_height,
        max_images_per_request=info.max_images_per_request, max_texts_per_request=info.max_texts_per_request,
        addresses=addresses,
    )
    for channel in channels.values():
        channel.close()
    indexer.stop(0)
    searcher.stop(0)
    embedder.stop(0)

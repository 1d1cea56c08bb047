"""Helpers of the Indexer's server tests: a CLIP that can be held, starting an Indexer, waiting for a job."""

from __future__ import annotations

import threading

import grpc

from videosearch.embedder.model import ClipEmbedder
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc


class GatedClip(ClipEmbedder):
    """The tiny CLIP whose image forward passes wait while a test holds ``gate`` shut
    (it is open otherwise), so a job can be held in its embedding stage. ``images_forwarded``
    counts the images its forward passes have run on."""

    def __init__(self, *args, **kwargs) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.images_forwarded = 0
        super().__init__(*args, **kwargs)

    def forward(self, pixel_values):
        self.gate.wait()
        self.images_forwarded += int(pixel_values.shape[0])
        return super().forward(pixel_values)


def start_indexer(roots, embedder_address, searcher_address, workers=1, **settings) -> IndexerApp:
    settings = IndexerSettings(
        port=0, allowed_roots=tuple(str(r) for r in roots), embedder_address=embedder_address,
        searcher_address=searcher_address, workers=workers, rpc_timeout_s=10.0, **settings,
    )
    return IndexerApp.serve(settings)


def finish(stub, job_id):
    *_, last = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id), timeout=120)
    return last.job


def submit(app, path, **options):
    channel = grpc.insecure_channel(f"127.0.0.1:{app.port}")
    stub = indexer_pb2_grpc.IndexerServiceStub(channel)
    job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
        path=str(path), options=indexer_pb2.IndexOptions(**options))).job
    return stub, job, channel


def index_to_the_end(embedder_address, searcher_address, path):
    """Runs one job on a fresh Indexer; returns its last snapshot."""
    app = start_indexer([path.parent], embedder_address, searcher_address)
    try:
        stub, job, channel = submit(app, path)
        with channel:
            return finish(stub, job.job_id)
    finally:
        app.stop(0)

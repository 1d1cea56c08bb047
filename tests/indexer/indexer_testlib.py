"""Helpers of the Indexer's server tests: a CLIP that can be held, starting an Indexer, waiting for a job."""

from __future__ import annotations

import threading

from videosearch.embedder.model import ClipEmbedder
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.v1 import indexer_pb2


class GatedClip(ClipEmbedder):
    """The tiny CLIP whose image forward passes wait while a test holds ``gate`` shut
    (it is open otherwise), so a job can be held in its embedding stage."""

    def __init__(self, *args, **kwargs) -> None:
        self.gate = threading.Event()
        self.gate.set()
        super().__init__(*args, **kwargs)

    def forward(self, pixel_values):
        self.gate.wait()
        return super().forward(pixel_values)


def start_indexer(roots, embedder_address, searcher_address, workers=1) -> IndexerApp:
    settings = IndexerSettings(
        port=0, allowed_roots=tuple(str(r) for r in roots), embedder_address=embedder_address,
        searcher_address=searcher_address, workers=workers, rpc_timeout_s=10.0,
    )
    return IndexerApp.serve(settings)


def finish(stub, job_id):
    *_, last = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id), timeout=120)
    return last.job

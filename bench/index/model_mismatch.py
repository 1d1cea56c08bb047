"""How long a job takes to fail when the Searcher's collection was embedded by another
model (issue 11, part 4): the Indexer checks the model before decoding, so it fails in
milliseconds with MODEL_MISMATCH and nothing decoded, where it used to decode and embed
the whole video and then fail at the store.

    python bench/index/model_mismatch.py                      # testvideo.mp4, 3 rounds
    python bench/index/model_mismatch.py --video PATH --rounds 5

In-process servers on port 0 with the demo CLIP; the Searcher first gets one video of
another model id. Prints, per round, the seconds from submit to the job's end, its
reason, and the frames decoded and embedded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "searcher"))
from searcher_testlib import make_scenes, make_video, random_unit  # noqa: E402
from videosearch.embedder.server import serve as serve_embedder  # noqa: E402
from videosearch.embedder.settings import EmbedderSettings  # noqa: E402
from videosearch.indexer.server import IndexerApp  # noqa: E402
from videosearch.indexer.settings import IndexerSettings  # noqa: E402
from videosearch.client.searcher import SearcherClient  # noqa: E402
from videosearch.searcher.server import serve as serve_searcher  # noqa: E402
from videosearch.searcher.settings import SearcherSettings  # noqa: E402
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(ROOT.parent / "shared" / "videos" / "testvideo.mp4"))
    parser.add_argument("--model", default=str(ROOT / "models" / "demo-clip"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    video = Path(args.video).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="model-mismatch-"))
    embedder = serve_embedder(EmbedderSettings(port=0, model=args.model, dtype="float32"))
    dim = embedder.engine.model_info().embedding_dim
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(workdir / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    with SearcherClient(searcher.address) as client:
        client.upsert_video(make_video("0123456789abcdef", 2, model_id="someone/another-clip", dim=dim),
                            make_scenes(2), random_unit(np.random.default_rng(0), 2, dim))
    indexer = IndexerApp(IndexerSettings(port=0, allowed_roots=(str(video.parent),), embedder_address=embedder.address,
                                         searcher_address=searcher.address)).start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{indexer.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            for number in range(args.rounds):
                started = time.perf_counter()
                job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                    path=str(video), options=indexer_pb2.IndexOptions(force=True))).job
                *_, last = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=600)
                print(f"round {number}: {time.perf_counter() - started:.3f} s to "
                      f"{indexer_pb2.JobState.Name(last.job.state)} {indexer_pb2.JobErrorReason.Name(last.job.error_reason)}; "
                      f"frames decoded {last.job.frames_decoded}, embedded {last.job.frames_embedded}", flush=True)
    finally:
        indexer.stop(0)
        searcher.stop(0)
        embedder.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

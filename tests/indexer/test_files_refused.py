"""Files that are not videos, or not only under the roots, fail their job with a reason:
a still image (JPEG, PNG, WebP) is NOT_A_VIDEO naming its format (FFmpeg would open it as a
one-frame video), and a hard link to a file outside the roots made after submit is refused
by the job's check of the opened file, before a byte is read."""

from __future__ import annotations

import os

import cv2
import grpc
import numpy as np
import pytest
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.media.facade import FileNotReadableError
from videosearch.indexer.media.opened_file import OpenedFile
from videosearch.indexer.paths import AllowedRoots
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

from tests.indexer.indexer_testlib import finish, start_indexer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def indexer(tiny_clip_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("refused")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(folder / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    root = folder / "root"
    root.mkdir()
    app = start_indexer([root], embedder.address, searcher.address)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield indexer_pb2_grpc.IndexerServiceStub(channel), root
    app.stop(0)
    searcher.stop(0)
    embedder.stop(0)


@pytest.mark.parametrize("suffix,kind", [(".jpg", "JPEG"), (".png", "PNG"), (".webp", "WebP")])
def test_a_still_image_is_not_a_video(indexer, suffix, kind):
    stub, root = indexer
    image = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(suffix, image)
    assert ok
    path = root / f"photo{suffix}"
    path.write_bytes(encoded.tobytes())
    job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(path))).job
    final = finish(stub, job.job_id)
    assert final.state == indexer_pb2.JOB_STATE_FAILED, final
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_NOT_A_VIDEO, final
    assert f"is a {kind} image, not a video" in final.error and final.video_id == ""


def test_a_hard_link_made_after_submit_is_refused_when_the_job_opens_it(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    victim = root / "video.mp4"
    victim.write_bytes(b"\0" * 10)
    roots = AllowedRoots([str(root)])
    with OpenedFile.open(str(victim), roots):
        pass  # one link: read
    victim.unlink()
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"secret")
    os.link(secret, victim)
    with pytest.raises(FileNotReadableError, match="hard links"):
        OpenedFile.open(str(victim), roots)
    with OpenedFile.open(str(victim), AllowedRoots([str(root)], allow_hard_links=True)):
        pass  # the operator vouches for the links

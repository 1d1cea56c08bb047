"""What is said and written, over real gRPC: a Searcher server on port 0 with a real LevelDB and a
real Embedder (the tiny CLIP) stores videos with text spans, finds a said phrase and a written
Chinese word with their kinds, highlights and times, rebuilds its lexical index when restarted
on the same store, and forgets a deleted video's text."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import (
    MomentRecord,
    SceneRecord,
    SearchParams,
    TextBox,
    TextSpan,
    VideoExtras,
    VideoRecord,
)

SAID = TextSpan("said", 4.2, 6.8, "Next we will discuss the quarterly budget in detail.", "en", "sidecar")
WRITTEN = TextSpan("written", 1.0, 3.0, "紧急出口 EMERGENCY EXIT", "zh", "ocr", TextBox(0.3, 0.1, 0.4, 0.15))
CHATTER = TextSpan("said", 0.5, 2.0, "The weather is nice and the budget office is closed.", "en", "speech")


@pytest.fixture(scope="module")
def embedder(tiny_clip_dir):
    server = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), device="cpu", dtype="float32"))
    yield server
    server.stop(0)


def _searcher(embedder, data_dir):
    return serve_searcher(SearcherSettings(port=0, data_dir=str(data_dir), embedder_address=embedder.address, ann="none"))


@pytest.fixture(scope="module")
def model(embedder) -> tuple[str, int]:
    """The Embedder's model id and dimension, which stored videos must carry."""
    from videosearch.client.embedder import EmbedderClient

    with EmbedderClient(embedder.address) as client:
        info = client.model_info()
    return info.model_id, info.embedding_dim


def _upsert(client: SearcherClient, model: tuple[str, int], video_id: str, spans, rng) -> None:
    """Two scenes of 4 s at 25 fps, the second split into two moments (4-6 s, 6-8 s)."""
    model_id, dim = model
    scenes = [SceneRecord(0, 0, 100, 0.0, 4.0, 2), SceneRecord(1, 100, 200, 4.0, 8.0, 2)]
    moments = [MomentRecord(0, 0, 0, 100, 0.0, 4.0, 2), MomentRecord(1, 1, 100, 150, 4.0, 6.0, 1),
               MomentRecord(2, 1, 150, 200, 6.0, 8.0, 1)]
    video = VideoRecord(video_id, f"/videos/{video_id}.mp4", 8.0, Fraction(25), 200, 320, 240, video_id * 8, model_id,
                        dim, scene_count=2)
    vectors = rng.standard_normal((3, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    client.upsert_video(video, scenes, vectors, moments, VideoExtras(text_spans=tuple(spans)))


def test_said_and_written_over_grpc_across_a_restart_and_a_delete(embedder, model, tmp_path):
    rng = np.random.default_rng(7)
    server = _searcher(embedder, tmp_path / "store")
    try:
        with SearcherClient(server.address) as client:
            _upsert(client, model, "talk", [SAID, CHATTER], rng)
            _upsert(client, model, "sign", [WRITTEN], rng)
            for i in range(3):
                _upsert(client, model, f"plain{i}", [], rng)
            assert client.get_text_spans("talk") == (CHATTER, SAID)  # by start time

            said = client.search(text='"quarterly budget"', params=SearchParams(mode="scenes", top_k=3)).scenes[0]
            assert (said.video_id, said.moment.index) == ("talk", 1)  # 4.2 s lies in moment 1 (4-6 s)
            assert "said" in said.matched_kinds and said.fused_score > 0
            match = said.text_matches[0]
            assert match.span == SAID and match.marked() == "Next we will discuss the [quarterly budget] in detail."
            assert said.open_uri.endswith("#t=4")  # plays from the moment holding the line

            written = client.search(text="出口", params=SearchParams(top_k=2)).videos[0]
            assert written.video.video_id == "sign"
            hit = written.scenes[0]
            assert hit.matched_kinds[-1] == "written" and hit.moment.index == 0
            assert hit.text_matches[0].marked() == "紧急[出口] EMERGENCY EXIT"
            assert hit.text_matches[0].span.box == WRITTEN.box

            only_seen = client.search(text="quarterly budget", params=SearchParams(mode="scenes", kinds=("seen",)))
            assert all(h.matched_kinds == ("seen",) and not h.text_matches for h in only_seen.scenes)
            only_written = client.search(text="budget", params=SearchParams(mode="scenes", kinds=("written",)))
            assert only_written.scenes == []
            with pytest.raises(InvalidArgument, match="needs a text query"):
                client.search(vector=np.ones(model[1], np.float32), params=SearchParams(kinds=("said",)))
    finally:
        server.stop(0)

    restarted = _searcher(embedder, tmp_path / "store")
    try:
        with SearcherClient(restarted.address) as client:
            hits = client.search(text="quarterly budget", params=SearchParams(mode="scenes", kinds=("said",))).scenes
            assert [(h.video_id, h.moment.index) for h in hits] == [("talk", 1), ("talk", 0)]  # rebuilt from the store
            client.delete_video("sign")
            assert client.search(text="出口", params=SearchParams(mode="scenes", kinds=("written",))).scenes == []
            assert client.get_text_spans("talk") == (CHATTER, SAID)
    finally:
        restarted.stop(0)

"""The Searcher as a real gRPC server on port 0, called through generated stubs and
SearcherClient; text queries go through a real Embedder hosting a tiny CLIP."""

from __future__ import annotations

import subprocess
import sys

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from videosearch.common.errors import FailedPrecondition, InvalidArgument, NotFound
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.client.embedder import EmbedderClient
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import SERVICE_NAME, serve
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearchParams
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc, video_pb2

from tests.searcher.searcher_testlib import make_scenes, make_video, unit


@pytest.fixture(scope="module")
def embedder(tiny_clip_dir):
    from videosearch.embedder.server import serve as serve_embedder
    from videosearch.embedder.settings import EmbedderSettings

    server = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), device="cpu", dtype="float32"))
    with EmbedderClient(server.address) as client:
        info = client.model_info()
    yield server.address, info.model_id, info.embedding_dim
    server.stop(0)


@pytest.fixture(scope="module")
def server(embedder, tmp_path_factory):
    address, _model, _dim = embedder
    settings = SearcherSettings(port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=address, ann="none")
    s = serve(settings)
    yield s
    s.stop(0)


@pytest.fixture(scope="module")
def stub(server):
    channel = insecure_channel(server.address)
    yield searcher_pb2_grpc.SearcherServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def client(server):
    with SearcherClient(server.address) as c:
        yield c


@pytest.fixture(scope="module")
def library(client, embedder):
    """Three videos whose scenes are the Embedder's own embeddings of known texts."""
    address, model, dim = embedder
    texts = {
        "vid-red": ["a red circle", "a red square"],
        "vid-blue": ["a blue triangle", "two blue stars", "a blue ring"],
        "vid-green": ["a green heart"],
    }
    with EmbedderClient(address) as e:
        for vid, scene_texts in texts.items():
            client.upsert_video(make_video(vid, len(scene_texts), model_id=model, dim=dim), make_scenes(len(scene_texts)), e.embed_texts(scene_texts))
    return texts, model, dim


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), info.value.details()


def test_health_is_serving_and_reflection_lists_the_service(server):
    channel = insecure_channel(server.address)
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE_NAME):
        assert health.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert SERVICE_NAME in names
    channel.close()


def test_text_search_finds_the_scene_of_that_text(client, library):
    result = client.search(text="two blue stars", params=SearchParams(top_k=3))
    assert result.videos[0].video.video_id == "vid-blue"
    assert result.videos[0].scenes[0].scene.index == 1
    assert result.videos[0].score == pytest.approx(1.0, abs=1e-4)
    assert result.embed_ms > 0 and result.model_id == library[1]
    scenes = client.search(text="a red square", params=SearchParams(top_k=2, mode="scenes")).scenes
    assert (scenes[0].video_id, scenes[0].scene.index) == ("vid-red", 1)


def test_each_rpc_through_the_stub(stub, library):
    _texts, model, dim = library
    got = stub.GetVideo(searcher_pb2.GetVideoRequest(video_id="vid-blue"))
    assert got.video.scene_count == 3 and got.video.fps_numerator == 30000 and got.video.fps_denominator == 1001
    assert [s.start_timecode for s in got.scenes] == ["00:00:00.000", "00:00:01.001", "00:00:02.002"]
    assert got.video.HasField("indexed_at")
    listed = stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=2))
    assert [v.video_id for v in listed.videos] == ["vid-blue", "vid-green"] and listed.total_size >= 3
    listed2 = stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=2, page_token=listed.next_page_token))
    assert listed2.videos[0].video_id == "vid-red"
    stats = stub.GetStats(searcher_pb2.GetStatsRequest())
    assert (stats.model_id, stats.embedding_dim, stats.approximate_index) == (model, dim, False)
    vector = unit(np.ones((1, dim)))
    response = stub.Search(
        searcher_pb2.SearchRequest(
            embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(vector.astype(np.float16)), model_id=model),
            top_k=1,
            mode=searcher_pb2.SEARCH_MODE_SCENES,
        )
    )
    assert len(response.scenes) == 1 and response.scenes[0].scene.end_timecode


def test_list_videos_pages_with_opaque_tokens(stub, library):
    stored = sorted(v.video_id for v in stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=1000)).videos)
    seen, token = [], ""
    while True:
        page = stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=1, page_token=token))
        seen += [v.video_id for v in page.videos]
        token = page.next_page_token
        if not token:
            break
        assert not any(v.video_id in token for v in page.videos), "a token must not show the key it stands for"
    assert seen == stored and len(stored) >= 3, "every video exactly once, in id order"
    first = stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=1))
    tampered = first.next_page_token[:-3] + ("A" if first.next_page_token[-3] != "A" else "B") + first.next_page_token[-2:]
    for bad in (tampered, first.next_page_token[:-1]):
        code, details = code_of(lambda: stub.ListVideos(searcher_pb2.ListVideosRequest(page_token=bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "start again without a page_token" in details


def test_upsert_replace_and_delete_through_the_client(client, library):
    _texts, model, dim = library
    rows = unit(np.random.default_rng(0).standard_normal((2, dim)))
    stored, replaced = client.upsert_video(make_video("vid-tmp", 2, model_id=model, dim=dim), make_scenes(2), rows)
    assert not replaced and stored.scene_count == 2
    _, replaced = client.upsert_video(make_video("vid-tmp", 1, model_id=model, dim=dim), make_scenes(1), rows[:1])
    assert replaced
    top = client.search(vector=rows[0], params=SearchParams(top_k=1, mode="scenes")).scenes[0]
    assert (top.video_id, top.scene.index) == ("vid-tmp", 0)
    assert client.delete_video("vid-tmp") == 1
    with pytest.raises(NotFound):
        client.get_video("vid-tmp")
    with pytest.raises(FailedPrecondition, match="re-index"):
        client.upsert_video(make_video("x", 1, model_id="other", dim=dim), make_scenes(1), rows[:1])
    with pytest.raises(InvalidArgument, match="L2-normalized"):
        client.upsert_video(make_video("x", 1, model_id=model, dim=dim), make_scenes(1), rows[:1] * 3)


def test_bad_input_gets_the_right_code_and_the_server_stays_up(stub, library):
    _texts, model, dim = library
    cases = [
        (lambda: stub.GetVideo(searcher_pb2.GetVideoRequest(video_id="nope")), grpc.StatusCode.NOT_FOUND),
        (lambda: stub.DeleteVideo(searcher_pb2.DeleteVideoRequest(video_id="nope")), grpc.StatusCode.NOT_FOUND),
        (lambda: stub.Search(searcher_pb2.SearchRequest(text="  ")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.Search(searcher_pb2.SearchRequest()), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.Search(searcher_pb2.SearchRequest(text="red", top_k=5000)), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.Search(searcher_pb2.SearchRequest(text="red", top_k=-3)), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.Search(searcher_pb2.SearchRequest(text="red", scenes_per_video=101)), grpc.StatusCode.INVALID_ARGUMENT),
        (
            lambda: stub.Search(searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(np.ones(3, np.float32))))),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            lambda: stub.Search(
                searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(np.ones(dim, np.float32)), model_id="m2"))
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (lambda: stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=-1)), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.ListVideos(searcher_pb2.ListVideosRequest(page_token="garbage!")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.UpsertVideo(searcher_pb2.UpsertVideoRequest()), grpc.StatusCode.INVALID_ARGUMENT),
        (
            lambda: stub.UpsertVideo(
                searcher_pb2.UpsertVideoRequest(
                    video=video_pb2.Video(video_id="x", model_id=model, embedding_dim=dim, fps_numerator=25, fps_denominator=1),
                    embeddings=to_tensor(np.ones((1, dim), np.float32)),
                )
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ]
    for call, expected in cases:
        code, details = code_of(call)
        assert code == expected, details
        assert details and "internal error" not in details
    top_k_details = code_of(cases[4][0])[1]
    assert "top_k must be between 1 and 1000" in top_k_details
    assert stub.GetStats(searcher_pb2.GetStatsRequest()).video_count == 3  # still up, nothing changed


def test_text_search_reports_unavailable_when_the_embedder_is_gone(library, tmp_path):
    settings = SearcherSettings(port=0, data_dir=str(tmp_path / "d"), embedder_address="127.0.0.1:1", embedder_timeout=2)
    s = serve(settings)
    try:
        with SearcherClient(s.address) as c:
            _texts, model, dim = library
            c.upsert_video(make_video("v", 1, model_id=model, dim=dim), make_scenes(1), unit(np.ones((1, dim))))
            stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(s.address))
            code, details = code_of(lambda: stub.Search(searcher_pb2.SearchRequest(text="a red circle")))
            assert code == grpc.StatusCode.UNAVAILABLE and "embedder" in details
            assert c.stats().video_count == 1
    finally:
        s.stop(0)


def test_a_locked_data_dir_ends_startup_with_a_clear_message(server):
    process = subprocess.run(
        [sys.executable, "-m", "videosearch.searcher.server", "--port", "0", "--data-dir", server.settings.data_dir],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2
    assert "in use by another Searcher" in process.stderr

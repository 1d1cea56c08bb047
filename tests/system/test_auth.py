"""The three services with TLS and bearer tokens turned on, in this process, speaking TLS
to each other too (issue 7, part 1): every RPC x {no token, read token, write token} as
one table; a real index job and search through TLS with tokens; health open to all; and
each service's Prometheus endpoint counting the calls, refusals included (issue 8, part 4)."""

from __future__ import annotations

import re
import urllib.request

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common.auth import READ_METHODS, digest
from videosearch.common.security import ClientSecurity
from videosearch.common.tensors import to_tensor
from videosearch.embedder.server import EmbedderServer as EmbedderApp
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import SearcherServer as SearcherApp
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import (
    embedder_pb2,
    embedder_pb2_grpc,
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

from tests.common.certs import ThrowawayAuthority

pytestmark = pytest.mark.timeout(300)
AUTH_CODES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


@pytest.fixture(scope="module")
def secured(tiny_clip_dir, shared_videos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("security")
    authority = ThrowawayAuthority(folder / "pki")
    server = authority.issue("server", "localhost", server=True)
    (folder / "read.token").write_text("reader-token\n")
    (folder / "write.token").write_text("writer-token\n")
    tokens = folder / "tokens.txt"
    tokens.write_text(f"read sha256:{digest('reader-token').hex()}\nwrite sha256:{digest('writer-token').hex()}\n")
    tls = {"tls_cert_file": server.cert, "tls_key_file": server.key, "tokens_file": str(tokens), "metrics_port": 0}
    outgoing = {"client_tls_ca_file": authority.ca.cert, "client_token_file": str(folder / "write.token")}
    # The certificate names localhost, so the services are dialled by that name.
    embedder = EmbedderApp.serve(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32", **tls))
    searcher = SearcherApp.serve(SearcherSettings(
        port=0, data_dir=str(folder / "searcher"), embedder_address=f"localhost:{embedder.port}", ann="none",
        **tls, **outgoing))
    indexer = IndexerApp.serve(IndexerSettings(
        port=0, allowed_roots=(str(shared_videos),), embedder_address=f"localhost:{embedder.port}",
        searcher_address=f"localhost:{searcher.port}", workers=1, **tls, **outgoing))
    apps = {"embedder": embedder, "searcher": searcher, "indexer": indexer}
    yield folder, authority, apps
    for app in (indexer, searcher, embedder):
        app.stop(0)


def _security(folder, authority, role: str | None) -> ClientSecurity:
    return ClientSecurity(tls_ca_file=authority.ca.cert, token_file=str(folder / f"{role}.token") if role else "")


def _requests(shared_videos, dim: int) -> dict[str, tuple[str, object]]:
    """One request per RPC of the three services: (service, request)."""
    vector = np.zeros(dim, np.float32)
    vector[0] = 1.0
    pixels = to_tensor(np.zeros((1, 3, 32, 32), np.uint8))
    return {
        "EmbedderService/GetModelInfo": ("embedder", embedder_pb2.GetModelInfoRequest()),
        "EmbedderService/EmbedImages": ("embedder", embedder_pb2.EmbedImagesRequest(pixel_values=pixels)),
        "EmbedderService/StreamEmbedImages": ("embedder", embedder_pb2.StreamEmbedImagesRequest(pixel_values=pixels)),
        "EmbedderService/EmbedTexts": ("embedder", embedder_pb2.EmbedTextsRequest(texts=["a red circle"])),
        # 8 kHz is refused past authentication: nothing is transcribed.
        "EmbedderService/TranscribeAudio": ("embedder", embedder_pb2.TranscribeAudioRequest(
            pcm_s16le=b"\0\0", sample_rate_hertz=8000)),
        "SearcherService/UpsertVideo": ("searcher", searcher_pb2.UpsertVideoRequest()),
        "SearcherService/GetVideo": ("searcher", searcher_pb2.GetVideoRequest(video_id="nope")),
        "SearcherService/GetSceneThumbnail": ("searcher", searcher_pb2.GetSceneThumbnailRequest(video_id="nope")),
        "SearcherService/ListVideos": ("searcher", searcher_pb2.ListVideosRequest()),
        "SearcherService/DeleteVideo": ("searcher", searcher_pb2.DeleteVideoRequest(video_id="nope")),
        "SearcherService/Search": ("searcher", searcher_pb2.SearchRequest(
            embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(vector)))),
        "SearcherService/GetStats": ("searcher", searcher_pb2.GetStatsRequest()),
        "SearcherService/UpdateVideoLocations": ("searcher", searcher_pb2.UpdateVideoLocationsRequest(video_id="nope")),
        # Empty or unknown models: refused past authentication, the serving collection untouched.
        "SearcherService/StageCollection": ("searcher", searcher_pb2.StageCollectionRequest()),
        "SearcherService/SwitchCollection": ("searcher", searcher_pb2.SwitchCollectionRequest(model_id="nope")),
        "SearcherService/DropStagedCollection": ("searcher", searcher_pb2.DropStagedCollectionRequest(model_id="nope")),
        "IndexerService/SubmitIndexJob": ("indexer", indexer_pb2.SubmitIndexJobRequest(
            path=str(shared_videos / "missing.mp4"))),
        "IndexerService/WatchIndexJob": ("indexer", indexer_pb2.WatchIndexJobRequest(job_id="nope")),
        "IndexerService/GetIndexJob": ("indexer", indexer_pb2.GetIndexJobRequest(job_id="nope")),
        "IndexerService/ListIndexJobs": ("indexer", indexer_pb2.ListIndexJobsRequest()),
        "IndexerService/CancelIndexJob": ("indexer", indexer_pb2.CancelIndexJobRequest(job_id="nope")),
        # An empty Embedder address is refused before a reindex job starts.
        "IndexerService/ReindexCollection": ("indexer", indexer_pb2.ReindexCollectionRequest()),
        "IndexerService/PruneLocations": ("indexer", indexer_pb2.PruneLocationsRequest(folder="relative", dry_run=True)),
        "IndexerService/AddLibrary": ("indexer", indexer_pb2.AddLibraryRequest(path="relative")),
        "IndexerService/ListLibraries": ("indexer", indexer_pb2.ListLibrariesRequest()),
        "IndexerService/RemoveLibrary": ("indexer", indexer_pb2.RemoveLibraryRequest(path="/not/a/library")),
    }


def _call(channel: grpc.Channel, method: str, request) -> grpc.StatusCode:
    path = f"/videosearch.v1.{method}"
    serialize = type(request).SerializeToString
    try:
        if method.endswith("StreamEmbedImages"):
            list(channel.stream_stream(path, request_serializer=serialize)(iter([request]), timeout=30))
        elif method.endswith("WatchIndexJob"):
            list(channel.unary_stream(path, request_serializer=serialize)(request, timeout=30))
        else:
            channel.unary_unary(path, request_serializer=serialize)(request, timeout=30)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_every_rpc_against_no_token_read_and_write(secured, shared_videos):
    folder, authority, apps = secured
    requests = _requests(shared_videos, dim=16)
    every_rpc = {f"{s.name}/{m.name}" for module in (embedder_pb2, searcher_pb2, indexer_pb2)
                 for s in module.DESCRIPTOR.services_by_name.values() for m in s.methods}
    assert set(requests) == every_rpc, "a new RPC needs a row in this table"
    table, wrong = [], []
    for role in (None, "read", "write"):
        security = _security(folder, authority, role)
        for method, (service, request) in requests.items():
            with security.channel(f"localhost:{apps[service].port}") as channel:
                code = _call(channel, method, request)
            needs_write = f"/videosearch.v1.{method}" not in READ_METHODS
            if role is None:
                expected = "UNAUTHENTICATED"
            elif role == "read" and needs_write:
                expected = "PERMISSION_DENIED"
            else:
                expected = "past authentication"
            got = code.name if code in AUTH_CODES else "past authentication"
            table.append((method, role or "none", code.name))
            if got != expected:
                wrong.append(f"{method} with {role or 'no'} token: {code.name}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    assert len(table) == 3 * len(every_rpc)


def test_health_stays_open_and_plaintext_or_an_unknown_ca_cannot_connect(secured):
    folder, authority, apps = secured
    for app in apps.values():
        with _security(folder, authority, None).channel(f"localhost:{app.port}") as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING
        with ClientSecurity().channel(f"localhost:{app.port}") as plaintext, pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(plaintext).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_an_index_job_and_a_search_through_tls_and_tokens_between_all_services(secured, shared_videos):
    folder, authority, apps = secured
    with _security(folder, authority, "write").channel(f"localhost:{apps['indexer'].port}") as channel:
        stub = indexer_pb2_grpc.IndexerServiceStub(channel)
        job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(shared_videos / "testvideo.mp4")),
                                  timeout=30).job
        *_, last = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=240)
    assert last.job.state == indexer_pb2.JOB_STATE_SUCCEEDED, last.job.error
    with _security(folder, authority, "read").channel(f"localhost:{apps['searcher'].port}") as channel:
        found = searcher_pb2_grpc.SearcherServiceStub(channel).Search(
            searcher_pb2.SearchRequest(text="a red circle"), timeout=30)  # the Searcher asks the Embedder over TLS
    assert [match.video.video_id for match in found.videos] == [last.job.video_id]


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def _count(text: str, method: str, code: str) -> float:
    pattern = rf'^videosearch_rpcs_total\{{code="{code}",method="{method}",service="[a-z]+"\}} (\S+)$'
    return sum(float(m) for m in re.findall(pattern, text, flags=re.M))


def test_each_service_serves_metrics_that_move_after_calls(secured):
    folder, authority, apps = secured
    before = {name: _scrape(app.metrics_port) for name, app in apps.items()}
    calls = {"embedder": ("EmbedderService/GetModelInfo", embedder_pb2.GetModelInfoRequest()),
             "searcher": ("SearcherService/GetStats", searcher_pb2.GetStatsRequest()),
             "indexer": ("IndexerService/ListIndexJobs", indexer_pb2.ListIndexJobsRequest())}
    for name, (method, request) in calls.items():
        for role in ("read", None):
            with _security(folder, authority, role).channel(f"localhost:{apps[name].port}") as channel:
                _call(channel, method, request)
    for name, (method, _request) in calls.items():
        after = _scrape(apps[name].metrics_port)
        short = method.split("/")[1]
        assert _count(after, short, "OK") == _count(before[name], short, "OK") + 1, name
        assert _count(after, short, "UNAUTHENTICATED") == _count(before[name], short, "UNAUTHENTICATED") + 1, name
        assert "videosearch_rpc_seconds_bucket" in after

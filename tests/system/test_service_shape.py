"""The three services have one shape: the same base settings with the same defaults,
health, reflection under v1 and v1alpha, and a port already in use fails at start."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from tests.service_process import service_process, stop_with_sigterm
from videosearch.common.grpc_server import PortUnavailable
from videosearch.common.reflection import V1_SERVICE, V1ALPHA_SERVICE
from videosearch.common.settings import BaseServiceSettings
from videosearch.embedder.server import EmbedderServer
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import SearcherServer
from videosearch.searcher.settings import SearcherSettings

pytestmark = pytest.mark.timeout(300)
SETTINGS = (EmbedderSettings, SearcherSettings, IndexerSettings)


@pytest.fixture(scope="module")
def services(tiny_clip_dir, tmp_path_factory):
    """The three services in-process on port 0, each SERVING."""
    embedder = EmbedderServer.serve(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    searcher = SearcherServer.serve(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address))
    indexer = IndexerApp.serve(IndexerSettings(
        port=0, embedder_address=embedder.address, searcher_address=searcher.address))
    yield {"embedder": embedder, "searcher": searcher, "indexer": indexer}
    for app in (indexer, searcher, embedder):
        app.stop(0)


def list_services(channel: grpc.Channel, reflection_service: str) -> set[str]:
    """ListServices over ``reflection_service`` (both versions share their messages)."""
    call = channel.stream_stream(
        f"/{reflection_service}/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    (answer,) = call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=30)
    return {s.name for s in answer.list_services_response.service}


def describe(channel: grpc.Channel, reflection_service: str, symbol: str) -> reflection_pb2.ServerReflectionResponse:
    call = channel.stream_stream(
        f"/{reflection_service}/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    (answer,) = call(iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)]), timeout=30)
    return answer


@pytest.mark.parametrize("name", ["embedder", "searcher", "indexer"])
def test_each_service_answers_health_and_reflection_v1_and_v1alpha(services, name):
    app = services[name]
    with grpc.insecure_channel(app.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for watched in ("", app.service_name):
            updates = health.Watch(health_pb2.HealthCheckRequest(service=watched), timeout=60)
            assert next(u for u in updates if u.status == health_pb2.HealthCheckResponse.SERVING)
            updates.cancel()
        for version in (V1_SERVICE, V1ALPHA_SERVICE):
            names = list_services(channel, version)
            assert {app.service_name, "grpc.health.v1.Health", V1_SERVICE, V1ALPHA_SERVICE} <= names, version
            described = describe(channel, version, app.service_name)
            assert described.file_descriptor_response.file_descriptor_proto, described
        # grpcurl and others describe the reflection service itself under the name they use.
        assert describe(channel, V1_SERVICE, V1_SERVICE).file_descriptor_response.file_descriptor_proto


def test_reflection_can_be_turned_off(tmp_path):
    app = SearcherServer.serve(SearcherSettings(port=0, data_dir=str(tmp_path / "s"), embedder_address="",
                                                reflection=False))
    try:
        with grpc.insecure_channel(app.address) as channel, pytest.raises(grpc.RpcError) as caught:
            list_services(channel, V1_SERVICE)
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        app.stop(0)


def test_every_service_settings_share_the_base_fields_and_their_defaults():
    base = {f.name: f for f in dataclasses.fields(BaseServiceSettings)}
    for settings in SETTINGS:
        fields = {f.name: f for f in dataclasses.fields(settings)}
        assert issubclass(settings, BaseServiceSettings)
        for name, field in base.items():
            if name not in ("port", "max_message_mb"):  # each service's own default
                assert fields[name].default == field.default, f"{settings.__name__}.{name}"
            assert fields[name].metadata == field.metadata, f"{settings.__name__}.{name} documents itself differently"
    ports = [settings().port for settings in SETTINGS]
    assert len(set(ports)) == 3 and 0 not in ports, "each service has its own default port"
    message_limits = {settings.__name__: settings().max_message_mb for settings in SETTINGS}
    assert len(set(message_limits.values())) == 3, f"each service's message limit is sized to its need: {message_limits}"


def test_a_second_server_on_a_port_in_use_fails_at_once(services, tmp_path):
    taken = services["searcher"].port
    settings = SearcherSettings(port=taken, data_dir=str(tmp_path / "other"), embedder_address="")
    with pytest.raises(PortUnavailable, match=f"127.0.0.1:{taken}.*--port"):
        SearcherServer(settings).start()


def test_a_port_in_use_ends_the_process_with_a_clear_message(services, tmp_path):
    taken = services["searcher"].port
    port_file = tmp_path / "searcher.port"
    result = subprocess.run(
        [sys.executable, "-m", "videosearch.searcher.server", "--port", str(taken), "--port-file", str(port_file),
         "--data-dir", str(tmp_path / "other"), "--embedder-address", ""],
        env=os.environ.copy(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{taken}" in result.stderr and "--port" in result.stderr
    assert not port_file.exists(), "no port file for a server that never listened"


@pytest.mark.parametrize("app", [EmbedderServer, SearcherServer, IndexerApp], ids=lambda app: app.name)
def test_the_base_settings_read_flags_and_variables_by_one_scheme(app, monkeypatch):
    prefix = f"VIDEOSEARCH_{app.name.upper()}"
    monkeypatch.setenv(f"{prefix}_GRACE_SECONDS", "7.5")
    monkeypatch.setenv(f"{prefix}_REFLECTION", "false")
    monkeypatch.setenv(f"{prefix}_MAX_MESSAGE_MB", "16")
    from_env = app.read_settings([])
    assert (from_env.grace_seconds, from_env.reflection, from_env.max_message_mb) == (7.5, False, 16)
    flags = app.read_settings(["--grace-seconds", "2", "--reflection", "--server-threads", "4", "--log-level", "debug"])
    assert (flags.grace_seconds, flags.reflection, flags.server_threads, flags.log_level) == (2.0, True, 4, "debug")


def test_the_cli_talks_to_the_services_on_their_default_ports(monkeypatch):
    from videosearch_cli.main import build_parser

    monkeypatch.delenv("VIDEOSEARCH_INDEXER_ADDRESS", raising=False)
    monkeypatch.delenv("VIDEOSEARCH_SEARCHER_ADDRESS", raising=False)
    args = build_parser().parse_args(["stats"])
    indexer, searcher = IndexerSettings(), SearcherSettings()
    assert args.indexer_address == f"{indexer.host}:{indexer.port}"
    assert args.searcher_address == f"{searcher.host}:{searcher.port}"


def test_the_launcher_starts_each_service_on_its_default_port():
    from videosearch.launcher import ClusterConfig

    config = ClusterConfig()
    assert (config.embedder_port, config.searcher_port, config.indexer_port) == tuple(s().port for s in SETTINGS)
    assert config.host == BaseServiceSettings().host and config.model == EmbedderSettings().model
    indexer = IndexerSettings()
    assert (indexer.embedder_address, SearcherSettings().embedder_address) == (f"{config.host}:{config.embedder_port}",) * 2
    assert indexer.searcher_address == f"{config.host}:{config.searcher_port}"


@pytest.mark.parametrize("module, args", [
    ("videosearch.searcher.server", ["--embedder-address", ""]),
    ("videosearch.indexer.server", ["--embedder-address", "127.0.0.1:1"]),
])
def test_a_service_process_listens_then_ends_cleanly_on_sigterm(module, args, tmp_path):
    """The shared lifecycle as a process: the port file is there once "listening on" is
    logged, health answers, and SIGTERM ends it with exit code 0."""
    root = ["--data-dir" if "searcher" in module else "--allowed-roots", str(tmp_path)]
    with service_process(module, [*root, *args], tmp_path / "service.port") as (process, address):
        with grpc.insecure_channel(address) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
            assert answer.status in (health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING)
        stop_with_sigterm(process)


def test_max_message_mb_reaches_the_server(tmp_path):
    import numpy as np

    from videosearch.common.grpc_server import insecure_channel
    from videosearch.common.tensors import to_tensor
    from videosearch.v1 import searcher_pb2, searcher_pb2_grpc

    app = SearcherServer.serve(SearcherSettings(port=0, data_dir=str(tmp_path / "s"), embedder_address="",
                                                max_message_mb=1))
    try:
        request = searcher_pb2.SearchRequest()
        request.embedding.vector.CopyFrom(to_tensor(np.ones(400_000, dtype=np.float32)))  # 1.6 MB
        with insecure_channel(app.address) as channel, pytest.raises(grpc.RpcError) as caught:
            searcher_pb2_grpc.SearcherServiceStub(channel).Search(request, timeout=30)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        app.stop(0)

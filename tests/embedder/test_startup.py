"""The server as a real process: a model that cannot load ends it with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys


def test_bad_model_exits_nonzero_saying_what_to_do(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    result = subprocess.run(
        [sys.executable, "-m", "videosearch.embedder.server", "--port", "0", "--model", "nobody/no-such-clip-model"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    message = result.stderr
    assert "cannot load the model 'nobody/no-such-clip-model'" in message
    assert "--model" in message and "HF_HOME" in message and "network access" in message


def test_server_process_serves_then_stops_cleanly_on_sigterm(tmp_path, tiny_clip_dir):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from videosearch.common.grpc_server import insecure_channel
    from videosearch.embedder.client import EmbedderClient

    from tests.service_process import service_process, stop_with_sigterm

    env = {**os.environ, "VIDEOSEARCH_EMBEDDER_DTYPE": "float32"}
    with service_process("videosearch.embedder.server", ["--model", str(tiny_clip_dir)], tmp_path / "embedder.port",
                         env) as (process, address):
        with insecure_channel(address) as channel:
            updates = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=120)
            assert any(u.status == health_pb2.HealthCheckResponse.SERVING for u in updates), "never SERVING"
        with EmbedderClient(address, timeout=30) as client:
            assert client.embed_texts(["a red circle"]).shape == (1, 16)
            assert client.model_info().compute_dtype == "float32"
        stop_with_sigterm(process)

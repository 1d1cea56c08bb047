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
    from videosearch.client.embedder import EmbedderClient

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


def _start_and_fail(model_dir, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    return subprocess.run(
        [sys.executable, "-m", "videosearch.embedder.server", "--port", "0", "--model", str(model_dir)],
        env=env, capture_output=True, text=True, timeout=180,
    )


def test_half_loaded_and_unknown_models_exit_2_with_one_line_and_no_traceback(tmp_path, tiny_family_dirs):
    """The process, as a user starts it: a Chinese-CLIP without its text tower, and a model of
    an unsupported architecture. Both end with exit code 2 and a message, never a traceback."""
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    half = tmp_path / "half"
    shutil.copytree(tiny_family_dirs["chinese-clip"], half)
    tensors = load_file(half / "model.safetensors")
    save_file({k: v for k, v in tensors.items() if not k.startswith("text_model.")}, half / "model.safetensors",
              metadata={"format": "pt"})
    unknown = tmp_path / "unknown"
    shutil.copytree(tiny_family_dirs["chinese-clip"], unknown)
    config = json.loads((unknown / "config.json").read_text())
    (unknown / "config.json").write_text(json.dumps({**config["text_config"], "model_type": "bert", "architectures": ["BertModel"]}))
    for model_dir, expected in [(half, "the chinese-clip model"), (unknown, "supported families: clip (CLIPModel")]:
        result = _start_and_fail(model_dir, tmp_path)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        lines = [line for line in result.stderr.splitlines() if "cannot start" in line]
        assert len(lines) == 1 and expected in lines[0], result.stderr[-2000:]


def test_chinese_clip_and_siglip_processes_start_with_dtype_auto_and_embed(tmp_path, tiny_family_dirs):
    """The two that failed before as a user starts them: Chinese-CLIP crashed at start-up with
    --dtype auto, SigLIP was refused; both now serve English, Chinese and an image."""
    import numpy as np
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from videosearch.common.grpc_server import insecure_channel
    from videosearch.client.embedder import EmbedderClient
    from videosearch.embedder.preprocessing import FramePreprocessor

    from tests.service_process import service_process, stop_with_sigterm

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "auto"}
    for family in ("chinese-clip", "siglip"):
        with service_process("videosearch.embedder.server", ["--model", str(tiny_family_dirs[family])],
                             tmp_path / f"{family}.port", env) as (process, address):
            with insecure_channel(address) as channel:
                updates = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=120)
                assert any(u.status == health_pb2.HealthCheckResponse.SERVING for u in updates), "never SERVING"
            with EmbedderClient(address, timeout=30) as client:
                info = client.model_info()
                assert info.family == family and info.dtype_reason.startswith("auto:")
                texts = client.embed_texts(["a red circle", "一个红色的圆"])
                frame = np.random.default_rng(0).integers(0, 256, (90, 160, 3), dtype=np.uint8)
                images = client.embed_images(FramePreprocessor(info.preprocessing)(frame)[None])
                assert texts.shape == (2, info.embedding_dim) and images.shape == (1, info.embedding_dim)
            stop_with_sigterm(process)

"""Real Embedder (tiny CLIP that a test can hold), Searcher and Indexer servers on port 0,
and the CLI run in-process against them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch_cli.main import main


class SignallingClip(ClipEmbedder):
    """The tiny CLIP whose image forward passes say that they began (a job reached its
    embedding stage) and then wait while a test holds ``gate`` shut (open otherwise)."""

    def __init__(self, *args, **kwargs) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        super().__init__(*args, **kwargs)

    def forward(self, pixel_values):
        self.entered.set()
        self.gate.wait()
        return super().forward(pixel_values)


@dataclass
class Services:
    embedder: str
    searcher: str
    indexer: str
    videos: Path  # an allowed root the tests may fill
    clip: SignallingClip

    @property
    def addresses(self) -> list[str]:
        return ["--indexer-address", self.indexer, "--searcher-address", self.searcher]


@pytest.fixture(scope="module")
def services(tiny_clip_dir, tmp_path_factory):
    clip = SignallingClip(str(tiny_clip_dir), device="cpu", dtype="float32")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), clip)
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    videos = tmp_path_factory.mktemp("videos")
    indexer = IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(videos),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1, rpc_timeout_s=30.0,
    )).start()
    yield Services(embedder.address, searcher.address, f"127.0.0.1:{indexer.port}", videos, clip)
    clip.gate.set()
    indexer.stop(0)
    searcher.stop(0)
    embedder.stop(0)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture()
def cli(services, capsys):
    """Runs `videosearch ARGS` in-process against the services; returns code and output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([*services.addresses, *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def make_video(path: Path, seed: int) -> Path:
    """A small video of its own content (two hard-cut scenes, 64x48)."""
    from videosearch.demo.videos import generate_demo_video

    path.parent.mkdir(parents=True, exist_ok=True)
    generate_demo_video(path, ["a red circle", "a blue square"], np.random.default_rng(seed), size=(64, 48),
                        frames_per_scene=(20, 20))
    path.with_suffix(".json").unlink()
    return path


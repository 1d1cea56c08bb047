"""Decoding alone, for bench/index/run.py: the Indexer's decoder reading every frame of a file
and doing nothing else (the floor under the indexing pipeline's wall time)."""

from __future__ import annotations

import time
from pathlib import Path

from videosearch.indexer.decoding import DecoderSettings
from videosearch.indexer.scenes import read_frame
from videosearch.indexer.video_file import open_video


def decode_only(path: Path, decoder: DecoderSettings = DecoderSettings()) -> dict:
    """Wall and CPU seconds to open ``path`` and decode every frame to BGR, as the Indexer does."""
    began, cpu = time.perf_counter(), time.process_time()
    capture, info, _ = open_video(path, decoder)
    frames = 1
    try:
        while read_frame(capture, frames - 1, info.frame_count) is not None:
            frames += 1
    finally:
        capture.release()
    return {"wall": time.perf_counter() - began, "cpu": time.process_time() - cpu, "frames": frames}

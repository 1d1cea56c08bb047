"""What each kind of frame costs to decode, and what decoding only each GOP's first seconds
costs: the measurements the sparse decode mode's rule was chosen from
(videosearch.indexer.media.gop_prefix; docs/performance.md, "Fast mode: goals and what it costs").

    python bench/index/decode_costs.py              # the fast-mode bench's H.264 file (made if missing)
    python bench/index/decode_costs.py --video F    # another file

The codec alone (PyAV, one decoder thread, no conversion to BGR): CPU seconds with each FFmpeg
``skip_frame`` setting (every frame; reference frames; I and P only; keyframes), the frames each
decodes by picture type, and the CPU of decoding the reference frames of only the first W seconds
after each keyframe (packets past them never reach the decoder), for a few W.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402,F401  (sets up sys.path for the project's packages)

SKIPS = {"every frame": "DEFAULT", "reference frames": "NONREF", "I and P only": "BIDIR", "keyframes": "NONKEY"}
WINDOWS = (0.5, 1.0, 2.0, 3.0, 4.0)
PICTURE_TYPES = {1: "I", 2: "P", 3: "B"}  # FFmpeg's AVPictureType (B: with skip_frame nonref, the reference B-frames)


def decode(path: Path, skip: str, window: float | None = None) -> tuple[float, collections.Counter]:
    """(CPU seconds, frames decoded by picture type) of one pass; ``window``: only the first
    ``window`` seconds after each keyframe (in decode order, stopping at the first frame shown later)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.codec_context.skip_frame = skip
        kinds: collections.Counter = collections.Counter()
        keyframe, open_gop = 0.0, True
        began = time.process_time()
        for packet in container.demux(stream):
            if window is not None and packet.pts is not None:
                shown = float(packet.pts * stream.time_base)
                if packet.is_keyframe:
                    keyframe, open_gop = shown, True
                elif not open_gop or shown - keyframe > window:
                    open_gop = False
                    continue
            for frame in packet.decode():
                kinds[PICTURE_TYPES.get(int(frame.pict_type), str(frame.pict_type))] += 1
        return time.process_time() - began, kinds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="default: the fast-mode bench's 120 s 720p H.264 file")
    args = parser.parse_args(argv)
    if args.video is None:
        from fast_mode import h264_file  # bench/index/fast_mode.py

        args.video = h264_file(120)
    full, kinds = decode(args.video, "DEFAULT")
    print(f"{args.video.name}: {sum(kinds.values())} frames, " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"{'decoded':<34}{'CPU s':>8}{'share':>8}{'less':>8}  frames by type")
    for name, skip in SKIPS.items():
        cpu, decoded = (full, kinds) if skip == "DEFAULT" else decode(args.video, skip)
        print(f"{name:<34}{cpu:>8.2f}{cpu / full:>8.0%}{full / cpu:>7.1f}x  "
              + ", ".join(f"{k} {v}" for k, v in sorted(decoded.items())))
    for window in WINDOWS:
        cpu, decoded = decode(args.video, "NONREF", window)
        print(f"{f'references, first {window:g} s of each GOP':<34}{cpu:>8.2f}{cpu / full:>8.0%}{full / cpu:>7.1f}x  "
              + ", ".join(f"{k} {v}" for k, v in sorted(decoded.items())))
    print(f"CPU: user + system of this process, one decoder thread; on {benchlib.machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which stretches of a chunk of audio hold sound worth a speech recognizer's time.

A 20 ms frame is voiced when its level is above the silence floor and within ``RELATIVE_DB`` of
the chunk's loud frames (its 95th percentile), or when it is a quieter frame crossing zero
often (a fricative: "s", "f", "th") next to voiced ones. Voiced frames closer than ``GAP_SECONDS``
join one stretch; each stretch is widened by ``PAD_SECONDS`` on both sides, so word edges are
not cut. Silence then costs the recognizer nothing, and words are never "heard" in it.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 320  # 20 ms
SILENCE_RMS = 100.0
"""Root-mean-square level (of 32,768) under which audio counts as silence, about -50 dBFS:
recognizers "hear" words in digital silence (pocketsphinx hears "i'm", Whisper thanks the
viewer), so silent audio is never sent to them."""
RELATIVE_DB = 35.0
GAP_SECONDS = 0.4
PAD_SECONDS = 0.25
MIN_SECONDS = 0.1
"""A voiced stretch shorter than this (a click) is dropped."""


def voiced_stretches(pcm: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) sample ranges of ``pcm`` (int16 mono at 16 kHz) to recognize, in order."""
    frames = len(pcm) // FRAME
    if frames == 0:
        return []
    audio = pcm[: frames * FRAME].astype(np.float32).reshape(frames, FRAME)
    level = np.sqrt(np.mean(np.square(audio), axis=1))
    loud = float(np.percentile(level, 95))
    if loud < SILENCE_RMS:
        return []
    floor = max(SILENCE_RMS, loud * 10 ** (-RELATIVE_DB / 20))
    crossings = np.mean(np.abs(np.diff(np.sign(audio), axis=1)) > 0, axis=1)
    voiced = (level >= floor) | ((level >= floor / 4) & (crossings > 0.3))
    gap, pad, shortest = (int(s * SAMPLE_RATE / FRAME) for s in (GAP_SECONDS, PAD_SECONDS, MIN_SECONDS))
    stretches: list[list[int]] = []
    for frame in np.flatnonzero(voiced).tolist():
        if stretches and frame - stretches[-1][1] <= gap:
            stretches[-1][1] = frame + 1
        else:
            stretches.append([frame, frame + 1])
    out: list[tuple[int, int]] = []
    for start, end in stretches:
        if end - start < shortest:
            continue
        start, end = max(0, start - pad) * FRAME, min(len(pcm), (end + pad) * FRAME)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out

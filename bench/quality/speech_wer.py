"""Word error rate of the Embedder's offline speech recognizer (pocketsphinx's shipped US English
model) on espeak-ng speech: what the demo's talking videos give it to hear.

    python bench/quality/speech_wer.py                   # the sentences below, two espeak-ng voices
    python bench/quality/speech_wer.py --write-docs

Each sentence is spoken by espeak-ng, resampled to 16 kHz mono as the Indexer sends audio, with
half a second of silence around it, and transcribed whole. WER = (substitutions + deletions +
insertions) / reference words, over all sentences (word-level edit distance, case folded).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402

from videosearch.embedder.speech import make_speech_recognizer  # noqa: E402

SECTION = "## Speech recognition word error rate"
SENTENCES = [
    "we will discuss the quarterly budget at the meeting",
    "the weather is sunny in the mountains today",
    "please open the report on page seven",
    "the train leaves the station at noon",
    "a red car is parked near the old bridge",
    "turn left at the next traffic light",
    "the children are playing football in the park",
    "our new product launches next week",
]
VOICES = [("en-us", 140), ("en", 130)]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[-1]


def pcm_of(wav: Path) -> np.ndarray:
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    with av.open(str(wav)) as container:
        frames = [out for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    frames += resampler.resample(None)
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)
    pad = np.zeros(8000, np.int16)
    return np.concatenate([pad, pcm, pad])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    recognizer = make_speech_recognizer("pocketsphinx")
    rows, errors, words, audio_s, busy_s = [], 0, 0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for voice, speed in VOICES:
            for i, sentence in enumerate(SENTENCES):
                wav = Path(tmp) / f"{voice}-{i}.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), sentence], check=True)
                pcm = pcm_of(wav)
                started = time.perf_counter()
                heard = " ".join(s.text for s in recognizer.transcribe(pcm))
                busy_s += time.perf_counter() - started
                audio_s += len(pcm) / 16000
                distance = edit_distance(sentence.lower().split(), heard.lower().split())
                errors, words = errors + distance, words + len(sentence.split())
                rows.append(f"| {voice} | {sentence} | {heard} | {distance} |")
                print(f"{voice}: {sentence!r} -> {heard!r} ({distance} errors)", flush=True)

    def render(command: str) -> str:
        return "\n".join([
            SECTION, "",
            f"`{command}` (pocketsphinx {recognizer.recognizer_id}, espeak-ng voices "
            f"{', '.join(f'{v} at {s} wpm' for v, s in VOICES)}; {benchlib.machine()}; the machine was shared with "
            "other sessions' work while it ran, so the speed is a lower bound).", "",
            f"**WER {errors / words:.1%}** ({errors} errors in {words} reference words); recognition ran at "
            f"{audio_s / busy_s:.2f}x real time.", "",
            "| voice | said | heard | errors |", "| --- | --- | --- | ---: |", *rows, "",
            "Real, weak: enough to find a distinctive word of a sentence some of the time, not a transcript. "
            "For real use, start the Embedder with `--speech-recognizer whisper:openai/whisper-small` (or any "
            "Hugging Face Whisper).",
        ])

    benchlib.publish(SECTION, "bench/quality/speech_wer.py", render, argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

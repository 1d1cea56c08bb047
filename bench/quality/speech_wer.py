"""Word error rate and speed of the Embedder's offline speech recognizers on espeak-ng speech
(what the demo's talking videos give them to hear), side by side: pocketsphinx's shipped US
English model and the demo recognizer the project trains on espeak-ng speech
(ctc:models/demo-speech, `make demo-speech-model`).

    python bench/quality/speech_wer.py                   # both recognizers, the sentences below
    python bench/quality/speech_wer.py --recognizers ctc:models/demo-speech
    python bench/quality/speech_wer.py --write-docs
    python bench/quality/speech_wer.py --development --recognizers ctc:models/demo-speech  # tuning set
    python bench/quality/speech_wer.py --codecs raw aac mp3 --bitrate 96   # other lossy tracks

Every sentence here is held out of the demo recognizer's training (videosearch.demo.train_speech
reads this file and never speaks them). Each is spoken by espeak-ng, resampled to 16 kHz mono as
the Indexer sends audio, with half a second of silence around it, and transcribed whole the way
the Embedder does (videosearch.embedder.speech.transcribe_chunk: voiced stretches only).
Each clip is heard twice by default (``--codecs raw aac``): ``raw``, espeak-ng's PCM as it comes;
``aac``, as a typical MP4's audio track reaches the recognizer: encoded by the bundled ffmpeg at
44.1 kHz, AAC 128 kbit/s (``--bitrate``, ``--sample-rate``) into an MP4, decoded and resampled to
16 kHz mono through PyAV as the Indexer does (videosearch.indexer.text.side_streams).
WER = (substitutions + deletions + insertions) / reference words, over all sentences (word-level
edit distance, case folded). Speed: seconds of audio per second of recognition on one thread.
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

from videosearch.demo.train_speech import word_errors  # noqa: E402
from videosearch.embedder.speech import make_speech_recognizer, transcribe_chunk  # noqa: E402

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
    "the museum opens early on sunday morning",
    "my brother bought a green bicycle yesterday",
    "the doctor will call you after lunch",
    "we need more paper for the printer",
    "the river flows slowly past the village",
    "she plays the piano every evening",
]
DEVELOPMENT_SENTENCES = [
    "the fossil collection is on the second floor",
    "my uncle grows carrots and onions",
    "the library closes at five in the afternoon",
    "we watched a movie about the ocean last night",
    "the teacher asked the students to read quietly",
    "there is a small cafe next to the hospital",
    "the airplane landed safely despite the storm",
    "please remember to bring your umbrella tomorrow",
    "the kitchen smells of fresh coffee and toast",
    "he repaired the broken window with a hammer",
    "the festival starts on friday evening",
    "our neighbours have a friendly black dog",
    "the company announced higher profits this quarter",
    "you can buy tickets at the entrance",
    "the elephant drank water from the lake",
    "she wrote a long letter to her cousin",
    "the bus was late because of heavy traffic",
    "they planted apple trees along the road",
    "the computer stopped working after the update",
    "the concert hall is behind the cathedral",
    "a yellow butterfly landed on the flower",
    "the restaurant serves delicious vegetable soup",
    "we climbed the tower to see the whole city",
    "the hotel room has a beautiful view of the harbour",
]
"""Other sentences (``--development``), never trained on either: the decoder's weights
(speech_ctc's PRIOR_WEIGHT, WORD_BONUS, MAX_JOIN, ...) are tuned on these, never on SENTENCES."""
VOICES = [("en-us", 140), ("en", 130)]
CODECS = {"aac": ("aac", "mp4"), "mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg")}
"""Lossy tracks ``--codecs`` may name: the bundled ffmpeg's encoder and the container it writes."""


def pcm_of(wav: Path) -> np.ndarray:
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    with av.open(str(wav)) as container:
        frames = [out for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    frames += resampler.resample(None)
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)
    pad = np.zeros(8000, np.int16)
    return np.concatenate([pad, pcm, pad])


def lossy(wav: Path, codec: str, bitrate_k: int, rate: int) -> Path:
    """``wav`` encoded as a video's audio track would be (``codec`` at ``bitrate_k`` kbit/s, ``rate`` Hz)."""
    from videosearch.demo.encoding import ffmpeg_exe

    encoder, container = CODECS[codec]
    out = wav.with_suffix(f".{codec}.{container}")
    rate = 48000 if codec == "opus" else rate  # Opus codes at 48 kHz only
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-ar", str(rate),
                    "-c:a", encoder, "-b:a", f"{bitrate_k}k", str(out)], check=True)
    return out


RECOGNIZERS = ("pocketsphinx", "ctc:models/demo-speech")


def measure(spec: str, clips: list[tuple[str, int, str, np.ndarray]]) -> dict:
    """WER, speed and the table rows of one recognizer over the spoken sentences."""
    import torch

    torch.set_num_threads(1)
    recognizer = make_speech_recognizer(spec)
    rows, errors, words, audio_s, busy_s = [], 0, 0, 0.0, 0.0
    for voice, speed, sentence, pcm in clips:
        started = time.perf_counter()
        heard = " ".join(s.text for s in transcribe_chunk(recognizer, pcm, "en"))
        busy_s += time.perf_counter() - started
        audio_s += len(pcm) / 16000
        distance = word_errors(sentence.lower().split(), heard.lower().split())
        errors, words = errors + distance, words + len(sentence.split())
        rows.append((voice, sentence, heard, distance))
        print(f"{spec} {voice}: {sentence!r} -> {heard!r} ({distance} errors)", flush=True)
    return {"id": recognizer.recognizer_id, "wer": errors / words, "errors": errors, "words": words,
            "speed": audio_s / busy_s, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--development", action="store_true", help="the tuning sentences instead (no docs)")
    parser.add_argument("--recognizers", nargs="+", default=list(RECOGNIZERS), help="specs to measure")
    parser.add_argument("--codecs", nargs="+", choices=["raw", *CODECS], default=["raw", "aac"],
                        help="how each clip reaches the recognizer: raw PCM, or through a lossy codec")
    parser.add_argument("--bitrate", type=int, default=128, help="kbit/s of the lossy codecs")
    parser.add_argument("--sample-rate", type=int, default=44100, help="Hz the lossy codecs encode at")
    args = parser.parse_args(argv)
    if args.development and args.write_docs:
        parser.error("--development measures the tuning sentences; the docs report the held-out ones")
    sentences = DEVELOPMENT_SENTENCES if args.development else SENTENCES
    clips: dict[str, list] = {codec: [] for codec in args.codecs}
    with tempfile.TemporaryDirectory() as tmp:
        for voice, speed in VOICES:
            for i, sentence in enumerate(sentences):
                wav = Path(tmp) / f"{voice}-{i}.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), sentence], check=True)
                for codec in args.codecs:
                    heard = wav if codec == "raw" else lossy(wav, codec, args.bitrate, args.sample_rate)
                    clips[codec].append((voice, speed, sentence, pcm_of(heard)))
    codecs = {codec: "raw PCM" if codec == "raw" else f"{codec.upper()} {args.bitrate}k" for codec in args.codecs}
    by_codec = {(spec, codec): measure(spec, clips[codec]) for spec in args.recognizers for codec in args.codecs}
    for (spec, codec), r in by_codec.items():
        print(f"{spec} {codecs[codec]}: WER {r['wer']:.1%} ({r['errors']} / {r['words']})", flush=True)

    def render(command: str) -> str:
        specs, first = list(args.recognizers), args.codecs[0]
        columns = [(spec, codec) for spec in specs for codec in args.codecs]
        return "\n".join([
            SECTION, "",
            f"`{command}` ({len(sentences)} sentences, none of them in the demo recognizer's training, spoken by "
            f"espeak-ng voices {', '.join(f'{v} at {s} wpm' for v, s in VOICES)}; recognition on one thread; "
            f"{benchlib.machine()}; the machine was shared with other sessions' work while it ran, so the speeds "
            "are lower bounds). Heard as "
            + "; ".join("raw: espeak-ng's PCM resampled to 16 kHz" if c == "raw" else
                        f"{codecs[c]}: encoded by the bundled ffmpeg at {args.sample_rate} Hz into an MP4/audio file, "
                        "decoded and resampled to 16 kHz through PyAV as the Indexer does" for c in args.codecs)
            + ".", "",
            "| recognizer | " + " | ".join(f"WER {codecs[c]} (errors / words)" for c in args.codecs)
            + f" | speed ({codecs[first]}, x real time, 1 thread) |",
            "| --- | " + " | ".join("---:" for _ in args.codecs) + " | ---: |",
            *(f"| {spec} ({by_codec[spec, first]['id']}) | " + " | ".join(
                f"**{by_codec[spec, c]['wer']:.1%}** ({by_codec[spec, c]['errors']} / {by_codec[spec, c]['words']})"
                for c in args.codecs) + f" | {by_codec[spec, first]['speed']:.2f}x |" for spec in specs), "",
            "| voice | said | " + " | ".join(f"heard by {spec} ({codecs[c]})" for spec, c in columns) + " |",
            "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
            *(f"| {voice} | {sentence} | " + " | ".join(
                f"{by_codec[key]['rows'][i][2]} ({by_codec[key]['rows'][i][3]})" for key in columns) + " |"
              for i, (voice, _, sentence, _) in enumerate(clips[first])), "",
            "pocketsphinx is real and weak on synthetic voices: enough to find a distinctive word some of the time. "
            "The demo recognizer (videosearch.embedder.speech_ctc, models/demo-speech/README.md) knows only "
            "espeak-ng's English voices, as the demo CLIP knows only the demo world. For real speech, start the "
            "Embedder with `--speech-recognizer whisper:openai/whisper-small` (or any Hugging Face Whisper).",
        ])

    benchlib.publish(SECTION, "bench/quality/speech_wer.py", render, argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU seconds of the speech path per minute of speech, part by part: the Indexer's audio decode,
resample and chunking (videosearch.indexer.text.side_streams), and a real Embedder's
TranscribeAudio (gRPC, the Embedder's main process and its speech worker process, where the
demo recognizer runs: the voiced-stretch gate, log-mel features, the network, the spelling search).

    python bench/index/speech_path.py                   # the text_cost video's audio, 3 rounds
    python bench/index/speech_path.py --seconds 60 --rounds 3 --speech-recognizer ctc:models/demo-speech

The audio is bench/index/text_cost.py's (espeak-ng en-us reading its sentences for the whole
length, AAC in an MP4), so the figures compare with that bench's speech job. Round 1 runs on a
fresh worker (every decoded word's spelling search new: a video of new words), later rounds
with the worker's caches warm (what text_cost's rounds, after its warm-up job, measure).
The worker's CPU is read from /proc (its own process); this process's CPU during the calls is
the Embedder's main side and the gRPC client together (served in process). Prints a table; the
machine is shared, so compare runs of this script made one after another.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib
import text_cost

from videosearch.client.embedder import EmbedderClient
from videosearch.embedder.server import serve
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.text.side_streams import SideStreams
from videosearch.indexer.text.spans import TextWarnings


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def decode_audio(video: Path) -> tuple[list, float]:
    """The chunks the Indexer would send, and the CPU seconds decoding them took here."""
    chunks: list = []
    started = time.process_time()
    side = SideStreams(
        subtitles=False, audio_sink=lambda s, p: chunks.append(p), warnings=TextWarnings(), max_audio_seconds=7200
    )
    side.read_file(str(video))
    return chunks, time.process_time() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--speech-recognizer", default="ctc:models/demo-speech")
    parser.add_argument("--work", default="", help="where the video is made (kept; default a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        video = work / f"speech-{args.seconds}s.mp4"
        if not video.exists():
            text_cost.talking_video(video, args.seconds, "slides")
        chunks, _ = decode_audio(video)
        minutes = sum(len(c) for c in chunks) / 16000 / 60
        settings = EmbedderSettings(
            port=0, model=str(benchlib.REPO / "models" / "demo-clip"), speech_recognizer=args.speech_recognizer
        )
        server = serve(settings)
        rows = []
        try:
            with EmbedderClient(f"localhost:{server.port}", timeout=600) as client:
                client.transcribe_audio(chunks[0][:16000], "en")  # the worker starts and loads
                host = server.servicer.speech
                for round_ in range(1, args.rounds + 1):
                    if round_ == 1:  # a fresh worker: nothing remembered
                        host.close()
                        host.__init__(args.speech_recognizer)
                        client.transcribe_audio(chunks[0][:16000], "en")
                    _, indexer_cpu = decode_audio(video)
                    worker = host._worker.pid
                    worker_before, here_before = process_cpu(worker), time.process_time()
                    heard = [client.transcribe_audio(chunk, "en") for chunk in chunks]
                    worker_cpu = process_cpu(worker) - worker_before
                    here_cpu = time.process_time() - here_before
                    words = sum(len(text.split()) for chunk in heard for _, _, text, _ in chunk)
                    rows.append((round_, indexer_cpu, here_cpu, worker_cpu, words))
        finally:
            server.stop(0)
    print(f"{args.speech_recognizer}, {minutes:.2f} min of speech; {benchlib.machine()}")
    print("| round | Indexer audio decode | Embedder main + gRPC | speech worker | total | words heard |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for round_, indexer_cpu, here_cpu, worker_cpu, words in rows:
        per = [x / minutes for x in (indexer_cpu, here_cpu, worker_cpu)]
        label = f"{round_} ({'fresh worker' if round_ == 1 else 'warm'})"
        print(f"| {label} | {per[0]:.3f} | {per[1]:.3f} | {per[2]:.3f} | {sum(per):.3f} | {words} |")
    print("(CPU s per minute of speech)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

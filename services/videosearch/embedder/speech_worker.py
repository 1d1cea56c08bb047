"""The speech recognizer's worker process (see videosearch.embedder.speech.SpeechHost): reads
requests from stdin and answers on stdout, one at a time, each a 4-byte big-endian length and
a pickle. Request: (pcm int16 little-endian bytes, language). Answer: ("ok", recognizer id,
[(start, end, text, language), ...]) or ("error", error kind, message). The recognizer loads on
the first request; its errors are answered, never raised out of the loop.

    python -m videosearch.embedder.speech_worker SPEC DEVICE
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
from typing import BinaryIO

log = logging.getLogger(__name__)


def send(pipe: BinaryIO, value) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(struct.pack(">I", len(data)) + data)
    pipe.flush()


def receive(pipe: BinaryIO):
    head = pipe.read(4)
    if len(head) < 4:
        raise EOFError("the other side closed the pipe")
    (size,) = struct.unpack(">I", head)
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return pickle.loads(data)  # between this process and its own parent only


NUMPY_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1"}
"""numpy's BLAS on one thread in the worker: its matrix products there are small (the demo
recognizer's mel filters), and its idle threads spin beside the image model and the Indexer's
decoding. Torch's own threads are the recognizer's to set (the demo recognizer uses one; a
Whisper on CPU keeps torch's default)."""


def start(spec: str, device: str) -> subprocess.Popen:
    """The worker process for ``spec`` (its log goes to the Embedder's stderr)."""
    return subprocess.Popen(
        [sys.executable, "-m", "videosearch.embedder.speech_worker", spec, device],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, **NUMPY_ONE_THREAD},
    )


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from videosearch.common.errors import VideoSearchError
    from videosearch.embedder.speech import make_speech_recognizer, transcribe_chunk

    spec, device = (argv if argv is not None else sys.argv[1:])[:2]
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library that prints must not corrupt the answers
    recognizer = None
    while True:
        try:
            pcm_bytes, language = receive(requests)
        except EOFError:
            return 0
        try:
            if recognizer is None:
                try:
                    recognizer = make_speech_recognizer(spec, device)
                except (ImportError, OSError, ValueError) as exc:
                    send(
                        answers,
                        (
                            "error",
                            "FailedPrecondition",
                            f"the speech recognizer {spec!r} could not be loaded "
                            f"({exc}); install it or start the embedder with another --speech-recognizer",
                        ),
                    )
                    continue
            segments = transcribe_chunk(recognizer, np.frombuffer(pcm_bytes, dtype="<i2"), language)
            send(
                answers,
                (
                    "ok",
                    recognizer.recognizer_id,
                    [(s.start_seconds, s.end_seconds, s.text, s.language) for s in segments],
                ),
            )
        except VideoSearchError as exc:
            send(answers, ("error", type(exc).__name__, str(exc)))
        except Exception as exc:  # one bad chunk must not end the worker
            log.exception("transcribing a chunk failed")
            send(
                answers,
                ("error", "Unavailable", f"the speech recognizer failed on this audio ({type(exc).__name__}: {exc})"),
            )


if __name__ == "__main__":
    sys.exit(main())

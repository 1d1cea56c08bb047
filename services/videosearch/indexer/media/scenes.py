"""One decode pass over a video that detects scenes and samples their frames together.

Each frame is decoded once, sequentially (no seeking). It goes to the scene detector
(a setting, see videosearch.indexer.media.detectors; by default PySceneDetect's ContentDetector,
fed frames downscaled exactly as PySceneDetect's SceneManager downscales them, so the cuts
equal ``scenedetect.detect(path, ContentDetector())``)
and, when the open scene's ``CandidateBuffer`` wants it, to the CLIP preprocessor (inline by
default; ``preprocess_workers`` > 0 hands frames to a thread pool instead, which measured slower
on 2 cores, see ``SceneReader.__init__``). When a
cut closes a scene its sample frames are picked from the buffer and the scene is yielded at
once, so a caller can embed scene N while scene N+1 is being decoded.

In a fast decode mode (``DecoderSettings.decode_mode`` reference or keyframes) the codec skips
frames: each decoded frame is numbered by its presentation time at the nominal rate, the
skipped ones get times between their decoded neighbours, and cuts, samples and moments fall
only on decoded frames, whose times stay their exact timestamps.

Every frame's presentation timestamp is recorded as it is decoded (``SceneReader.frame_times``),
and scene and sample times come from those, not from frame number / frame rate (see
videosearch.indexer.media.frame_times). Cut detection runs on the pixels as stored; only the frames
given to CLIP are stretched to the display aspect ratio (see FramePreprocessor).
"""

from __future__ import annotations

import bisect
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from videosearch.common.errors import Cancelled, InvalidArgument
from videosearch.common.timecode import PresentationTime
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media.decode_modes import DEFAULT_DECODE_MODE
from videosearch.indexer.media.decoding import DecoderSettings, hardware_decoding
from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.indexer.media.detectors import CutDetector, largest_shrink
from videosearch.indexer.media.frame_times import FrameTimes
from videosearch.embedder.preprocessing import FramePreprocessor, ReducedFrame
from videosearch.indexer.media.sampling import CandidateBuffer, SamplingPolicy, candidates_needed
from videosearch.indexer.media.timing import StageClock
from videosearch.indexer.media.pyav_capture import PyAVCapture
from videosearch.indexer.media.video_file import ProgressCallback, VideoInfo, open_video


DEFAULT_MAX_CANDIDATES = 384
"""Candidate frames kept per open scene: 384 crops of 224x224 are 58 MB, and keep the sample
positions exact for scenes up to 460 frames (K = 3); see videosearch.indexer.media.sampling."""

TEXT_FRAME_MAX_SIDE = 960
"""Long side of the frames kept for on-screen text: a caption 3% of a 1080p frame high is
still 16 px tall, enough for the OCR models; larger frames only cost detection time."""
TEXT_FRAME_MIN_SIDE = 640
"""On-screen text is never read from a frame shrunk (for CLIP, by the decoder or the candidate
reduction) below this long side, or below the video's own when that is smaller: a small CLIP
input (the demo's) let a 480x270 video reach OCR at 120x67, where a 20 px caption is unreadable."""

_DECODE_RETRIES = 5  # grabs to retry when a frame fails to decode before the container's end, as PySceneDetect


@dataclass(frozen=True)
class SampledScene:
    """A scene [start_frame, end_frame) and its sampled frames' pixels.

    ``pixels`` is uint8 RGB, shaped (len(sample_frames), 3, H, W) with H x W the model's input size
    (its crop or fixed size; with a patch budget, this video's aspect-kept size): the
    frames stretched to the display aspect ratio, resized (and cropped) as the model's
    image processor does, not yet rescaled or normalized (see
    videosearch.embedder.preprocessing.normalize). ``start``, ``end`` and ``sample_times`` are
    presentation times: of the first frame, of the next scene's first frame (the video's end
    for the last scene), and of each sampled frame. ``fps`` is the container's average rate.
    ``preview`` is the middle sampled frame as BGR pixels shrunk by a small integer factor (its
    short side still at least 1.5x CLIP's), when the decode pass kept it so (frames large enough
    to be shrunk, see FramePreprocessor.candidate); None otherwise, since smaller frames are kept
    only as CLIP crops. Thumbnails are made from it without reading the frame again.
    ``text_frames`` (when the reader keeps them, for on-screen text) are the sampled frames
    as BGR pixels, at most TEXT_FRAME_MAX_SIDE on their long side; empty otherwise.
    """

    index: int
    start_frame: int
    end_frame: int
    sample_frames: list[int]
    pixels: np.ndarray
    fps: Fraction
    start: PresentationTime
    end: PresentationTime
    sample_times: list[PresentationTime]
    preview: np.ndarray | None = None
    text_frames: tuple[np.ndarray, ...] = ()

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def start_seconds(self) -> float:
        return self.start.seconds

    @property
    def end_seconds(self) -> float:
        return self.end.seconds


def read_frame(
    capture: cv2.VideoCapture | PyAVCapture, last_index: int, container_count: int
) -> tuple[np.ndarray, float] | None:
    """The next frame and its presentation time in milliseconds, or None at the end."""
    grabbed = capture.grab()
    if not grabbed and last_index < container_count - 1:
        for _ in range(_DECODE_RETRIES):
            if grabbed := capture.grab():
                break
    if not grabbed:
        return None
    # The grabbed frame's timestamp (FFmpeg's best-effort PTS, from the stream's start).
    msec = capture.get(cv2.CAP_PROP_POS_MSEC)
    ok, frame = capture.retrieve()
    return (frame, msec) if ok and frame is not None else None  # (a retrieved frame is never None)


def decoder_shrink(preprocessor: FramePreprocessor, keep_text_frames: bool = False) -> Callable[[int, int], int]:
    """How far a decoder that can shrink frames may shrink them for the decode pass: as far as
    the pass shrinks candidate frames anyway, never below the size the cut detector works at,
    and, when on-screen text is read from them, never below TEXT_FRAME_MIN_SIDE."""

    def factor(height: int, width: int) -> int:
        shrink = min(preprocessor.reduction_factor(height, width), largest_shrink(height, width))
        if keep_text_frames:
            shrink = min(shrink, max(1, max(height, width) // TEXT_FRAME_MIN_SIDE))
        return shrink

    return factor


@dataclass(frozen=True)
class _KeptForText:
    """A candidate the buffer holds with the frame kept for on-screen text beside it (a
    ReducedFrame candidate large enough needs none: its pixels serve; see _readable)."""

    candidate: object
    frame: np.ndarray


def _readable(candidate: object, frame: np.ndarray) -> bool:
    """Whether a candidate's own pixels serve for on-screen text: a reduced frame no smaller than
    TEXT_FRAME_MIN_SIDE (or ``frame``, when that is smaller) on its long side."""
    if not isinstance(candidate, ReducedFrame):
        return False
    return max(candidate.pixels.shape[:2]) >= min(max(frame.shape[:2]), TEXT_FRAME_MIN_SIDE)


def text_frame(frame: np.ndarray, max_side: int = TEXT_FRAME_MAX_SIDE) -> np.ndarray:
    """``frame`` shrunk (area filter) so its long side is at most ``max_side``."""
    height, width = frame.shape[:2]
    factor = max(height, width) / max_side
    if factor <= 1:
        return frame
    return cv2.resize(
        frame, (max(1, round(width / factor)), max(1, round(height / factor))), interpolation=cv2.INTER_AREA
    )


class _DecodeAhead:
    """Decodes frames in a background thread, a few ahead of the consumer, so decoding
    (which releases the GIL) overlaps detection and preprocessing, as SceneManager does.
    Each frame comes with its presentation time in milliseconds."""

    _END = object()

    def __init__(
        self,
        capture: cv2.VideoCapture | PyAVCapture,
        first: np.ndarray,
        container_count: int,
        depth: int = 4,
        clock: StageClock | None = None,
    ) -> None:
        self._capture = capture
        self._clock = clock or StageClock()
        self._count = container_count
        self._queue: queue.Queue = queue.Queue(depth)
        # open_video grabbed nothing after frame 0, so the capture still reports its time.
        self._queue.put((first, capture.get(cv2.CAP_PROP_POS_MSEC)))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._decode, name="decode", daemon=True)
        self._thread.start()

    def _decode(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                with self._clock.timing("decode"):
                    item = read_frame(self._capture, index, self._count)
                if item is None:
                    break
                index += 1
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._error = exc
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(self._END, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> tuple[np.ndarray, float] | None:
        """The next (frame, presentation time in ms), or None at the end of the video."""
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)  # stay at the end if asked again
            if self._error is not None:
                raise self._error
            return None
        return item

    def close(self) -> None:
        """Stops the decoder thread and waits for it, so the capture can be released."""
        self._stop.set()
        self._thread.join()


class _DecodedNumbers:
    """The frame numbers of the frames decoded so far, ascending."""

    def __init__(self) -> None:
        self._numbers: list[int] = []

    @property
    def count(self) -> int:
        return len(self._numbers)

    def add(self, number: int) -> None:
        self._numbers.append(number)

    def nearest(self, frame: int) -> int:
        """The decoded frame nearest ``frame`` (the later one on a tie: a cut is the first
        frame of the new scene)."""
        i = bisect.bisect_left(self._numbers, frame)
        if i == len(self._numbers):
            return self._numbers[-1] if self._numbers else frame
        if i > 0 and frame - self._numbers[i - 1] < self._numbers[i] - frame:
            return self._numbers[i - 1]
        return self._numbers[i]


class SceneReader:
    """Iterating yields :class:`SampledScene` objects in order, each as soon as its end is known.

    Scenes cover the video without gaps (scene i is [cut i-1, cut i)); a video without cuts is
    one scene. The file is opened at the first ``next()``, so open/decode errors (MediaError:
    UnreadableFileError, NotAVideoError) are raised from iteration. ``should_stop()`` is
    checked before every frame; when it returns True iteration raises
    videosearch.common.errors.Cancelled. ``on_progress(frames_decoded, frames_total)`` is
    called every ``progress_every`` frames and once at the end, with ``frames_total`` the
    container's estimate until the end, then the decoded count.

    ``video_info`` is None before iteration starts, the container's description once the file
    is open, and carries the exact decoded frame count (``frame_count_exact``) from the moment
    the last scene is yielded. ``frame_times`` holds the presentation time of every frame
    decoded so far (all of them, and the video's end, once the last scene is yielded): the
    times of any frame number a caller derives from the scenes, such as a moment's bounds.
    A reader can be iterated once.

    Options: ``detector`` picks the cut detector and its parameters (default ContentDetector,
    threshold 27, scenes of 15 frames or more; see :mod:`videosearch.indexer.media.detectors`);
    ``sampling`` says how many frames per scene are sampled (default: one per second, 3 to 160;
    ``SamplingPolicy.fixed(k)`` for a fixed K; see :mod:`videosearch.indexer.media.sampling`);
    ``max_candidates`` bounds the frames buffered per open scene (default: what the sampling
    needs, at least 384); ``preprocess_workers`` threads preprocess frames (default 0: inline);
    ``resize_backend`` is "torch" (default when importable) or "pillow", see
    :mod:`videosearch.embedder.preprocessing`; ``decoder`` sets decoder threads and hardware
    decoding (:mod:`videosearch.indexer.media.decoding`); ``side_streams`` gets the subtitle and
    audio packets of the same read (PyAV decoder, see videosearch.indexer.text.side_streams);
    ``keep_text_frames`` keeps each sampled frame for on-screen text reading
    (SampledScene.text_frames).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        preprocessing: Preprocessing,
        detector: DetectorSettings = DetectorSettings(),
        sampling: SamplingPolicy = SamplingPolicy(),
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        max_candidates: int | None = None,
        preprocess_workers: int | None = None,
        resize_backend: str | None = None,
        progress_every: int = 30,
        decoder: DecoderSettings | None = None,
        side_streams=None,
        keep_text_frames: bool = False,
    ) -> None:
        # DetectorSettings validates itself when made; a SamplingPolicy when asked.
        try:
            sampling.validate()
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        needed = candidates_needed(sampling.min_samples, sampling.max_samples)
        if max_candidates is None:
            # As many as the job's sampling needs (every documented option value works), at
            # least the default; memory grows with the samples asked for, as the frames in flight do.
            max_candidates = max(DEFAULT_MAX_CANDIDATES, needed)
        if max_candidates < needed:
            raise InvalidArgument(
                f"max_candidates must be at least {needed} for these samples per scene, got {max_candidates}"
            )
        self.path = os.fspath(path)
        self.decoder = decoder or DecoderSettings()
        self._side_streams = side_streams  # subtitle and audio packets of the same read (PyAV)
        self._keep_text_frames = keep_text_frames
        self._preprocess = FramePreprocessor(preprocessing, backend=resize_backend)
        self.detector = detector
        self.sampling = sampling
        self._on_progress = on_progress
        self._should_stop = should_stop
        self._capacity = max_candidates
        if preprocess_workers is None:
            # Candidates are cheap now (an integer box shrink, see FramePreprocessor.candidate):
            # handing them to threads cost more than it saved (5 min of 720p: 17.3 s with two
            # workers, 16.5 s inline, on 2 cores).
            preprocess_workers = 0
        self._workers = max(0, preprocess_workers)
        self._progress_every = max(1, progress_every)
        self.video_info: VideoInfo | None = None
        self.frame_times: FrameTimes | None = None
        self.frames_decoded = 0  # frames the decoder delivered (fewer than frame_count in a fast decode mode)
        self.hardware_decoded = False  # whether a hardware decoder (NVDEC) decoded the video, known once open
        self._started = False
        self.clock = StageClock()

    def __iter__(self) -> Iterator[SampledScene]:
        if self._started:
            raise RuntimeError("a SceneReader can be iterated once; call iter_scenes again")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[SampledScene]:
        # A decoder that can shrink frames as it converts them (PyAV's shrink/lowres) delivers
        # them at the size the candidates are kept at, so they are candidates as they come.
        capture, info, frame = open_video(
            self.path,
            self.decoder,
            shrink=decoder_shrink(self._preprocess, self._keep_text_frames),
            side_streams=self._side_streams,
        )
        self.video_info = info
        self.hardware_decoded = hardware_decoding(capture)
        self.frame_times = times = FrameTimes(info.fps)
        # CLIP sees frames as players show them; the stretch is folded into its resize.
        self._preprocess = self._preprocess.for_pixel_aspect(info.pixel_aspect)
        frames: _DecodeAhead | None = None
        pool = ThreadPoolExecutor(self._workers, thread_name_prefix="preprocess") if self._workers else None
        in_flight: deque[Future] = deque()
        try:
            frames = _DecodeAhead(capture, frame, info.frame_count, clock=self.clock)
            item = frames.next()
            detector = CutDetector.from_settings(self.detector, info)
            sparse = self.decoder.decode_mode != DEFAULT_DECODE_MODE
            buffer = CandidateBuffer(
                0, self.sampling.in_frames(info.fps), capacity=self._capacity, max_lag=detector.max_lag, sparse=sparse
            )
            decoded = _DecodedNumbers()
            first_msec = item[1] if item is not None else 0.0
            scene_index = index = 0
            while item is not None:
                if self._should_stop is not None and self._should_stop():
                    raise Cancelled(
                        f"indexing {self.path} was cancelled after {index} frames; submit it again to redo it"
                    )
                frame, msec = item
                # Before any cut at this frame closes a scene ending here. A fast decode mode
                # skips frames: a decoded frame is numbered by its time at the nominal rate, so
                # frame numbers (scene lengths, min_scene_len, samples per second) keep their meaning.
                if sparse:
                    index = times.nominal_frame(msec, first_msec)
                    times.append_at(index, msec)
                else:
                    times.append(msec)
                decoded.add(index)
                with self.clock.timing("detect"):
                    cuts = detector.process(index, frame)
                if sparse:  # a cut between decoded frames (a fade's middle) moves to the nearest one
                    cuts = [decoded.nearest(cut) for cut in cuts]
                for cut in cuts:
                    if buffer.start < cut <= index:  # a cut is never before the open scene or in the future
                        following = buffer.split(cut)
                        yield self._close(buffer, cut, scene_index)
                        scene_index, buffer = scene_index + 1, following
                if buffer.wants(index):
                    candidate: np.ndarray | ReducedFrame | Future | _KeptForText
                    if frame.shape[:2] != (info.height, info.width):  # shrunk by the decoder
                        candidate = ReducedFrame(frame, info.height, info.width)
                    elif pool is None:
                        candidate = self._timed_preprocess(frame)
                    else:
                        candidate = pool.submit(self._timed_preprocess, frame)
                        in_flight.append(candidate)
                        # Bound the raw frames waiting in the pool (a 1080p frame is 6 MB).
                        while in_flight and (in_flight[0].done() or len(in_flight) > 2 * self._workers):
                            in_flight.popleft().result()
                    if self._keep_text_frames and not _readable(candidate, frame):
                        candidate = _KeptForText(candidate, text_frame(frame))
                    buffer.add(index, candidate)
                index += 1
                if self._on_progress is not None and decoded.count % self._progress_every == 0:
                    self._on_progress(index, max(info.frame_count, index))
                item = frames.next()
            last = index - 1
            if sparse and info.frame_count > index:
                # The frames skipped after the last decoded one: the last scene runs to the
                # video's end as the container counts it.
                times.extend_to(info.frame_count)
                index = info.frame_count
            self.frames_decoded = decoded.count
            for cut in detector.finish(last):
                if sparse:
                    cut = decoded.nearest(cut)
                if buffer.start < cut < index:
                    following = buffer.split(cut)
                    yield self._close(buffer, cut, scene_index)
                    scene_index, buffer = scene_index + 1, following
            self.video_info = info.with_decoded_count(index)
            if self._on_progress is not None:
                self._on_progress(index, index)
            yield self._close(buffer, index, scene_index)
        finally:
            if frames is not None:
                frames.close()
            capture.release()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _timed_preprocess(self, frame: np.ndarray):
        with self.clock.timing("preprocess"):
            return self._preprocess.candidate(frame)

    def _close(self, buffer: CandidateBuffer, end: int, scene_index: int) -> SampledScene:
        frames, items = buffer.pick(end)
        kept = [item.frame if isinstance(item, _KeptForText) else None for item in items]
        items = [item.candidate if isinstance(item, _KeptForText) else item for item in items]
        items = [item.result() if isinstance(item, Future) else item for item in items]
        text_frames: tuple[np.ndarray, ...] = ()
        if self._keep_text_frames:
            text_frames = tuple(
                frame if frame is not None else text_frame(item.pixels) for frame, item in zip(kept, items)
            )
        with self.clock.timing("preprocess"):
            crops = [self._preprocess.finish(item) for item in items]
        middle = items[len(items) // 2] if items else None
        pixels = np.stack(crops) if crops else np.zeros((0, *self._preprocess.output_shape), np.uint8)
        assert self.video_info is not None and self.frame_times is not None
        times = self.frame_times
        return SampledScene(
            scene_index,
            buffer.start,
            end,
            frames,
            pixels,
            self.video_info.fps,
            times.time(buffer.start),
            times.time(end),
            [times.time(f) for f in frames],
            middle.pixels if isinstance(middle, ReducedFrame) else None,
            text_frames,
        )


def detect_cuts(path: str | os.PathLike, detector: DetectorSettings = DetectorSettings()) -> list[int]:
    """Scene cuts only (frame numbers where a scene starts, 0 excluded), in one decode pass."""
    capture, info, frame = open_video(path)
    frames: _DecodeAhead | None = None
    try:
        frames = _DecodeAhead(capture, frame, info.frame_count)
        item = frames.next()
        cut_detector = CutDetector.from_settings(detector, info)
        cuts: list[int] = []
        index = 0
        while item is not None:
            cuts += cut_detector.process(index, item[0])
            index += 1
            item = frames.next()
        cuts += cut_detector.finish(index - 1)
        return sorted({cut for cut in cuts if 0 < cut < index})
    finally:
        if frames is not None:
            frames.close()
        capture.release()

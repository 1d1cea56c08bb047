"""Settings of the Indexer service (flags and VIDEOSEARCH_INDEXER_* variables)."""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.common import defaults
from videosearch.common.settings import (
    BaseServiceSettings,
    OutgoingCallSettings,
    load_settings,
    message_setting,
    port_setting,
    section,
    setting,
)
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media import decoding, moments, reuse
from videosearch.indexer.text import ocr_runtime
from videosearch.indexer.types import PUBLIC_NAMES, IndexOptions
from videosearch.indexer.jobs.limits import MediaLimits
from videosearch.indexer.library.watcher import WatchTimes

ENV_PREFIX = "VIDEOSEARCH_INDEXER"
# Each job option's default is written once, in IndexOptions; these settings only let
# an operator change the server's defaults for jobs that leave an option unset.
_JOB = IndexOptions()
_LIMITS = MediaLimits()
_DECODER = decoding.DecoderSettings()
_WATCH = WatchTimes()


@dataclass
class IndexerSettings(OutgoingCallSettings, BaseServiceSettings):
    port: int = port_setting(defaults.INDEXER_PORT)
    max_message_mb: int = message_setting(defaults.INDEXER_MAX_MESSAGE_MB)
    embedder_address: str = setting(defaults.EMBEDDER_ADDRESS, "host:port of the Embedder")
    searcher_address: str = setting(defaults.SEARCHER_ADDRESS, "host:port of the Searcher")
    allowed_roots: tuple[str, ...] = setting((".",), "comma-separated directories whose files may be indexed")
    allow_hard_links: bool = setting(
        False, "index files that have more than one hard link (refused by default: a hard link inside a root may be "
               "a file outside it)")
    workers: int = setting(2, "videos indexed at the same time")
    job_nice: int = setting(10, "nice value (0-19) of indexing's threads (decoding, hashing): searches on the same "
                                "machine get the cores first; 0 runs jobs at the process's priority")
    max_queued_jobs: int = setting(1000, "jobs waiting for a worker before submissions are refused")
    finished_jobs_kept: int = setting(1000, "finished jobs remembered for Get/List/Watch")
    detector: str = setting(_JOB.detector, "default cut detector: content, adaptive, threshold, hash or a+b")
    detector_threshold: float = setting(_JOB.detector_threshold, "default ContentDetector threshold")
    min_scene_frames: int = setting(_JOB.min_scene_len, "default shortest scene, in frames")
    frames_per_scene: int = setting(
        _JOB.frames_per_scene, "default fixed frames per scene (the article's 3); 0 samples through time")
    seconds_per_sample: float = setting(_JOB.seconds_per_sample, "default seconds of video per sampled frame")
    min_frames_per_scene: int = setting(_JOB.min_samples, "default fewest frames sampled per scene")
    max_frames_per_scene: int = setting(_JOB.max_samples, "default most frames sampled per scene")
    moment_min_scene_seconds: float = setting(
        moments.DEFAULT_MIN_SCENE_SECONDS, "scenes at least this long are split into moments where their frames change")
    moment_penalty: float = setting(moments.DEFAULT_PENALTY, "cost of one more moment in the change-point search")
    moment_min_frames: int = setting(moments.DEFAULT_MIN_SAMPLES, "fewest sampled frames in a moment")
    moment_merge_cosine: float = setting(
        moments.DEFAULT_MERGE_COSINE, "neighbouring moments more similar than this are merged")
    moment_join_cosine: float = setting(
        moments.DEFAULT_JOIN_COSINE, "moments this similar on both sides of a cut are joined (above 1: never)")
    moment_join_max_seconds: float = setting(
        moments.DEFAULT_JOIN_MAX_SECONDS, "... when the shorter of the two lasts less than this")
    embed_requests_in_flight: int = setting(4, "embedding requests one job keeps in flight while it decodes on")
    rpc_timeout_s: float = setting(120.0, "deadline of each call to the Embedder and the Searcher")
    dependency_retry_s: float = setting(
        60.0, "how long a job waits, retrying with backoff, for an Embedder or Searcher that is unavailable")
    state_dir: str = setting("", "directory of the Indexer's own job table (LevelDB): job ids survive a restart and "
                                 "unfinished jobs run again; empty keeps jobs in memory only")
    libraries: tuple[str, ...] = setting(
        (), "comma-separated folders to watch as libraries (added at start; kept across restarts with --state-dir)")
    library_rescan_s: float = setting(_WATCH.rescan_s, "seconds between full rescans of each library (network shares "
                                                       "send no change notifications)")
    library_settle_s: float = setting(_WATCH.settle_s, "a new or changed file in a library is indexed once its size "
                                                       "and time stayed the same this many seconds")
    max_libraries: int = setting(100, "most libraries one Indexer watches")
    location_cache_s: float = setting(30.0, "how old the Indexer's list of stored paths (for skipping unchanged files) "
                                            "may get before it lists again")
    max_frame_pixels: int = setting(_LIMITS.max_frame_pixels, "largest frame (width x height) a job may decode")
    max_duration_seconds: float = setting(_LIMITS.max_duration_seconds, "longest video a job may index, in seconds")
    max_file_bytes: int = setting(_LIMITS.max_file_bytes, "largest video file a job may read, in bytes")
    max_scenes: int = setting(_LIMITS.max_scenes, "most scenes one video may have")
    max_text_spans: int = setting(_LIMITS.max_text_spans, "most text spans (cues, phrases, on-screen lines) kept per video")
    max_span_chars: int = setting(_LIMITS.max_span_chars, "longest text span in characters (longer ones are cut)")
    max_subtitle_file_bytes: int = setting(_LIMITS.max_subtitle_file_bytes, "largest subtitle file read beside a video")
    max_speech_seconds: float = setting(_LIMITS.max_speech_seconds, "seconds of a video's audio transcribed at most")
    subtitles: bool = setting(_JOB.subtitles, "default: read subtitle streams and subtitle files beside videos")
    speech: bool = setting(_JOB.speech, "default: transcribe audio with the Embedder's speech recognizer")
    on_screen_text: bool = setting(_JOB.on_screen_text, "default: read on-screen text (OCR) in sampled frames")
    decode_mode: str = setting(_JOB.decode_mode, "default: which frames are decoded: all, reference (reference frames "
                                                 "only), sparse (keyframes and each GOP's first reference frames) "
                                                 "or keyframes (keyframes only, the fastest first pass)")
    speech_timeout_s: float = setting(
        600.0, "deadline of each call transcribing a chunk of audio (about 30 s) on the Embedder's speech recognizer")
    ocr_threads: int = setting(1, "inference threads of on-screen text reading (it runs beside decoding and embedding)")
    ocr_runtime: str = setting(
        ocr_runtime.DEFAULT_OCR_RUNTIME, "what runs the on-screen text models: auto (OpenVINO in bf16 where the CPU "
                                         "computes bf16 natively, else onnxruntime), openvino or onnxruntime")
    decoder_threads: int = setting(
        decoding.DEFAULT_DECODER_THREADS, "FFmpeg decoder threads per video (0: one per core, at most 16)")
    decoder_hw_acceleration: str = setting(
        decoding.DEFAULT_HW_ACCELERATION, "hardware video decoding: none; cuda (pyav: NVDEC, the Indexer refuses to start "
                                          "without a CUDA device); any (pyav: NVDEC where a CUDA device opens, opencv: "
                                          "whatever hardware decoder its FFmpeg finds; else software). Files NVDEC cannot "
                                          "decode are decoded in software")
    decoder_library: str = setting(decoding.DEFAULT_LIBRARY, "video decoder: pyav (FFmpeg through PyAV; the options "
                                                             "below need it), or opencv (the decoder PySceneDetect reads with)")
    decoder_thread_type: str = setting(decoding.DEFAULT_THREAD_TYPE, "pyav: FFmpeg threading, auto, frame or slice")
    decoder_skip_loop_filter: bool = setting(
        _DECODER.skip_loop_filter, "pyav: skip H.264's in-loop deblocking filter (faster; changes pixels and can move cuts)")
    decoder_lowres: bool = setting(_DECODER.lowres, "pyav: decode at 1/2..1/8 size where the codec can (MPEG-4 Part 2, "
                                                    "MPEG-2, MJPEG) and frames stay at least 1.5x CLIP's input")
    decoder_shrink: bool = setting(_DECODER.shrink, "pyav: shrink frames before their BGR conversion to the size the "
                                                    "decode pass keeps them at (an integer fraction, at least 1.5x CLIP's "
                                                    "input); opencv's full frames are shrunk by the pass after")
    embedding_reuse_difference: float = setting(
        reuse.DEFAULT_MAX_DIFFERENCE, "a sampled frame whose 16x16-grid cells all lie fewer 8-bit levels than this from "
                                      "its scene's last embedded frame reuses that embedding (0: embed every sample)")


def default_options(settings: IndexerSettings) -> IndexOptions:
    """The options of a job that sets none: the server's defaults (validated, so a bad flag fails at
    start). Every job option but ``force`` has a setting of its name, or of its flag's (PUBLIC_NAMES)."""
    return section(settings, IndexOptions, named=PUBLIC_NAMES, not_set=("force",)).validate()


def media_limits(settings: IndexerSettings) -> MediaLimits:
    return section(settings, MediaLimits).validate()


def decoder_settings(settings: IndexerSettings) -> decoding.DecoderSettings:
    # A job's decode mode is a job option (``decode_mode``), applied per job with for_mode().
    return section(settings, decoding.DecoderSettings, "decoder_", not_set=("decode_mode",))


def watch_times(settings: IndexerSettings) -> WatchTimes:
    if not settings.library_rescan_s > 0 or not settings.library_settle_s >= 0:
        raise InvalidArgument("--library-rescan-s must be above 0 and --library-settle-s at least 0")
    return section(settings, WatchTimes, "library_")


def reuse_max_difference(settings: IndexerSettings) -> float:
    try:
        return reuse.validate_max_difference(settings.embedding_reuse_difference)
    except ValueError as exc:
        raise InvalidArgument(f"--embedding-reuse-difference: {exc}") from None


def ocr_runtime_name(settings: IndexerSettings) -> str:
    try:
        return ocr_runtime.check_runtime(settings.ocr_runtime)
    except ValueError as exc:
        raise InvalidArgument(f"--ocr-runtime: {exc}") from None


def moment_settings(settings: IndexerSettings) -> moments.MomentSettings:
    # ``--moment-min-frames`` is the released flag of MomentSettings.min_samples (sampled frames).
    return section(settings, moments.MomentSettings, "moment_", named={"min_samples": "moment_min_frames"})


def load(argv=None) -> IndexerSettings:
    return load_settings(IndexerSettings, ENV_PREFIX, argv, description="videosearch Indexer service")

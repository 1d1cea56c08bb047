"""GPU decoding (NVDEC through PyAV, issue 26 part 3): the settings and their messages, the
Indexer's start-up check, the per-file fallback to software, NVDEC's NV12 frames converted on
the host (shrunk_bgr) and on the device (device_frames, run here on CPU tensors: the same
arithmetic), and the end-to-end ``any`` path. The tests marked ``needs a CUDA device`` decode on
NVDEC itself; the ones that need a machine without a device skip where one opens."""

from __future__ import annotations

import logging
import subprocess
import sys

import av
import cv2
import grpc
import numpy as np
import pytest
import torch
from av.codec.hwaccel import HWAccel
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc, searcher_pb2, searcher_pb2_grpc
from videosearch.common.errors import FailedPrecondition, InvalidArgument
from videosearch.indexer.media import device_frames, nvdec
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decode_modes import DECODE_MODES
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.pyav_capture import PyAVCapture, shrunk_bgr
from videosearch.indexer.media.scenes import SceneReader
from videosearch.indexer.settings import IndexerSettings, decoder_settings, load

from .helpers import clip_preprocessing

NO_DEVICE = "needs a CUDA device (none here)"
HAS_DEVICE = "a CUDA device opens here; this checks a machine without one"
SHARED = ["testvideo.mp4", "counter.mp4", "issue-134-rotate.mp4", "fades.mp4"]


def cuda_opens(path) -> bool:
    """Whether NVDEC opens ``path`` with no software fallback allowed."""
    try:
        av.open(str(path), hwaccel=HWAccel("cuda", allow_software_fallback=False)).close()
    except (av.FFmpegError, RuntimeError):
        return False
    return True


@pytest.fixture(scope="module")
def device(videos):
    if not cuda_opens(videos / "testvideo.mp4"):
        pytest.skip(NO_DEVICE)


@pytest.fixture(scope="module")
def no_device(videos):
    if cuda_opens(videos / "testvideo.mp4"):
        pytest.skip(HAS_DEVICE)


def sampled_frames(path, every: int = 40):
    """Every ``every``-th software-decoded frame of ``path`` (yuv420p, as decoded)."""
    with av.open(str(path)) as container:
        return [frame for i, frame in enumerate(container.decode(video=0)) if i % every == 0]


def scenes_of(path, decoder: DecoderSettings):
    reader = media.iter_scenes(path, preprocessing=clip_preprocessing(32), decoder=decoder)
    scenes = [(s.start_frame, s.end_frame, tuple(s.sample_frames)) for s in reader]
    return scenes, reader


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"hw_acceleration": "cuda"},
        {"hw_acceleration": "any"},
        {"hw_acceleration": "cuda", "decode_mode": "keyframes"},
        {"library": "opencv", "hw_acceleration": "any"},
    ],
)
def test_hardware_settings_that_apply_are_accepted(settings):
    assert DecoderSettings(**settings).hw_acceleration == settings["hw_acceleration"]


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"library": "opencv", "hw_acceleration": "cuda"},
            "needs the pyav decoder library; set the decoder library to pyav",
        ),
        ({"hw_acceleration": "nvdec"}, "unknown hardware acceleration 'nvdec'; use none, any or cuda"),
        ({"hw_acceleration": "cuda", "lowres": True}, "lowres act in FFmpeg's software decoder only"),
        (
            {"hw_acceleration": "any", "skip_loop_filter": True, "lowres": True},
            "skip_loop_filter, lowres act in FFmpeg's software decoder only.*set hardware acceleration none",
        ),
    ],
)
def test_hardware_settings_that_cannot_apply_say_what_to_do(settings, message):
    with pytest.raises(InvalidArgument, match=message):
        DecoderSettings(**settings)


def test_flag_and_environment_set_hardware_decoding(monkeypatch):
    assert decoder_settings(load(["--decoder-hw-acceleration", "cuda"])).hw_acceleration == "cuda"
    monkeypatch.setenv("VIDEOSEARCH_INDEXER_DECODER_HW_ACCELERATION", "any")
    assert decoder_settings(load([])).hw_acceleration == "any"


def test_fast_modes_keep_nvdec_and_leave_opencvs_hardware_decoder():
    assert DecoderSettings(hw_acceleration="cuda").for_mode("keyframes") == DecoderSettings(
        hw_acceleration="cuda", decode_mode="keyframes"
    )
    # OpenCV's "any" is not NVDEC (and was never checked for a device): a fast mode decodes in software.
    assert DecoderSettings(library="opencv", hw_acceleration="any").for_mode("sparse") == DecoderSettings(
        decode_mode="sparse", shrink=True
    )


# -- the start-up check, on a machine without a device --------------------------------------------


def test_start_up_check_refuses_cuda_and_turns_any_into_software(no_device, caplog):
    with pytest.raises(FailedPrecondition, match="no CUDA device opens for NVDEC.*--decoder-hw-acceleration any"):
        nvdec.for_this_machine(DecoderSettings(hw_acceleration="cuda"))
    with caplog.at_level(logging.INFO, logger=nvdec.__name__):
        assert nvdec.for_this_machine(DecoderSettings(hw_acceleration="any")) == DecoderSettings()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "no CUDA device opens for NVDEC" in caplog.records[0].getMessage()
    untouched = [DecoderSettings(), DecoderSettings(library="opencv", hw_acceleration="any")]
    assert [nvdec.for_this_machine(d) for d in untouched] == untouched


def test_indexer_process_refuses_to_start_with_cuda_and_no_device(no_device, tmp_path):
    """As a user starts it: exit code 2 and one line saying what to check, no traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "videosearch.indexer.server",
            "--port",
            "0",
            "--decoder-hw-acceleration",
            "cuda",
            "--allowed-roots",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "no CUDA device opens for NVDEC" in lines[0] and "nvidia-smi" in lines[0], lines[0]


def test_a_file_whose_device_does_not_open_is_decoded_in_software(no_device, videos):
    """The per-file fallback: NVDEC asked for, the device fails at the file's open, and the file
    is decoded in software with the same frames, saying why."""
    hardware = PyAVCapture(str(videos / "testvideo.mp4"), nvdec=True)
    software = PyAVCapture(str(videos / "testvideo.mp4"))
    try:
        assert np.array_equal(hardware.read_first(), software.read_first())
        assert not hardware.hardware and "the CUDA device did not open for this file" in hardware.software_reason
        for _ in range(30):
            (ok, a), (_, b) = hardware.read(), software.read()
            assert ok and np.array_equal(a, b)
    finally:
        hardware.release()
        software.release()
    reader = SceneReader(
        videos / "fades.mp4", preprocessing=clip_preprocessing(32), decoder=DecoderSettings(hw_acceleration="cuda")
    )
    assert sum(1 for _ in reader) > 0 and not reader.hardware_decoded


# -- end to end -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexers(tiny_clip_dir, tmp_path_factory, videos):
    """One Embedder (tiny CLIP), and per hardware setting an Indexer with a Searcher of its own."""
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    apps = [embedder]
    stubs = {}
    try:
        for setting in ("none", "any"):
            searcher = serve_searcher(
                SearcherSettings(
                    port=0,
                    data_dir=str(tmp_path_factory.mktemp(f"searcher-{setting}")),
                    embedder_address=embedder.address,
                    ann="none",
                )
            )
            apps.append(searcher)
            indexer = IndexerApp(
                IndexerSettings(
                    port=0,
                    allowed_roots=(str(videos),),
                    embedder_address=embedder.address,
                    searcher_address=searcher.address,
                    workers=1,
                    rpc_timeout_s=30.0,
                    decoder_hw_acceleration=setting,
                )
            ).start()
            apps.append(indexer)
            stubs[setting] = (f"127.0.0.1:{indexer.port}", searcher.address)
        yield stubs
    finally:
        for app in reversed(apps):
            app.stop(0)


def indexed(addresses, path):
    """(the finished job, the stored video) of ``path`` indexed through real services."""
    with grpc.insecure_channel(addresses[0]) as to_indexer, grpc.insecure_channel(addresses[1]) as to_searcher:
        indexer = indexer_pb2_grpc.IndexerServiceStub(to_indexer)
        job = indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(path))).job
        *_, last = indexer.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=240)
        assert last.job.state == indexer_pb2.JOB_STATE_SUCCEEDED, last.job.error_message
        stored = searcher_pb2_grpc.SearcherServiceStub(to_searcher).GetVideo(
            searcher_pb2.GetVideoRequest(video_id=last.job.video_id)
        )
        return last.job, stored


@pytest.mark.timeout(300)
def test_any_indexes_like_none_through_real_services(indexers, videos):
    """``any`` through a real Indexer, Embedder and Searcher: the same scenes as ``none``; the job
    says the GPU decoded it (stage_seconds' decode_hardware) exactly where a CUDA device opens."""
    soft_job, soft = indexed(indexers["none"], videos / "testvideo.mp4")
    job, video = indexed(indexers["any"], videos / "testvideo.mp4")
    scenes = [(s.start_frame, s.end_frame, s.start_seconds, s.end_seconds) for s in video.scenes]
    assert len(scenes) > 1 and scenes == [
        (s.start_frame, s.end_frame, s.start_seconds, s.end_seconds) for s in soft.scenes
    ]
    assert "decode_hardware" not in soft_job.stage_seconds
    assert ("decode_hardware" in job.stage_seconds) == (nvdec.device_error() is None)


# -- NVDEC's frames on the host and on the device (CPU tensors) -----------------------------------


@pytest.mark.parametrize("name", SHARED)
def test_nv12_frames_give_the_yuv420p_paths_pixels(videos, name):
    """NVDEC's 8-bit frames come downloaded as NV12: shrunk (every factor the decode pass uses,
    through cv2 or, for sizes it cannot pack, swscale) and at full size, they are pixel for pixel
    the frames the software decoder's yuv420p gives."""
    for frame in sampled_frames(videos / name):
        nv12 = frame.reformat(format="nv12")
        assert nv12.format.name == "nv12"
        for factor in (2, 3, 4, 5):
            size = (frame.width // factor, frame.height // factor)
            assert np.array_equal(shrunk_bgr(nv12, *size), shrunk_bgr(frame, *size)), (factor, size)
    capture = PyAVCapture(str(videos / name))
    try:
        software = capture.read_first()  # retrieve()'s full-size path (rotated as players show it)
        capture._frame = capture._frame.reformat(format="nv12")
        assert np.array_equal(capture.retrieve()[1], software)
    finally:
        capture.release()


def cv2_nv12_bgr(nv12: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """cv2's result for an NV12 frame: its Y, U and V planes shrunk with INTER_AREA, then COLOR_YUV2BGR_NV12."""
    planes = nv12.to_ndarray()
    h, w = nv12.height, nv12.width
    y = cv2.resize(planes[:h], (width, height), interpolation=cv2.INTER_AREA)
    u, v = cv2.split(planes[h:].reshape(h // 2, w // 2, 2))
    uv = cv2.merge([cv2.resize(c, (width // 2, height // 2), interpolation=cv2.INTER_AREA) for c in (u, v)])
    return cv2.cvtColor(np.vstack([y, uv.reshape(height // 2, width)]), cv2.COLOR_YUV2BGR_NV12)


@pytest.mark.parametrize("name", SHARED)
def test_device_conversion_matches_cv2_on_real_frames(videos, name):
    """device_frames' shrink and NV12 -> BGR on torch tensors (the planes over DLPack, as from
    NVDEC, here from host frames): equal to cv2's where the shrink factor divides the frame, within
    3 levels (measured: 3; mean under 0.002) where cv2 weighs partly covered pixels."""
    worst, mean = 0, 0.0
    for frame in sampled_frames(videos / name):
        nv12 = frame.reformat(format="nv12")
        luma, chroma = (torch.from_dlpack(plane) for plane in nv12.planes[:2])
        assert luma.shape == (frame.height, frame.width) and chroma.shape == (frame.height // 2, frame.width // 2, 2)
        for factor in (1, 2, 3, 4, 5):
            width, height = frame.width // factor, frame.height // factor
            if (width | height) & 1:
                continue
            got = device_frames.nv12_to_bgr(luma, chroma, width, height).numpy()
            difference = np.abs(got.astype(int) - cv2_nv12_bgr(nv12, width, height).astype(int))
            if frame.width % width == 0 and frame.height % height == 0:
                assert difference.max() == 0, (factor, width, height)
            worst, mean = max(worst, int(difference.max())), max(mean, float(difference.mean()))
            assert np.array_equal(device_frames.frame_bgr(nv12, width, height), got)
    assert worst <= 3 and mean < 0.002, (worst, mean)


def test_area_weights_are_cv2s_inter_area():
    for source, size in [(1280, 426), (720, 240), (544, 108), (9, 4)]:
        weights = device_frames.area_weights(source, size)
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
        line = np.random.default_rng(source).integers(0, 256, source).astype(np.uint8)
        expected = cv2.resize(line[None], (size, 1), interpolation=cv2.INTER_AREA)[0]
        assert np.abs(np.round(weights @ line.astype(np.float32)) - expected).max() <= 1


def test_odd_sizes_refuse_the_device_conversion():
    planes = torch.zeros((8, 8), dtype=torch.uint8), torch.zeros((4, 4, 2), dtype=torch.uint8)
    with pytest.raises(ValueError, match="even size"):
        device_frames.nv12_to_bgr(*planes, 3, 4)


# -- on a CUDA device ------------------------------------------------------------------------------


def test_nvdec_gives_softwares_cuts_and_frames(device, videos):
    """H.264 decoding is bit-exact by the standard, so NVDEC's pictures are the software
    decoder's; the BGR frames differ only by where they are converted (device_frames' bound)."""
    software, _ = scenes_of(videos / "testvideo.mp4", DecoderSettings())
    hardware, reader = scenes_of(videos / "testvideo.mp4", DecoderSettings(hw_acceleration="cuda"))
    assert reader.hardware_decoded
    assert [s[:2] for s in hardware] == [s[:2] for s in software]
    nv, sw = PyAVCapture(str(videos / "testvideo.mp4"), nvdec=True), PyAVCapture(str(videos / "testvideo.mp4"))
    try:
        first = nv.read_first()
        assert nv.hardware and not nv.software_reason
        pairs = [(first, sw.read_first())] + [(nv.read()[1], sw.read()[1]) for _ in range(60)]
    finally:
        nv.release()
        sw.release()
    difference = np.abs(np.stack([a for a, _ in pairs]).astype(int) - np.stack([b for _, b in pairs]).astype(int))
    # Converted on the device at full size: cv2's arithmetic against swscale's, measured on CPU
    # tensors of these 61 frames at max 4, mean 0.60 (downloaded NV12 frames: exactly equal).
    assert difference.max() <= 4 and difference.mean() < 1.5, (difference.max(), difference.mean())


@pytest.mark.parametrize("mode", DECODE_MODES[1:])
def test_decode_modes_under_nvdec(device, videos, mode):
    """skip_frame acts before the hardware sees a picture, and the sparse mode's drain and flush
    reset NVDEC as they reset software: the same frames are decoded, with the same cuts."""
    software, soft_reader = scenes_of(videos / "testvideo.mp4", DecoderSettings(decode_mode=mode))
    hardware, reader = scenes_of(videos / "testvideo.mp4", DecoderSettings(decode_mode=mode, hw_acceleration="cuda"))
    assert reader.hardware_decoded and reader.frames_decoded == soft_reader.frames_decoded
    assert hardware == software


def test_frames_stay_on_the_device_until_shrunk(device, videos):
    if not device_frames.available():
        pytest.skip("needs torch with CUDA in this process (NVDEC opens, torch has no CUDA)")
    capture = PyAVCapture(str(videos / "testvideo.mp4"), nvdec=True, shrink=lambda h, w: 2)
    try:
        first = capture.read_first()
        assert capture.hardware and capture._frame.format.name == "cuda" and device_frames.on_device(capture._frame)
        assert first.shape == (360, 640, 3)
        hw_frame = capture._frame
        downloaded = hw_frame.reformat(format="nv12")
        # The same arithmetic on the host: equal but for float sums rounding otherwise at a tie.
        assert np.abs(first.astype(int) - device_frames.frame_bgr(downloaded, 640, 360).astype(int)).max() <= 1
    finally:
        capture.release()


def test_a_stream_nvdec_cannot_decode_falls_back_per_file(device, tmp_path):
    """H.264 4:4:4 (High 4:4:4 Predictive): NVDEC has H.264 but not this profile; the file is
    decoded in software, with the software decoder's frames."""
    from .made_videos import ffmpeg_exe

    path = tmp_path / "yuv444.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            str(path),
        ],
        check=True,
    )
    nv, sw = PyAVCapture(str(path), nvdec=True), PyAVCapture(str(path))
    try:
        assert np.array_equal(nv.read_first(), sw.read_first())
        assert not nv.hardware and "NVDEC cannot decode this h264 stream" in nv.software_reason
    finally:
        nv.release()
        sw.release()


def test_decoding_bench_lists_nvdec_only_where_a_device_opens():
    from bench.index.decoding import NVDEC_VARIANT, variants

    listed = {v.name: v.settings for v in variants()}
    if nvdec.device_error() is None:
        assert listed[NVDEC_VARIANT].hw_acceleration == "cuda"
    else:
        assert NVDEC_VARIANT not in listed and all(s.hw_acceleration != "cuda" for s in listed.values())

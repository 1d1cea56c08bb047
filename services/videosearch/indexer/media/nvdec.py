"""NVDEC through PyAV: whether this machine has a CUDA device to decode on, checked once when
the Indexer starts (not per job), and what ``--decoder-hw-acceleration`` then means.

``cuda`` requires the device: without one the Indexer refuses to start, saying what to check.
``any`` uses it where it opens and decodes in software otherwise, saying so in one log line.
Either way a file NVDEC cannot decode (a codec or profile it lacks, 4:4:4, a size beyond its
limits) is decoded in software, that file only (videosearch.indexer.media.pyav_capture).

FFmpeg opens the device when a stream's decoder is set up, so without this check a missing
device would surface as an error opening each file (PyAV raises at ``av.open``, fallback or not).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace

import av
from av.codec.hwaccel import HWAccel, hwdevices_available

from videosearch.common.errors import FailedPrecondition
from videosearch.indexer.media.decoding import DecoderSettings

log = logging.getLogger(__name__)

DEVICE_TYPE = "cuda"
PROBE_CODEC = "h264"  # any decoder with an NVDEC configuration opens the device the same way


@functools.cache
def device_error() -> str | None:
    """Why no CUDA device opens for NVDEC in this process, or None when one does (cached: the
    answer does not change while the process runs, and opening a device costs a CUDA context)."""
    if DEVICE_TYPE not in hwdevices_available():
        return "this PyAV's FFmpeg was built without CUDA"
    try:
        HWAccel(DEVICE_TYPE, allow_software_fallback=False).create(av.Codec(PROBE_CODEC, "r"))
    except (av.FFmpegError, NotImplementedError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def for_this_machine(decoder: DecoderSettings) -> DecoderSettings:
    """``decoder`` as this machine can run it: unchanged unless it asks PyAV for hardware decoding
    and no CUDA device opens, where ``cuda`` raises FailedPrecondition and ``any`` becomes ``none``."""
    if decoder.library != "pyav" or decoder.hw_acceleration == "none":
        return decoder
    error = device_error()
    if error is None:
        log.info("decoder: NVDEC on the CUDA device (--decoder-hw-acceleration %s)", decoder.hw_acceleration)
        return decoder
    if decoder.hw_acceleration == "cuda":
        raise FailedPrecondition(
            f"--decoder-hw-acceleration cuda: no CUDA device opens for NVDEC ({error}); check that the NVIDIA "
            "driver is installed and the GPU is visible to this process (nvidia-smi, CUDA_VISIBLE_DEVICES, the "
            "container's --gpus), or start with --decoder-hw-acceleration any (software where no device opens) "
            "or none"
        )
    log.warning("--decoder-hw-acceleration any: no CUDA device opens for NVDEC (%s); decoding in software", error)
    return replace(decoder, hw_acceleration="none")

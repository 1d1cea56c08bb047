"""Frames NVDEC decoded, shrunk and converted to BGR on the GPU before they leave it.

With ``is_hw_owned`` PyAV leaves NVDEC's NV12 pictures in GPU memory and hands each plane over
DLPack; ``frame_bgr`` shrinks them there (an integer box, as cv2's INTER_AREA on the host) and
converts NV12 to BGR with the BT.601 limited-range integer matrix of cv2's COLOR_YUV2BGR_NV12, so
only the small BGR frame crosses PCIe (a 1080p frame shrunk 3x: 0.7 MB instead of 3.1 MB of NV12)
and the host does no colour conversion. The frames leave the GPU after the shrink: scene
detection runs on the host and the Embedder is another process reached over gRPC, so both need
host memory. ``nv12_to_bgr`` takes tensors on any device, which is how it is tested without a GPU
(tests/indexer_media/test_hw_decode.py, against cv2 on real decoded frames).

torch is imported only when used: an Indexer without torch, or without CUDA, gets NVDEC's frames
downloaded as NV12 and converted on the host (videosearch.indexer.media.pyav_capture.shrunk_bgr).
"""

from __future__ import annotations

import functools

import av
import numpy as np

# cv2's fixed-point BT.601 (color_yuv.simd.hpp): R = (CY (Y-16) + CVR (V-128) + 2^19) >> 20, etc.
CY, CUB, CUG, CVG, CVR, SHIFT = 1220542, 2116026, -409993, -852492, 1673527, 20


@functools.cache
def available() -> bool:
    """Whether frames can be converted on the GPU here: torch with a CUDA device (checked once)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def on_device(frame: av.VideoFrame) -> bool:
    """Whether ``frame`` is an NV12 picture in CUDA memory (NVDEC's, 8-bit), which frame_bgr takes."""
    return frame.format.name == "cuda" and frame.sw_format is not None and frame.sw_format.name == "nv12"


def frame_bgr(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """An NV12 ``frame`` (NVDEC's in CUDA memory, see on_device; or a host one) as a host BGR
    array of width x height (both even)."""
    import torch

    if frame.format.name == "cuda":
        # PyAV hands NVDEC's pictures over without a stream to order on: finish the decoder's
        # copies first (FFmpeg and torch share the device's primary context: this waits for both).
        torch.cuda.synchronize()
    luma, chroma = (torch.from_dlpack(plane) for plane in frame.planes[:2])
    return nv12_to_bgr(luma, chroma, width, height).cpu().numpy()


def nv12_to_bgr(luma, chroma, width: int, height: int):
    """NV12 planes, ``luma`` (H, W) and ``chroma`` (H/2, W/2, 2) uint8 tensors on any device, as a
    (height, width, 3) uint8 BGR tensor on the same device: each plane box-shrunk first, then
    cv2's COLOR_YUV2BGR_NV12 (chroma repeated over 2x2 pixels, the same integer arithmetic)."""
    import torch

    if width % 2 or height % 2:
        raise ValueError(f"NV12 needs an even size, got {width}x{height}")
    y = _shrunk(luma.unsqueeze(0), height, width)[0]
    uv = _shrunk(chroma.permute(2, 0, 1), height // 2, width // 2)
    uv = uv.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2) - 128
    u, v = uv[0], uv[1]
    y = (y - 16).clamp_(min=0) * CY + (1 << (SHIFT - 1))  # int32 throughout: at most 5.6e8
    bgr = torch.stack([y + CUB * u, y + CVG * v + CUG * u, y + CVR * v], dim=-1) >> SHIFT
    return bgr.clamp_(0, 255).to(torch.uint8)


def _shrunk(planes, height: int, width: int):
    """(C, H, W) uint8 planes area-shrunk to (C, height, width) int32 as cv2's INTER_AREA does:
    each output pixel the mean of the source area it covers, partly covered pixels weighted by
    their share (area_weights), as two matrix products; rounded as cv2 rounds (half up for its
    2x2 fast path, else half to even)."""
    import torch

    _, rows, cols = planes.shape
    mean = _weights(rows, height, planes.device) @ planes.float() @ _weights(cols, width, planes.device).T
    if (rows, cols) == (2 * height, 2 * width):
        return (mean + 0.5).floor_().to(torch.int32)
    return mean.round_().to(torch.int32)


@functools.lru_cache(maxsize=16)
def _weights(source: int, size: int, device):
    """area_weights on ``device``, made once per size: a video's frames all have one."""
    import torch

    return torch.from_numpy(area_weights(source, size)).to(device)


def area_weights(source: int, size: int) -> np.ndarray:
    """The (size, source) float32 matrix of cv2's INTER_AREA along one axis
    (imgproc/resize.cpp, computeResizeAreaTab): output pixel i averages source [i s, (i+1) s),
    s = source / size, edge pixels weighted by the part inside."""
    scale = source / size
    weights = np.zeros((size, source), np.float64)
    for i in range(size):
        start, end = i * scale, (i + 1) * scale
        cell = min(scale, source - start)
        first, last = int(np.ceil(start)), min(int(np.floor(end)), source - 1)
        first = min(first, last)
        if first - start > 1e-3:
            weights[i, first - 1] = (first - start) / cell
        weights[i, first:last] = 1 / cell
        if end - last > 1e-3:
            weights[i, last] = min(min(end - last, 1.0), cell) / cell
    return weights.astype(np.float32)

"""Dense tensors on the wire: raw little-endian bytes with a dtype and a shape.

Never pickled. Domain code sees numpy arrays; servicers use these helpers to
convert to and from the ``videosearch.v1.Tensor`` message.
"""

from __future__ import annotations

import math

import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.v1 import tensor_pb2

_TO_NUMPY: dict[tensor_pb2.DataType, np.dtype] = {
    tensor_pb2.DATA_TYPE_FLOAT32: np.dtype("<f4"),
    tensor_pb2.DATA_TYPE_FLOAT16: np.dtype("<f2"),
    tensor_pb2.DATA_TYPE_UINT8: np.dtype("u1"),
}
# More dimensions than any tensor of this API has (images are 4-D); bounds the shape check.
MAX_DIMENSIONS = 8
FLOATS = (tensor_pb2.DATA_TYPE_FLOAT32, tensor_pb2.DATA_TYPE_FLOAT16)
_TO_WIRE = {np.dtype(v).newbyteorder("="): k for k, v in _TO_NUMPY.items()}


def to_tensor(array: np.ndarray) -> tensor_pb2.Tensor:
    """Encodes an array as a Tensor message (converted to little-endian, C order)."""
    native = np.dtype(array.dtype).newbyteorder("=")
    if native not in _TO_WIRE:
        raise InvalidArgument(f"cannot send dtype {array.dtype}; use float32, float16 or uint8")
    wire_dtype = _TO_WIRE[native]
    data = np.ascontiguousarray(array, dtype=_TO_NUMPY[wire_dtype]).tobytes()
    return tensor_pb2.Tensor(dtype=wire_dtype, shape=list(array.shape), data=data)


def from_tensor(
    tensor: tensor_pb2.Tensor, *, name: str = "tensor", allowed: tuple[int, ...] | None = None
) -> np.ndarray:
    """Decodes a Tensor message into a read-only numpy array in native byte order.

    Raises InvalidArgument when the dtype is unset, unknown or not one of ``allowed``
    (when given), a dimension is negative, or the byte length does not match the shape.
    """
    dtype = _TO_NUMPY.get(tensor.dtype)
    if dtype is None:
        raise InvalidArgument(
            f"{name}.dtype is {tensor_pb2.DataType.Name(tensor.dtype) if tensor.dtype in tensor_pb2.DataType.values() else tensor.dtype}; "
            "set it to DATA_TYPE_FLOAT32, DATA_TYPE_FLOAT16 or DATA_TYPE_UINT8"
        )
    if allowed is not None and tensor.dtype not in allowed:
        names = " or ".join(tensor_pb2.DataType.Name(d) for d in allowed)
        raise InvalidArgument(f"{name}.dtype is {tensor_pb2.DataType.Name(tensor.dtype)} here; send {names}")
    shape = tuple(int(d) for d in tensor.shape)
    if not shape or len(shape) > MAX_DIMENSIONS or any(d < 0 for d in shape):
        raise InvalidArgument(
            f"{name}.shape {list(shape)} is invalid; give 1 to {MAX_DIMENSIONS} non-negative dimensions"
        )
    # Python integers: numpy's int64 product wraps around for shapes like [2**32, 2**32],
    # which could then "match" an empty buffer and fail later, deep inside numpy.
    expected = math.prod(shape) * dtype.itemsize
    if expected != len(tensor.data):
        raise InvalidArgument(
            f"{name}.data has {len(tensor.data)} bytes but shape {list(shape)} of {dtype.name} needs {expected}; "
            "send row-major little-endian bytes matching the shape"
        )
    array = np.frombuffer(tensor.data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)

"""SigLIP2 NaFlex inputs: an image resized within a patch budget becomes a padded sequence
of flattened patches, an attention mask over them and its patch grid, exactly as
transformers' Siglip2ImageProcessor builds them (``convert_image_to_patches`` then
``pad_along_first_dim``). Built in the Embedder from the uint8 pixels the caller resized (a
quarter of the bytes of float patches on the wire, and one place that knows the layout)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PatchImages:
    """A batch of NaFlex images: ``patches`` (N, max_num_patches, patch*patch*3) in the compute
    dtype, ``mask`` (N, max_num_patches) int32 (1 = a real patch), ``spatial_shapes`` (N, 2)
    int64 (patch rows, patch columns). ``shape`` is the patches' shape, so the batcher can
    count images as it does for pixel tensors."""

    patches: torch.Tensor
    mask: torch.Tensor
    spatial_shapes: torch.Tensor

    @property
    def shape(self) -> torch.Size:
        return self.patches.shape

    def __getitem__(self, index: slice) -> PatchImages:
        return PatchImages(self.patches[index], self.mask[index], self.spatial_shapes[index])

    @staticmethod
    def cat(parts: Sequence[PatchImages]) -> PatchImages:
        if len(parts) == 1:
            return parts[0]
        return PatchImages(
            torch.cat([p.patches for p in parts]),
            torch.cat([p.mask for p in parts]),
            torch.cat([p.spatial_shapes for p in parts]),
        )

    def to(self, device: torch.device, dtype: torch.dtype) -> PatchImages:
        return PatchImages(
            self.patches.to(device, dtype=dtype, non_blocking=True),
            self.mask.to(device),
            self.spatial_shapes.to(device),
        )


def patchify(values: torch.Tensor, patch_size: int, max_num_patches: int) -> PatchImages:
    """Normalized (N, 3, H, W) values, H and W multiples of ``patch_size`` -> PatchImages."""
    n, channels, height, width = values.shape
    rows, cols = height // patch_size, width // patch_size
    # (N, C, rows, p, cols, p) -> (N, rows, cols, p, p, C): the processor's order (patch rows,
    # then pixels within a patch, channels last).
    grid = values.reshape(n, channels, rows, patch_size, cols, patch_size).permute(0, 2, 4, 3, 5, 1)
    patches = torch.zeros((n, max_num_patches, patch_size * patch_size * channels), dtype=values.dtype)
    patches[:, : rows * cols] = grid.reshape(n, rows * cols, -1)
    mask = torch.zeros((n, max_num_patches), dtype=torch.int32)
    mask[:, : rows * cols] = 1
    shapes = torch.tensor([[rows, cols]] * n, dtype=torch.int64)
    return PatchImages(patches, mask, shapes)

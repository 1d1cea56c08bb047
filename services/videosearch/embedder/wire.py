"""ModelInfo <-> protobuf, shared by the servicer and the client."""

from __future__ import annotations

from videosearch.embedder.types import (
    RESIZE_FIXED,
    RESIZE_PATCH_BUDGET,
    RESIZE_SHORTEST_EDGE_CROP,
    SCORE_COSINE,
    SCORE_SIGMOID,
    ModelInfo,
    Preprocessing,
)
from videosearch.v1 import embedder_pb2

_RESIZE_TO_PROTO = {
    RESIZE_SHORTEST_EDGE_CROP: embedder_pb2.RESIZE_MODE_SHORTEST_EDGE_CROP,
    RESIZE_FIXED: embedder_pb2.RESIZE_MODE_FIXED,
    RESIZE_PATCH_BUDGET: embedder_pb2.RESIZE_MODE_PATCH_BUDGET,
}
# UNSPECIFIED comes from an Embedder older than the field: it always meant shortest edge + crop.
_RESIZE_FROM_PROTO = {v: k for k, v in _RESIZE_TO_PROTO.items()} | {
    embedder_pb2.RESIZE_MODE_UNSPECIFIED: RESIZE_SHORTEST_EDGE_CROP
}
_SCORE_TO_PROTO = {SCORE_COSINE: embedder_pb2.SCORE_KIND_COSINE, SCORE_SIGMOID: embedder_pb2.SCORE_KIND_SIGMOID}
_SCORE_FROM_PROTO = {v: k for k, v in _SCORE_TO_PROTO.items()} | {embedder_pb2.SCORE_KIND_UNSPECIFIED: SCORE_COSINE}


def model_info_to_proto(info: ModelInfo) -> embedder_pb2.GetModelInfoResponse:
    p = info.preprocessing
    return embedder_pb2.GetModelInfoResponse(
        model_id=info.model_id,
        embedding_dim=info.embedding_dim,
        preprocessing=embedder_pb2.ImagePreprocessing(
            shortest_edge=p.shortest_edge,
            crop_height=p.crop_height,
            crop_width=p.crop_width,
            rescale_factor=p.rescale_factor,
            image_mean=list(p.image_mean),
            image_std=list(p.image_std),
            resample=p.resample,
            resize_mode=_RESIZE_TO_PROTO[p.resize_mode],
            patch_size=p.patch_size,
            max_num_patches=p.max_num_patches,
        ),
        device=info.device,
        compute_dtype=info.compute_dtype,
        max_batch_size=info.max_batch_size,
        max_images_per_request=info.max_images_per_request,
        max_texts_per_request=info.max_texts_per_request,
        family=info.family,
        score_kind=_SCORE_TO_PROTO[info.score_kind],
        logit_scale=info.logit_scale,
        logit_bias=info.logit_bias,
        dtype_reason=info.dtype_reason,
        notice=info.notice,
    )


def model_info_from_proto(message: embedder_pb2.GetModelInfoResponse) -> ModelInfo:
    p = message.preprocessing
    return ModelInfo(
        model_id=message.model_id,
        embedding_dim=message.embedding_dim,
        preprocessing=Preprocessing(
            shortest_edge=p.shortest_edge,
            crop_height=p.crop_height,
            crop_width=p.crop_width,
            rescale_factor=p.rescale_factor,
            image_mean=tuple(p.image_mean),
            image_std=tuple(p.image_std),
            resample=p.resample,
            resize_mode=_RESIZE_FROM_PROTO.get(p.resize_mode, RESIZE_SHORTEST_EDGE_CROP),
            patch_size=p.patch_size,
            max_num_patches=p.max_num_patches,
        ),
        device=message.device,
        compute_dtype=message.compute_dtype,
        max_batch_size=message.max_batch_size,
        max_images_per_request=message.max_images_per_request,
        max_texts_per_request=message.max_texts_per_request,
        family=message.family or "clip",
        score_kind=_SCORE_FROM_PROTO.get(message.score_kind, SCORE_COSINE),
        logit_scale=message.logit_scale,
        logit_bias=message.logit_bias,
        dtype_reason=message.dtype_reason,
        notice=message.notice,
    )

"""ModelInfo <-> protobuf, shared by the servicer and the client."""

from __future__ import annotations

from videosearch.embedder.types import ModelInfo, Preprocessing
from videosearch.v1 import embedder_pb2


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
        ),
        device=info.device,
        compute_dtype=info.compute_dtype,
        max_batch_size=info.max_batch_size,
        max_images_per_request=info.max_images_per_request,
        max_texts_per_request=info.max_texts_per_request,
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
            image_mean=tuple(p.image_mean),  # type: ignore[arg-type]
            image_std=tuple(p.image_std),  # type: ignore[arg-type]
            resample=p.resample,
        ),
        device=message.device,
        compute_dtype=message.compute_dtype,
        max_batch_size=message.max_batch_size,
        max_images_per_request=message.max_images_per_request,
        max_texts_per_request=message.max_texts_per_request,
        notice=message.notice,
    )

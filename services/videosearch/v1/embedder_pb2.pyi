from videosearch.v1 import tensor_pb2 as _tensor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResizeMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESIZE_MODE_UNSPECIFIED: _ClassVar[ResizeMode]
    RESIZE_MODE_SHORTEST_EDGE_CROP: _ClassVar[ResizeMode]
    RESIZE_MODE_FIXED: _ClassVar[ResizeMode]
    RESIZE_MODE_PATCH_BUDGET: _ClassVar[ResizeMode]

class ScoreKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORE_KIND_UNSPECIFIED: _ClassVar[ScoreKind]
    SCORE_KIND_COSINE: _ClassVar[ScoreKind]
    SCORE_KIND_SIGMOID: _ClassVar[ScoreKind]
RESIZE_MODE_UNSPECIFIED: ResizeMode
RESIZE_MODE_SHORTEST_EDGE_CROP: ResizeMode
RESIZE_MODE_FIXED: ResizeMode
RESIZE_MODE_PATCH_BUDGET: ResizeMode
SCORE_KIND_UNSPECIFIED: ScoreKind
SCORE_KIND_COSINE: ScoreKind
SCORE_KIND_SIGMOID: ScoreKind

class ImagePreprocessing(_message.Message):
    __slots__ = ("shortest_edge", "crop_height", "crop_width", "rescale_factor", "image_mean", "image_std", "resample", "resize_mode", "patch_size", "max_num_patches")
    SHORTEST_EDGE_FIELD_NUMBER: _ClassVar[int]
    CROP_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    CROP_WIDTH_FIELD_NUMBER: _ClassVar[int]
    RESCALE_FACTOR_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MEAN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_STD_FIELD_NUMBER: _ClassVar[int]
    RESAMPLE_FIELD_NUMBER: _ClassVar[int]
    RESIZE_MODE_FIELD_NUMBER: _ClassVar[int]
    PATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_PATCHES_FIELD_NUMBER: _ClassVar[int]
    shortest_edge: int
    crop_height: int
    crop_width: int
    rescale_factor: float
    image_mean: _containers.RepeatedScalarFieldContainer[float]
    image_std: _containers.RepeatedScalarFieldContainer[float]
    resample: str
    resize_mode: ResizeMode
    patch_size: int
    max_num_patches: int
    def __init__(self, shortest_edge: _Optional[int] = ..., crop_height: _Optional[int] = ..., crop_width: _Optional[int] = ..., rescale_factor: _Optional[float] = ..., image_mean: _Optional[_Iterable[float]] = ..., image_std: _Optional[_Iterable[float]] = ..., resample: _Optional[str] = ..., resize_mode: _Optional[_Union[ResizeMode, str]] = ..., patch_size: _Optional[int] = ..., max_num_patches: _Optional[int] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelInfoResponse(_message.Message):
    __slots__ = ("model_id", "embedding_dim", "preprocessing", "device", "compute_dtype", "max_batch_size", "max_images_per_request", "max_texts_per_request", "family", "score_kind", "logit_scale", "logit_bias", "dtype_reason", "notice")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_DTYPE_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGES_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXTS_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    SCORE_KIND_FIELD_NUMBER: _ClassVar[int]
    LOGIT_SCALE_FIELD_NUMBER: _ClassVar[int]
    LOGIT_BIAS_FIELD_NUMBER: _ClassVar[int]
    DTYPE_REASON_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    embedding_dim: int
    preprocessing: ImagePreprocessing
    device: str
    compute_dtype: str
    max_batch_size: int
    max_images_per_request: int
    max_texts_per_request: int
    family: str
    score_kind: ScoreKind
    logit_scale: float
    logit_bias: float
    dtype_reason: str
    notice: str
    def __init__(self, model_id: _Optional[str] = ..., embedding_dim: _Optional[int] = ..., preprocessing: _Optional[_Union[ImagePreprocessing, _Mapping]] = ..., device: _Optional[str] = ..., compute_dtype: _Optional[str] = ..., max_batch_size: _Optional[int] = ..., max_images_per_request: _Optional[int] = ..., max_texts_per_request: _Optional[int] = ..., family: _Optional[str] = ..., score_kind: _Optional[_Union[ScoreKind, str]] = ..., logit_scale: _Optional[float] = ..., logit_bias: _Optional[float] = ..., dtype_reason: _Optional[str] = ..., notice: _Optional[str] = ...) -> None: ...

class EmbedImagesRequest(_message.Message):
    __slots__ = ("pixel_values",)
    PIXEL_VALUES_FIELD_NUMBER: _ClassVar[int]
    pixel_values: _tensor_pb2.Tensor
    def __init__(self, pixel_values: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ...) -> None: ...

class EmbedImagesResponse(_message.Message):
    __slots__ = ("embeddings", "model_id")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    embeddings: _tensor_pb2.Tensor
    model_id: str
    def __init__(self, embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., model_id: _Optional[str] = ...) -> None: ...

class StreamEmbedImagesRequest(_message.Message):
    __slots__ = ("pixel_values",)
    PIXEL_VALUES_FIELD_NUMBER: _ClassVar[int]
    pixel_values: _tensor_pb2.Tensor
    def __init__(self, pixel_values: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ...) -> None: ...

class StreamEmbedImagesResponse(_message.Message):
    __slots__ = ("embeddings", "model_id")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    embeddings: _tensor_pb2.Tensor
    model_id: str
    def __init__(self, embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., model_id: _Optional[str] = ...) -> None: ...

class EmbedTextsRequest(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ...) -> None: ...

class EmbedTextsResponse(_message.Message):
    __slots__ = ("embeddings", "model_id")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    embeddings: _tensor_pb2.Tensor
    model_id: str
    def __init__(self, embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., model_id: _Optional[str] = ...) -> None: ...

class TranscribeAudioRequest(_message.Message):
    __slots__ = ("pcm_s16le", "sample_rate_hertz", "language")
    PCM_S16LE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    pcm_s16le: bytes
    sample_rate_hertz: int
    language: str
    def __init__(self, pcm_s16le: _Optional[bytes] = ..., sample_rate_hertz: _Optional[int] = ..., language: _Optional[str] = ...) -> None: ...

class SpeechSegment(_message.Message):
    __slots__ = ("start_seconds", "end_seconds", "text", "language")
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    start_seconds: float
    end_seconds: float
    text: str
    language: str
    def __init__(self, start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., text: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class TranscribeAudioResponse(_message.Message):
    __slots__ = ("segments", "recognizer_id")
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZER_ID_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[SpeechSegment]
    recognizer_id: str
    def __init__(self, segments: _Optional[_Iterable[_Union[SpeechSegment, _Mapping]]] = ..., recognizer_id: _Optional[str] = ...) -> None: ...

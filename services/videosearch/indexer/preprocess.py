"""The Indexer's name for the CLIP preprocessing of frames, which now lives in
videosearch.embedder.preprocessing so that the Searcher prepares query images with the very
same code (see that module for what it does and why)."""

from videosearch.embedder.preprocessing import (  # noqa: F401  (re-exported)
    MAX_REDUCTION,
    REDUCE_HEADROOM,
    FramePreprocessor,
    ReducedFrame,
    default_backend,
    normalize,
    resized_size,
)

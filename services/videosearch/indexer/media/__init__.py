"""The Indexer's media engine: opening and decoding video files, cut detection, frame sampling,
moments, embedding reuse and thumbnails. Knows nothing of jobs or gRPC."""

"""Defaults shared by more than one module, each written once: the services'
host and ports (settings, launcher, CLI, docker-compose all derive from these),
the gRPC message limit (servers and clients) and the shutdown grace period."""

from __future__ import annotations

HOST = "127.0.0.1"
EMBEDDER_PORT = 50051
INDEXER_PORT = 50052
SEARCHER_PORT = 50053
EMBEDDER_ADDRESS = f"{HOST}:{EMBEDDER_PORT}"
INDEXER_ADDRESS = f"{HOST}:{INDEXER_PORT}"
SEARCHER_ADDRESS = f"{HOST}:{SEARCHER_PORT}"

# Large enough for a chunk of float32 224x224 frames; set on both ends on purpose
# so an oversized message fails loudly with RESOURCE_EXHAUSTED, not silently.
MAX_MESSAGE_MB = 64
# Seconds in-flight RPCs get to finish after SIGTERM; below the launcher's and
# Docker's kill timeouts (15 s and 10 s) so a service always ends on its own.
GRACE_SECONDS = 5.0
LOG_LEVEL = "info"
SERVER_THREADS = 32

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

# The largest message a service sends (a Searcher answer about a 20,000-scene video is the
# largest) and a client receives.
MAX_MESSAGE_MB = 64
# The largest request message each service receives (its --max-message-mb), sized to its
# largest legitimate request; over it RESOURCE_EXHAUSTED names the setting (docs/security.md).
# The Embedder: one full forward batch (32) of float32 224x224 frames is 18.4 MiB; the
# Embedder client splits its pixels into messages of at most this size.
EMBEDDER_MAX_MESSAGE_MB = 32
# The Searcher: an UpsertVideo of 20,000 scenes (the Indexer's --max-scenes) and as many
# moments with 768-d float32 embeddings is 61 MiB (tests/system/test_message_limits.py).
SEARCHER_MAX_MESSAGE_MB = 64
# The Indexer: a path and a job's options, a few KiB at most.
INDEXER_MAX_MESSAGE_MB = 1
# Calls one server runs at once, open streams included (an open WatchIndexJob costs a few KiB
# and no thread); beyond it RESOURCE_EXHAUSTED. Health checks are never refused.
MAX_CONCURRENT_RPCS = 1000
# Seconds in-flight RPCs get to finish after SIGTERM; below the launcher's and
# Docker's kill timeouts (15 s and 10 s) so a service always ends on its own.
GRACE_SECONDS = 5.0
LOG_LEVEL = "info"
SERVER_THREADS = 32
# Text spans (subtitle and transcript cues, on-screen text) one video may carry, and the
# characters of one span: the Indexer keeps within them (and warns about what it drops),
# the Searcher refuses more with INVALID_ARGUMENT. 50,000 cues is a cue every 2 s for a
# day of video; 2,000 characters is a long paragraph (a cue is a line or two).
MAX_TEXT_SPANS = 50_000
MAX_TEXT_SPAN_CHARS = 2_000
# Paths (Linux's NAME_MAX and PATH_MAX: a longer one fails with ENAMETOOLONG deep inside a
# call), checked by the Indexer at submit and by the Searcher on a video's locations.
MAX_PATH_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
# Places one video's content is known at (copies, moves): more is a caller's loop, and each
# one grows every GetVideo and ListVideos answer about that video.
MAX_LOCATIONS_PER_VIDEO = 100

"""Settings of the web gateway (flags override VIDEOSEARCH_WEB_* env vars).

The gateway is an HTTP server, not a gRPC service, so it does not extend
BaseServiceSettings (whose reflection, thread and TLS-serving fields have no meaning
here); it shares that file's loader and its ``setting`` helper, and takes the same
outgoing-call settings as the Indexer and the Searcher to reach the services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videosearch.common import defaults
from videosearch.common.settings import OutgoingCallSettings, load_settings, setting

ENV_PREFIX = "VIDEOSEARCH_WEB"
DEFAULT_PORT = 8080


@dataclass
class WebSettings(OutgoingCallSettings):
    host: str = setting(defaults.HOST, "interface to listen on (0.0.0.0 in containers; put TLS in front then)")
    port: int = setting(DEFAULT_PORT, "TCP port of the web page; 0 picks a free one (see --port-file)")
    port_file: str = setting("", "write the bound port to this file once listening (for launchers using port 0)")
    log_level: str = setting(defaults.LOG_LEVEL, "logging level: debug, info, warning or error")
    indexer_address: str = setting(defaults.INDEXER_ADDRESS, "host:port of the Indexer")
    searcher_address: str = setting(defaults.SEARCHER_ADDRESS, "host:port of the Searcher")
    rpc_timeout_s: float = setting(30.0, "seconds a unary call to a service may take")
    allowed_roots: tuple[str, ...] = setting(
        (".",),
        "comma-separated folders the page may list for indexing and play videos from: give the "
        "Indexer's --allowed-roots (the gateway runs where those files are)",
    )
    max_event_streams: int = setting(
        8, "job progress streams (server-sent events) open at once; more get 429 (Too Many Requests)"
    )
    watches_per_stream: int = setting(4, "jobs one progress stream follows at a time (each holds an Indexer stream)")
    results_per_page: int = setting(12, "videos on one page of search results (More results shows the next)")
    max_upload_mb: int = setting(8, "largest query image accepted, in MiB")
    secure_cookies: bool = setting(False, "mark cookies Secure (set it when the page is served over HTTPS)")

    def roots(self) -> tuple[Path, ...]:
        """The allowed roots, resolved (symbolic links followed) once."""
        return tuple(Path(root).resolve() for root in self.allowed_roots)


def load(argv: Sequence[str] | None = None) -> WebSettings:
    return load_settings(
        WebSettings,
        ENV_PREFIX,
        argv,
        description="videosearch web page: search, watch and index in a browser, through the services' gRPC API.",
    )

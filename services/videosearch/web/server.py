"""``videosearch-web``: the web page's HTTP server (uvicorn), with the services' process
conventions: settings from flags and VIDEOSEARCH_WEB_* variables, --port 0 with a port
file written once it listens, a clean exit on SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Sequence

import uvicorn

from videosearch.common.grpc_server import configure_logging, write_port_file
from videosearch.web import settings as web_settings
from videosearch.web.app import create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """Writes the port file only once the socket accepts connections, and exits 0 after a
    SIGTERM or Ctrl-C like the services (uvicorn raises the signal again once it stopped,
    which would end the process as killed by it)."""

    def __init__(self, config: uvicorn.Config, port_file: str, port: int) -> None:
        super().__init__(config)
        self._port_file, self._port = port_file, port

    @contextlib.contextmanager
    def capture_signals(self):
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {number: signal.signal(number, self.handle_exit) for number in handled}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self._port_file and self.started:
            write_port_file(self._port_file, self._port)


def main(argv: Sequence[str] | None = None) -> int:
    settings = web_settings.load(argv)
    configure_logging(settings.log_level)
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        print(
            f"videosearch-web: cannot listen on {settings.host}:{settings.port}: {exc.strerror}; "
            "pick another --port (0 chooses a free one)",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level=settings.log_level, access_log=False, timeout_graceful_shutdown=5
    )
    log.info(
        "web page at http://%s:%d/ (Indexer %s, Searcher %s)",
        settings.host,
        port,
        settings.indexer_address,
        settings.searcher_address,
    )
    _Server(config, settings.port_file, port).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

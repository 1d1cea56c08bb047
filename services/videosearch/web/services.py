"""How the gateway reaches the Indexer and the Searcher: the typed clients, one pair per
bearer token (the page's visitor may bring their own), and what a failed call means for
an HTTP answer."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass

import grpc

from videosearch.common import errors
from videosearch.common.security import ClientSecurity
from videosearch.client.indexer import IndexerClient
from videosearch.client.searcher import SearcherClient
from videosearch.web.settings import WebSettings

# Distinct tokens whose channels stay open; a visitor past that gets fresh ones.
CLIENTS_KEPT = 16


@dataclass(frozen=True)
class _VisitorSecurity(ClientSecurity):
    """The gateway's own TLS settings with the visitor's token in place of the token file."""

    visitor_token: str = ""

    def token(self) -> str | None:
        return self.visitor_token or super().token()


@dataclass
class ServiceClients:
    indexer: IndexerClient
    searcher: SearcherClient

    def close(self) -> None:
        self.indexer.close()
        self.searcher.close()


class Services:
    """Typed clients by visitor token ("" for none: the gateway's own --client-token-file, if any)."""

    def __init__(self, settings: WebSettings) -> None:
        self._settings = settings
        self._security = settings.client_security()
        self._clients: OrderedDict[str, ServiceClients] = OrderedDict()
        self._lock = threading.Lock()

    def for_token(self, token: str = "") -> ServiceClients:
        with self._lock:
            clients = self._clients.get(token)
            if clients is None:
                security = _VisitorSecurity(**dataclasses.asdict(self._security), visitor_token=token)
                timeout = self._settings.rpc_timeout_s
                clients = ServiceClients(
                    IndexerClient(self._settings.indexer_address, timeout, security=security),
                    SearcherClient(self._settings.searcher_address, timeout, security=security),
                )
                self._clients[token] = clients
                if len(self._clients) > CLIENTS_KEPT:
                    # Dropped, not closed: a request of that visitor may still be using them
                    # (closing would cancel its call); they are freed once nothing holds them.
                    self._clients.popitem(last=False)
            self._clients.move_to_end(token)
            return clients

    def close(self) -> None:
        with self._lock:
            for clients in self._clients.values():
                clients.close()
            self._clients.clear()


def grpc_code(error: BaseException) -> grpc.StatusCode | None:
    """The status code of the RPC a domain error came from (the clients chain it)."""
    cause = error.__cause__
    return cause.code() if isinstance(cause, grpc.RpcError) and hasattr(cause, "code") else None


_HTTP_STATUS = {
    errors.InvalidArgument: 400,
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.FailedPrecondition: 409,
    errors.ResourceExhausted: 429,
    errors.Unavailable: 503,
    errors.Cancelled: 409,
}


@dataclass(frozen=True)
class Failure:
    """A failed call as the page shows it."""

    http_status: int
    message: str
    needs_token: bool = False  # the services want a (better) token: the page offers the token form
    unimplemented: bool = False  # the services do not offer this yet


def failure_of(error: errors.VideoSearchError) -> Failure:
    code = grpc_code(error)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return Failure(401, f"The services need a token: {error}", needs_token=True)
    if code is grpc.StatusCode.PERMISSION_DENIED and "token" in str(error):
        return Failure(403, f"Your token may not do this: {error}", needs_token=True)
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return Failure(501, f"The services do not offer this yet (UNIMPLEMENTED): {error}", unimplemented=True)
    return Failure(_HTTP_STATUS.get(type(error), 502), str(error))

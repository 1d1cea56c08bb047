"""One model behind several Embedder replicas: a replica serving another model is refused,
and its vectors never reach a collection or a query.

Two checks, because gRPC's ``round_robin`` picks the replica per call and the Python API
cannot take one replica out of its rotation:

1. **At the first question** the client asks every replica its address stands for (each
   entry of a list, each record of a ``dns:///`` name) on a channel of its own, and pins
   the model most of them serve (a tie: the first address's). Each replica with another
   model gets one ERROR log line naming its address and model.
2. **On every response.** Every Embedder response carries the id of the model that produced
   it. A response of another model than the pinned one is dropped, logged (at most once a
   minute per model) and the call is sent again: round_robin hands it to the next replica.
   This also catches a replica swapped for another model after the start. When every try
   answers with another model the call fails with FAILED_PRECONDITION, so a job stops
   rather than mixing two models' vectors.

The pin lasts as long as the client: to move the whole fleet to a new model, restart the
Indexers and Searchers after the Embedders (the Indexer also refuses a job whose collection
holds another model).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import grpc

from videosearch.common.errors import FailedPrecondition, Unavailable
from videosearch.common.grpc_client import domain_error
from videosearch.common.grpc_server import CHANNEL_OPTIONS
from videosearch.common.replicas import replica_addresses, split_addresses
from videosearch.common.security import ClientSecurity
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

log = logging.getLogger(__name__)

_LOG_EVERY_S = 60.0


def ask_each_replica(address: str, security: ClientSecurity, timeout: float) -> tuple[dict[str, str], int]:
    """({replica address: model id} for every replica behind ``address`` that answers
    (one still loading its model does not), how many replicas there are)."""
    answers: dict[str, str] = {}
    failures: list[str] = []
    server_name = split_addresses(address)[0].split("/")[-1].rpartition(":")[0]
    replicas = replica_addresses(address)
    for replica in replicas:
        options: list[tuple[str, object]] = list(CHANNEL_OPTIONS)
        if security.tls_ca_file and not security.tls_server_name:
            # The replica is dialled by its IP; its certificate names the service.
            options.append(("grpc.ssl_target_name_override", server_name))
        with security.channel(replica, options) as channel:
            try:
                response = embedder_pb2_grpc.EmbedderServiceStub(channel).GetModelInfo(
                    embedder_pb2.GetModelInfoRequest(), timeout=timeout
                )
            except grpc.RpcError as err:
                failures.append(str(domain_error(err, "embedder", replica)))
                continue
        answers[replica] = response.model_id
    if not answers:
        raise Unavailable("no embedder replica answered: " + "; ".join(failures))
    return answers, len(replicas)


def majority_model(answers: dict[str, str]) -> str:
    """The model most replicas serve; a tie goes to the first address's."""
    counts = Counter(answers.values())
    best = max(counts.values())
    return next(model for model in answers.values() if counts[model] == best)


class ModelPin:
    """The one model id a client accepts from its Embedder replicas."""

    def __init__(self, address: str, security: ClientSecurity, timeout: float) -> None:
        self._address = address
        self._security = security
        self._timeout = timeout
        self._lock = threading.Lock()
        self._model: str | None = None
        self.attempts = 1
        self._last_logged: dict[str, float] = {}

    @property
    def model(self) -> str:
        """The pinned model id, asking every replica the first time."""
        with self._lock:
            if self._model is None:
                answers, replicas = ask_each_replica(self._address, self._security, self._timeout)
                self._model = majority_model(answers)
                # Each replica once, and room for the others' turns taken by concurrent callers.
                self.attempts = 2 * replicas + 1
                for replica, model in answers.items():
                    if model != self._model:
                        log.error(
                            "embedder replica %s serves model %r, not %r like %d of %d replicas: refused; "
                            "restart it with --model %s",
                            replica,
                            model,
                            self._model,
                            sum(m == self._model for m in answers.values()),
                            len(answers),
                            self._model,
                        )
            return self._model

    def forget(self) -> None:
        """Ask the replicas again next time (a restarted lone Embedder may host another model)."""
        with self._lock:
            self._model = None

    def checked(self, call: Callable[[], tuple[object, str]], *, resend_unavailable: bool = False):
        """``call()`` -> (result, model id), sent again while another model answers.
        ``resend_unavailable``: also send again a call whose replica went away (for streams,
        which the channel's retry policy does not cover; embedding is idempotent)."""
        pinned = self.model
        for attempt in range(self.attempts):
            try:
                result, model = call()
            except Unavailable:
                if not resend_unavailable or attempt + 1 == self.attempts:
                    raise
                log.warning("an embedder replica behind %s went away during a stream; sending it again", self._address)
                continue
            if model == pinned:
                return result
            self._refused(model, pinned)
        raise FailedPrecondition(
            f"every one of {self.attempts} tries to the embedder at {self._address} was answered by another model "
            f"than {pinned!r} (the model this client pinned at its start); give every replica the same --model, "
            "then restart this service"
        )

    def _refused(self, model: str, pinned: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_logged.get(model, -_LOG_EVERY_S) < _LOG_EVERY_S:
                return
            self._last_logged[model] = now
        log.error(
            "an embedder replica behind %s answered with model %r, not the pinned %r: its answer was "
            "dropped and the call sent to another replica; restart that replica with --model %s",
            self._address,
            model,
            pinned,
            pinned,
        )

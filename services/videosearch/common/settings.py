"""One settings object per service, filled from defaults, then environment
variables, then command-line flags (flags win).

A field ``max_wait_ms`` of the Embedder's settings reads the environment
variable ``VIDEOSEARCH_EMBEDDER_MAX_WAIT_MS`` and the flag ``--max-wait-ms``.
Every service's settings extend :class:`BaseServiceSettings`, so the fields every
server has (host, port, port file, log level, grace period, message limit,
reflection) are spelled, documented and defaulted once.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from videosearch.common import defaults
from videosearch.common.log_format import LOG_FORMATS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def env_name(prefix: str, field_name: str) -> str:
    """The environment variable that sets a field, e.g. VIDEOSEARCH_EMBEDDER_PORT."""
    return f"{prefix}_{field_name.upper()}"


def env_names(cls: type, prefix: str) -> dict[str, str]:
    """Every environment variable a settings class reads, by field name."""
    return {f.name: env_name(prefix, f.name) for f in dataclasses.fields(cls)}


def _parse(kind: type, text: str):
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if typing.get_origin(kind) is tuple:
        (item,) = {a for a in typing.get_args(kind) if a is not Ellipsis}
        return tuple(_parse(item, part) for part in text.split(",") if part.strip())
    return kind(text)


def _parser(kind: type) -> Callable[[str], object]:
    def parse(text: str) -> object:
        return _parse(kind, text)

    parse.__name__ = "<lambda>"  # argparse says "invalid <lambda> value: ..." for a bad flag, as it did before
    return parse


def load_settings(cls: type[T], prefix: str, argv: Sequence[str] | None = None, description: str = "") -> T:
    """Builds ``cls`` (a dataclass whose fields carry a ``help`` metadata entry)."""
    hints = typing.get_type_hints(cls)
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    values = {}
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        default = field.default if field.default_factory is dataclasses.MISSING else field.default_factory()
        env = env_name(prefix, field.name)
        if env in os.environ:
            try:
                default = _parse(kind, os.environ[env])
            except ValueError as exc:
                parser.error(f"environment variable {env}: {exc}")
        values[field.name] = default
        flag = "--" + field.name.replace("_", "-")
        help_text = f"{field.metadata.get('help', '')} [env {env}]"
        if kind is bool:
            parser.add_argument(
                flag, dest=field.name, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        else:
            parser.add_argument(flag, dest=field.name, type=_parser(kind), default=default, help=help_text)
    parsed = parser.parse_args(argv)
    try:
        return cls(**vars(parsed))
    except ValueError as exc:  # a value no field allows: a usage error, before anything starts
        parser.error(str(exc))


def section(
    settings: object,
    kind: type[T],
    prefix: str = "",
    *,
    named: Mapping[str, str] | None = None,
    not_set: Collection[str] = (),
) -> T:
    """The dataclass ``kind`` (one part of a service: its decoder, its limits, ...) filled from the
    settings' fields named ``prefix`` + its field's name, or as ``named`` says where a released
    flag is called otherwise; ``not_set`` names the fields no setting fills (they keep ``kind``'s
    default). So each such setting is relayed by its name, not by hand, and a field the settings
    lack is an error here, not a silent default."""
    named = named or {}
    values = {}
    for field in dataclasses.fields(kind):
        if field.name in not_set:
            continue
        name = named.get(field.name, prefix + field.name)
        if not hasattr(settings, name):
            raise AttributeError(f"{type(settings).__name__} has no field {name!r} for {kind.__name__}.{field.name}")
        values[field.name] = getattr(settings, name)
    return kind(**values)


def setting(default, help: str):  # `help` mirrors argparse's name
    """A settings field with a default and a help text."""
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def port_setting(default: int):
    """The ``port`` field, with the one service-specific default it has."""
    return setting(default, "TCP port to listen on; 0 picks a free one (see --port-file)")


def message_setting(default_mb: int):
    """The ``max_message_mb`` field, sized to the service's largest legitimate request."""
    return setting(
        default_mb,
        "largest request message received, in MiB; over it RESOURCE_EXHAUSTED "
        "(docs/security.md says what each service's default admits)",
    )


@dataclasses.dataclass
class BaseServiceSettings:
    """What every gRPC service of videosearch is configured with. Subclasses add their
    own fields and override ``port`` with :func:`port_setting`."""

    host: str = setting(defaults.HOST, "interface to listen on (0.0.0.0 in containers)")
    port: int = port_setting(0)
    port_file: str = setting("", "write the bound port to this file once listening (for launchers using port 0)")
    log_level: str = setting(defaults.LOG_LEVEL, "logging level: debug, info, warning or error")
    log_format: str = setting("text", "log line format: text, or json (one object a line, for log collectors)")
    grace_seconds: float = setting(defaults.GRACE_SECONDS, "seconds in-flight RPCs get to finish after SIGTERM")
    max_message_mb: int = message_setting(defaults.MAX_MESSAGE_MB)
    reflection: bool = setting(True, "answer gRPC server reflection (v1 and v1alpha), e.g. for grpcurl")
    server_threads: int = setting(
        defaults.SERVER_THREADS, "threads running RPCs that compute or wait on a lock (open streams use none)"
    )
    max_concurrent_rpcs: int = setting(
        defaults.MAX_CONCURRENT_RPCS,
        "calls handled at once, open streams included; beyond it RESOURCE_EXHAUSTED (health checks are never refused)",
    )
    max_concurrent_rpcs_per_token: int = setting(
        0,
        "calls one bearer token may have running at once (with --tokens-file), so that one caller cannot take "
        "every slot; 0: half of --max-concurrent-rpcs",
    )
    tls_cert_file: str = setting(
        "", "PEM certificate (chain) to serve TLS with; empty serves plaintext (docs/security.md)"
    )
    tls_key_file: str = setting("", "PEM private key of --tls-cert-file")
    tls_client_ca_file: str = setting(
        "", "PEM CA whose client certificates are required (mutual TLS); empty: none asked"
    )
    tokens_file: str = setting(
        "",
        "file of '<read|write> sha256:<hex>' lines; set, every RPC but health needs a bearer "
        "token with the method's role (docs/security.md); empty: no authentication",
    )
    metrics_port: int = setting(-1, "serve Prometheus metrics at http://<host>:<port>/metrics; -1 off, 0 picks a port")

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise ValueError(f"--log-format must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}")

    def server_tls(self):
        """The server's TLS settings, or None for plaintext; half a pair is a start-up error."""
        from videosearch.common.security import ServerTls

        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("give both --tls-cert-file and --tls-key-file, or neither")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
        return ServerTls(self.tls_cert_file, self.tls_key_file, self.tls_client_ca_file) if self.tls_cert_file else None


@dataclasses.dataclass
class OutgoingCallSettings:
    """How a service reaches the others (the Indexer and the Searcher call the Embedder,
    the Indexer the Searcher): TLS and a bearer token, mirroring the servers' settings."""

    client_tls_ca_file: str = setting("", "PEM CA that signed the other services' certificates; empty: plaintext")
    client_tls_cert_file: str = setting("", "PEM client certificate for services that require mutual TLS")
    client_tls_key_file: str = setting("", "PEM private key of --client-tls-cert-file")
    client_token_file: str = setting("", "file holding the bearer token to send to the other services")

    def client_security(self):
        from videosearch.common.security import ClientSecurity

        return ClientSecurity(
            self.client_tls_ca_file, self.client_tls_cert_file, self.client_tls_key_file, self.client_token_file
        )

"""How the CLI reaches the services: plaintext by default; TLS and a bearer token when the
global flags (or their environment variables) name the files (docs/security.md)."""

from __future__ import annotations

import argparse

from videosearch.common.security import ClientSecurity
from videosearch.client.indexer import IndexerClient
from videosearch.client.fleet import IndexerFleet, connect_indexers


def security_of(args: argparse.Namespace) -> ClientSecurity:
    return ClientSecurity(
        tls_ca_file=getattr(args, "tls_ca_file", ""),
        tls_cert_file=getattr(args, "tls_cert_file", ""),
        tls_key_file=getattr(args, "tls_key_file", ""),
        token_file=getattr(args, "token_file", ""),
    )


def indexers_of(args: argparse.Namespace) -> IndexerClient | IndexerFleet:
    """The Indexer at --indexer-address, or a fleet when it lists several (spread over, listed as one)."""
    return connect_indexers(args.indexer_address, security=security_of(args))

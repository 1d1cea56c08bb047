"""Opaque page tokens for every List RPC.

A token is url-safe base64 (no padding) of a small binary record::

    version (1 byte) | request digest (8 bytes) | masked position (JSON) | checksum (8 bytes)

The *position* is where the next page starts (the last key or sequence number a
page returned). It is masked (XOR with a SHAKE-256 stream of the version and digest)
so that decoding the base64 does not show a key either: callers see nothing they
could come to depend on, and cannot build a token. The
*request digest* binds the token to the RPC and to the request's other
parameters (filters), so a token handed to another RPC or reused with different
filters is refused instead of silently paging something else. The page size is
deliberately not bound: AIP-158 lets a caller change it between pages, and the
positions here are keys, not offsets, so a new size cannot skip or repeat items.
The *checksum* catches truncated, altered or hand-made tokens, and a token must be exactly
the text handed out (base64 that decodes the same, with padding or skipped characters
added, is refused). It is not a
secret-keyed MAC: tokens carry no authority, the services check every position
anyway; it only keeps the contract that a token is whatever we handed out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Generic, TypeVar

from videosearch.common.errors import InvalidArgument

_VERSION = 1
_DIGEST_BYTES = 8
_CHECKSUM_BYTES = 8
# Separates these hashes from any other use of BLAKE2b in the project.
_PERSON = b"vs-page-token"

Position = int | str
P = TypeVar("P", int, str)


def _hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_BYTES, person=_PERSON).digest()


def _mask(data: bytes, head: bytes) -> bytes:
    """XORs ``data`` with a stream derived from the token's head (applying it twice undoes it)."""
    stream = hashlib.shake_256(_PERSON + head).digest(len(data))
    return bytes(a ^ b for a, b in zip(data, stream))


def _request_digest(rpc: str, params: Mapping[str, object]) -> bytes:
    return _hash(json.dumps([rpc, dict(sorted(params.items()))], separators=(",", ":")).encode())


class PageTokens(Generic[P]):
    """Makes and reads the page tokens of one List RPC (``rpc`` names it, e.g. "ListVideos"),
    whose positions are all of ``position_type`` (int or str)."""

    def __init__(self, rpc: str, position_type: type[P]) -> None:
        self.rpc = rpc
        self.position_type: type[P] = position_type

    def encode(self, position: P, **params: object) -> str:
        """The token for the page starting after ``position``, for a request with these filter ``params``."""
        head = bytes([_VERSION]) + _request_digest(self.rpc, params)
        body = head + _mask(json.dumps(position).encode(), head)
        return base64.urlsafe_b64encode(body + _hash(body)).rstrip(b"=").decode("ascii")

    def decode(self, token: str, **params: object) -> P | None:
        """The position a token stands for; None for the empty token (the first page).

        Raises InvalidArgument when the token is malformed, altered, from another
        version, or was made for another RPC or other filter ``params``.
        """
        if not token:
            return None
        restart = f"start again without a page_token, or pass {self.rpc}'s next_page_token unchanged"
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
        except (binascii.Error, UnicodeError, ValueError):
            raw = b""
        body, checksum = raw[:-_CHECKSUM_BYTES], raw[-_CHECKSUM_BYTES:]
        # The whole token, not only the bytes base64 could recover from it: padding or other
        # characters the decoder skips ("…====", a newline) make another token, refused.
        canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == token
        if not canonical or len(body) <= 1 + _DIGEST_BYTES or _hash(body) != checksum or body[0] != _VERSION:
            raise InvalidArgument(f"page_token is malformed or was altered; {restart}")
        if body[1 : 1 + _DIGEST_BYTES] != _request_digest(self.rpc, params):
            raise InvalidArgument(
                f"page_token was made for another request (another RPC or other filters than this {self.rpc}); {restart}"
            )
        try:
            position = json.loads(_mask(body[1 + _DIGEST_BYTES :], body[: 1 + _DIGEST_BYTES]))
        except ValueError:
            position = None
        if type(position) is not self.position_type:
            raise InvalidArgument(f"page_token is malformed or was altered; {restart}")
        return position

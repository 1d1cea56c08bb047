"""Bearer-token authentication with two roles, for every service.

A token file lists who may call, one entry per line (``#`` starts a comment)::

    read   sha256:5f0c...e1    # the web page
    write  sha256:9a1b...07    # the indexing host

Only SHA-256 digests are kept, in the file and in memory: a leaked file or core dump
gives no usable token. ``videosearch-token`` makes a new token and prints its line. A
line may give a raw token instead of ``sha256:<hex>`` (convenient with a secret mounted
by an orchestrator); it is hashed on load and the raw text is dropped.

Callers send ``authorization: Bearer <token>``. No token or an unknown one is
UNAUTHENTICATED; a ``read`` token on a method that changes state is PERMISSION_DENIED.
Health checking is always open (orchestrators probe it without credentials), reflection
is open unless the server turns it off, and every other method needs a role: a method
missing from :data:`READ_METHODS` needs ``write``, so a new RPC is protected by default.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import hmac
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videosearch.common.errors import InvalidArgument

SCHEME = "bearer"
METADATA_KEY = "authorization"
DIGEST_PREFIX = "sha256:"


class Role(enum.IntEnum):
    """Ordered: a role may call everything a lower one may."""

    READ = 1
    WRITE = 2


# Methods that only read. Everything else under /videosearch. needs WRITE.
READ_METHODS = frozenset({
    "/videosearch.v1.SearcherService/Search",
    "/videosearch.v1.SearcherService/GetVideo",
    "/videosearch.v1.SearcherService/GetSceneThumbnail",
    "/videosearch.v1.SearcherService/ListVideos",
    "/videosearch.v1.SearcherService/GetStats",
    "/videosearch.v1.IndexerService/GetIndexJob",
    "/videosearch.v1.IndexerService/ListIndexJobs",
    "/videosearch.v1.IndexerService/WatchIndexJob",
    "/videosearch.v1.EmbedderService/GetModelInfo",
    "/videosearch.v1.EmbedderService/EmbedTexts",
})
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
REFLECTION_PREFIXES = ("/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/")


class AuthFailure(Exception):
    """Why a call is refused; ``status`` is UNAUTHENTICATED or PERMISSION_DENIED."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class TokenTable:
    """The known token digests and their roles."""

    entries: tuple[tuple[bytes, Role], ...]

    @classmethod
    def load(cls, path: str | Path) -> "TokenTable":
        entries = []
        for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.split()
            if len(parts) != 2 or parts[0].upper() not in Role.__members__:
                raise InvalidArgument(f"{path}:{number}: expected '<read|write> sha256:<hex>' (or a raw token)")
            role, secret = Role[parts[0].upper()], parts[1]
            if secret.startswith(DIGEST_PREFIX):
                try:
                    value = bytes.fromhex(secret[len(DIGEST_PREFIX):])
                except ValueError:
                    value = b""
                if len(value) != 32:
                    raise InvalidArgument(f"{path}:{number}: sha256: needs 64 hex digits")
            else:
                value = digest(secret)
            entries.append((value, role))
        if not entries:
            raise InvalidArgument(f"{path} lists no tokens; add lines like 'write sha256:<hex>' (videosearch-token makes one)")
        return cls(tuple(entries))

    def role_of(self, token: str) -> Role | None:
        wanted = digest(token)
        found = None
        # Compare against every entry in constant time, without stopping at a match,
        # so the time taken says nothing about which entry (if any) matched.
        for value, role in self.entries:
            if hmac.compare_digest(value, wanted):
                found = role
        return found


def token_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == METADATA_KEY:
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() == SCHEME and token.strip():
                return token.strip()
            return None
    return None


@dataclass(frozen=True)
class AccessPolicy:
    """Which role a method needs, and whether the caller has it."""

    tokens: TokenTable
    reflection_open: bool = True

    def required_role(self, method: str) -> Role | None:
        if method.startswith(OPEN_PREFIXES):
            return None
        if self.reflection_open and method.startswith(REFLECTION_PREFIXES):
            return None
        return Role.READ if method in READ_METHODS else Role.WRITE

    def check(self, method: str, metadata) -> None:
        """Raises AuthFailure unless the call's token has the method's role."""
        needed = self.required_role(method)
        if needed is None:
            return
        token = token_from_metadata(metadata)
        if token is None:
            raise AuthFailure("UNAUTHENTICATED", f"{method} needs a token: send the metadata "
                              "'authorization: Bearer <token>' (the CLI reads --token-file or VIDEOSEARCH_TOKEN_FILE)")
        role = self.tokens.role_of(token)
        if role is None:
            raise AuthFailure("UNAUTHENTICATED", "the token is not known to this server; check the token "
                              "or ask the operator to add its sha256 to the server's token file")
        if role < needed:
            raise AuthFailure("PERMISSION_DENIED", f"{method} needs a {needed.name.lower()} token; this one is "
                              f"{role.name.lower()}-only")


def new_token_line(role: str) -> tuple[str, str]:
    """A fresh random token and the token-file line that admits it."""
    token = secrets.token_urlsafe(32)
    return token, f"{role} {DIGEST_PREFIX}{digest(token).hex()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Make a bearer token for the videosearch services: the token goes to --out (mode 600) for "
        "the client, and the line to add to the servers' token file goes to stdout (it holds only the digest).")
    parser.add_argument("--role", choices=[r.name.lower() for r in Role], default="read")
    parser.add_argument("--out", required=True, help="file to write the token to, for --token-file of the clients")
    args = parser.parse_args(argv)
    token, line = new_token_line(args.role)
    out = Path(args.out)
    out.touch(mode=0o600, exist_ok=False)
    out.write_text(token + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

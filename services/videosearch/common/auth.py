"""Bearer-token authentication with two roles, for every service.

A token file lists who may call, one entry per line (``#`` starts a comment)::

    read   sha256:5f0c...e1                          # the web page
    write  sha256:9a1b...07  expires=2027-01-31      # the indexing host, until the end of January

Only SHA-256 digests are kept, in the file and in memory: a leaked file or core dump
gives no usable token. ``videosearch-token`` makes a new token and prints its line. A
line may give a raw token instead of ``sha256:<hex>`` (convenient with a secret mounted
by an orchestrator); it is hashed on load and the raw text is dropped. An optional
``expires=<ISO 8601 date or time>`` (UTC unless it names a zone) ends a token's validity.

The file is read again when it changes (its size, time or inode; looked at no more than once
a second) and at once on SIGHUP: a token removed from it is refused from then on. A file
that no longer parses keeps the previous tokens and logs why.

Callers send ``authorization: Bearer <token>``. No token or an unknown one is
UNAUTHENTICATED; a ``read`` token on a method that changes state is PERMISSION_DENIED.
Health checking is always open (orchestrators probe it without credentials), reflection
is open unless the server turns it off, and every other method needs a role: a method
missing from :data:`READ_METHODS` needs ``write``, so a new RPC is protected by default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import hashlib
import hmac
import logging
import os
import secrets
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videosearch.common.errors import InvalidArgument

log = logging.getLogger(__name__)
SCHEME = "bearer"
EXPIRES_PREFIX = "expires="
# How often a token file's size, time and inode are looked at for a change.
RELOAD_CHECK_S = 1.0
METADATA_KEY = "authorization"
DIGEST_PREFIX = "sha256:"


class Role(enum.IntEnum):
    """Ordered: a role may call everything a lower one may."""

    READ = 1
    WRITE = 2


# Methods that only read. Everything else under /videosearch. needs WRITE.
READ_METHODS = frozenset(
    {
        "/videosearch.v1.SearcherService/Search",
        "/videosearch.v1.SearcherService/GetVideo",
        "/videosearch.v1.SearcherService/GetSceneThumbnail",
        "/videosearch.v1.SearcherService/ListVideos",
        "/videosearch.v1.SearcherService/GetStats",
        "/videosearch.v1.IndexerService/GetIndexJob",
        "/videosearch.v1.IndexerService/ListIndexJobs",
        "/videosearch.v1.IndexerService/WatchIndexJob",
        "/videosearch.v1.IndexerService/ListLibraries",
        "/videosearch.v1.EmbedderService/GetModelInfo",
        "/videosearch.v1.EmbedderService/EmbedTexts",
    }
)
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
REFLECTION_PREFIXES = ("/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/")


class AuthFailure(Exception):
    """Why a call is refused; ``status`` is UNAUTHENTICATED or PERMISSION_DENIED."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _expiry(text: str, where: str) -> float:
    """``expires=`` as a POSIX time (a date alone: its start, UTC)."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{where}: expires= takes an ISO 8601 date or time, like 2027-01-31 or 2027-01-31T18:00Z"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()


@dataclass(frozen=True)
class TokenTable:
    """The known token digests, their roles and when they expire (None: never)."""

    entries: tuple[tuple[bytes, Role, float | None], ...]

    @classmethod
    def load(cls, path: str | Path) -> "TokenTable":
        entries = []
        for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.split()
            expires = None
            if len(parts) == 3 and parts[2].startswith(EXPIRES_PREFIX):
                expires = _expiry(parts.pop()[len(EXPIRES_PREFIX) :], f"{path}:{number}")
            if len(parts) != 2 or parts[0].upper() not in Role.__members__:
                raise InvalidArgument(
                    f"{path}:{number}: expected '<read|write> sha256:<hex> [expires=<date>]' (or a raw token)"
                )
            role, secret = Role[parts[0].upper()], parts[1]
            if secret.startswith(DIGEST_PREFIX):
                try:
                    value = bytes.fromhex(secret[len(DIGEST_PREFIX) :])
                except ValueError:
                    value = b""
                if len(value) != 32:
                    raise InvalidArgument(f"{path}:{number}: sha256: needs 64 hex digits")
            else:
                value = digest(secret)
            entries.append((value, role, expires))
        if not entries:
            raise InvalidArgument(
                f"{path} lists no tokens; add lines like 'write sha256:<hex>' (videosearch-token makes one)"
            )
        return cls(tuple(entries))

    def match(self, token: str) -> tuple[Role, float | None] | None:
        """The token's role and expiry time, or None for an unknown token."""
        wanted = digest(token)
        found = None
        # Compare against every entry in constant time, without stopping at a match,
        # so the time taken says nothing about which entry (if any) matched.
        for value, role, expires in self.entries:
            if hmac.compare_digest(value, wanted):
                found = (role, expires)
        return found

    def role_of(self, token: str, now: float | None = None) -> Role | None:
        """The role of a known token that has not expired, else None."""
        found = self.match(token)
        if found is None or (found[1] is not None and (time.time() if now is None else now) >= found[1]):
            return None
        return found[0]


_TOKEN_FILES: "weakref.WeakSet[TokenFile]" = weakref.WeakSet()


class TokenFile:
    """A token file, read again when it changes and on :func:`reload_token_files` (SIGHUP)."""

    def __init__(self, path: str | Path, *, check_every_s: float = RELOAD_CHECK_S) -> None:
        self.path = Path(path)
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._signature = self._stat()
        self._table = TokenTable.load(self.path)  # a bad file at start is a start-up error
        self._checked_at = time.monotonic()
        _TOKEN_FILES.add(self)

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def reload(self) -> None:
        """Reads the file again; a file that does not parse (or is gone) keeps the tokens read before."""
        with self._lock:
            self._signature = self._stat()
            self._checked_at = time.monotonic()
            try:
                self._table = TokenTable.load(self.path)
            except (OSError, InvalidArgument) as exc:
                log.error(
                    "the token file %s was not read again (%s); the tokens read before stay valid", self.path, exc
                )
                return
            log.info("read the token file %s again: %d tokens", self.path, len(self._table.entries))

    def table(self) -> TokenTable:
        if time.monotonic() - self._checked_at >= self._check_every_s:
            self._checked_at = time.monotonic()
            if self._stat() != self._signature:
                self.reload()
        return self._table

    def match(self, token: str) -> tuple[Role, float | None] | None:
        return self.table().match(token)


def reload_token_files() -> None:
    """Reads every token file of this process again (the services call it on SIGHUP)."""
    for tokens in list(_TOKEN_FILES):
        tokens.reload()


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

    tokens: TokenTable | TokenFile
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
            raise AuthFailure(
                "UNAUTHENTICATED",
                f"{method} needs a token: send the metadata "
                "'authorization: Bearer <token>' (the CLI reads --token-file or VIDEOSEARCH_TOKEN_FILE)",
            )
        found = self.tokens.match(token)
        if found is None:
            raise AuthFailure(
                "UNAUTHENTICATED",
                "the token is not known to this server; check the token "
                "or ask the operator to add its sha256 to the server's token file",
            )
        role, expires = found
        if expires is not None and time.time() >= expires:
            when = dt.datetime.fromtimestamp(expires, dt.timezone.utc).isoformat(timespec="minutes")
            raise AuthFailure(
                "UNAUTHENTICATED",
                f"the token expired at {when}; ask the operator for a new one (videosearch-token makes it)",
            )
        if role < needed:
            raise AuthFailure(
                "PERMISSION_DENIED",
                f"{method} needs a {needed.name.lower()} token; this one is {role.name.lower()}-only",
            )


def new_token_line(role: str, expires: str = "") -> tuple[str, str]:
    """A fresh random token and the token-file line that admits it (until ``expires``, if given)."""
    token = secrets.token_urlsafe(32)
    line = f"{role} {DIGEST_PREFIX}{digest(token).hex()}"
    if expires:
        _expiry(expires, "--expires")
        line += f" {EXPIRES_PREFIX}{expires}"
    return token, line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Make a bearer token for the videosearch services: the token goes to --out (mode 600) for "
        "the client, and the line to add to the servers' token file goes to stdout (it holds only the digest)."
    )
    parser.add_argument("--role", choices=[r.name.lower() for r in Role], default="read")
    parser.add_argument("--out", required=True, help="file to write the token to, for --token-file of the clients")
    parser.add_argument(
        "--expires",
        default="",
        help="ISO 8601 date or time after which the servers refuse the "
        "token (UTC unless a zone is given), e.g. 2027-01-31",
    )
    args = parser.parse_args(argv)
    try:
        token, line = new_token_line(args.role, args.expires)
    except InvalidArgument as exc:
        parser.error(str(exc))
    out = Path(args.out)
    out.touch(mode=0o600, exist_ok=False)
    out.write_text(token + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

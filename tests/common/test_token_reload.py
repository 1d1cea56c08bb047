"""The token file is read again when it changes and on SIGHUP, and a token may expire:
a token removed from the file, or past its ``expires=``, is refused by a running server;
a file that no longer parses keeps the tokens read before."""

from __future__ import annotations

import os
import signal
import time

import grpc
import pytest
from videosearch.common.auth import new_token_line
from videosearch.common.security import ClientSecurity
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc

from tests.service_process import service_process

pytestmark = pytest.mark.timeout(120)


def _code(address: str, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(address) as channel:
        try:
            searcher_pb2_grpc.SearcherServiceStub(channel).GetStats(
                searcher_pb2.GetStatsRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=10)
        except grpc.RpcError as err:
            return err.code(), err.details()
    return grpc.StatusCode.OK, ""


def _eventually(address: str, token: str, code: grpc.StatusCode, within_s: float = 10.0) -> str:
    deadline = time.monotonic() + within_s
    while True:
        got, details = _code(address, token)
        if got == code:
            return details
        assert time.monotonic() < deadline, f"still {got} {details}"
        time.sleep(0.1)


def test_a_removed_or_expired_token_is_refused_without_a_restart(tmp_path):
    kept, kept_line = new_token_line("read")
    removed, removed_line = new_token_line("read")
    expired, expired_line = new_token_line("read", "2001-01-01")
    later, later_line = new_token_line("read", "2999-12-31T23:59Z")
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join([kept_line, removed_line, expired_line, later_line]) + "\n")
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "data"), embedder_address="127.0.0.1:1",
                                               ann="none", tokens_file=str(tokens)))
    try:
        address = searcher.address
        assert _code(address, kept)[0] == grpc.StatusCode.OK and _code(address, later)[0] == grpc.StatusCode.OK
        assert _code(address, removed)[0] == grpc.StatusCode.OK
        code, details = _code(address, expired)
        assert code == grpc.StatusCode.UNAUTHENTICATED and "expired at 2001-01-01" in details
        tokens.write_text("\n".join([kept_line, later_line]) + "\n")
        _eventually(address, removed, grpc.StatusCode.UNAUTHENTICATED)
        assert _code(address, kept)[0] == grpc.StatusCode.OK
        tokens.write_text("this is not a token line\n")  # a mistake while editing
        time.sleep(1.5)
        assert _code(address, kept)[0] == grpc.StatusCode.OK, "a file that does not parse keeps the tokens before"
    finally:
        searcher.stop(0)


def test_sighup_reads_the_token_file_again(tmp_path):
    kept, kept_line = new_token_line("read")
    dropped, dropped_line = new_token_line("read")
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{kept_line}\n{dropped_line}\n")
    args = ["--data-dir", str(tmp_path / "data"), "--embedder-address", "127.0.0.1:1", "--ann", "none",
            "--tokens-file", str(tokens)]
    with service_process("videosearch.searcher.server", args, tmp_path / "port") as (process, address):
        _eventually(address, dropped, grpc.StatusCode.OK, within_s=60)  # once the store is loaded
        tokens.write_text(f"{kept_line}\n")
        process.send_signal(signal.SIGHUP)
        for line in process.stdout:
            if "read the token file" in line:
                break
        assert process.poll() is None, "SIGHUP does not end the service"
        assert _code(address, dropped)[0] == grpc.StatusCode.UNAUTHENTICATED
        assert _code(address, kept)[0] == grpc.StatusCode.OK

"""zstd compression (PROTOCOL.md §4), when the optional `zstandard` package is installed."""

from __future__ import annotations

import pytest
from servers import ServerProcess

import retain
from retain import compression
from retain.pb import echo_pb2

pytestmark = pytest.mark.skipif(not compression.available(), reason="zstandard is not installed")


def test_large_answers_come_compressed_when_accepted(echo_server: ServerProcess) -> None:
    payload = b"compress me " * 20_000  # 240 KB, above the server's 64 KiB threshold
    with retain.Connection(echo_server.host, echo_server.port) as conn:
        echo = retain.EchoClient(conn)
        assert conn.asynchronous.accept_compression
        assert echo.echo(echo_pb2.EchoRequest(text="big", payload=payload)).payload == payload
        transport = conn.asynchronous.transport
        assert transport is not None and transport.compressed_answers == 1
        assert echo.echo(echo_pb2.EchoRequest(text="small")).text == "small"
        assert transport.compressed_answers == 1  # small answers stay plain
    with retain.Connection(echo_server.host, echo_server.port, accept_compression=False) as plain:
        assert retain.EchoClient(plain).echo(echo_pb2.EchoRequest(payload=payload)).payload == payload
        transport = plain.asynchronous.transport
        assert transport is not None and transport.compressed_answers == 0


def test_compressed_requests_are_understood(echo_server: ServerProcess) -> None:
    payload = b"retain " * 30_000
    with retain.Connection(echo_server.host, echo_server.port, accept_compression=False) as conn:
        echo = retain.EchoClient(conn)
        assert echo.echo(echo_pb2.EchoRequest(text="z", payload=payload), compress=True).payload == payload
        assert echo.echo(echo_pb2.EchoRequest(text="tiny"), compress=True).text == "tiny"


def test_request_really_travels_compressed() -> None:
    # 210 KB sent plain to a server taking frames of at most 100 KB would be a connection error
    # (GOAWAY); compressed, the frame is small and only its declared size is refused, per call.
    payload = b"retain " * 30_000
    with ServerProcess("retain-echo", ["--max-frame-bytes", "100000"]) as server, \
            retain.Connection(server.host, server.port, retry=retain.NO_RETRY) as conn:
        echo = retain.EchoClient(conn)
        with pytest.raises(retain.RPCError) as caught:
            echo.echo(echo_pb2.EchoRequest(payload=payload), compress=True)
        assert caught.value.code == retain.StatusCode.RESOURCE_EXHAUSTED and not caught.value.local
        assert "decompressed" in caught.value.message
        assert echo.echo(echo_pb2.EchoRequest(text="open")).text == "open"
        assert conn.asynchronous.connections_opened == 1

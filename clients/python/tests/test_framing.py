"""Frames: the documented bytes (PROTOCOL.md §19) against the encoder and a real server, and
the header checks of §2."""

from __future__ import annotations

import socket

import pytest
from servers import ServerProcess

from retain import ProtocolError, compression
from retain.framing import FLAG_END, HEADER_SIZE, FrameType, encode_frame, encode_request, parse_header, split_request
from retain.pb import echo_pb2, rpc_pb2

ECHO = "retain.v1.Echo/Echo"
WORKED_REQUEST = "0000001d010100000000000100000015" "0a1372657461696e2e76312e4563686f2f4563686f" "0a026869"
WORKED_ANSWER = "0000000401020200000000010a026869"


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def test_worked_example_encodes_to_the_documented_bytes() -> None:
    header = rpc_pb2.CallHeader(method=ECHO).SerializeToString()
    frame = encode_request(1, header, echo_pb2.EchoRequest(text="hi").SerializeToString())
    assert frame.hex() == WORKED_REQUEST
    call_header, message = split_request(frame[HEADER_SIZE:])
    assert rpc_pb2.CallHeader.FromString(call_header).method == ECHO
    assert echo_pb2.EchoRequest.FromString(message).text == "hi"


def test_server_answers_the_worked_example_with_the_documented_bytes(echo_server: ServerProcess) -> None:
    with socket.create_connection((echo_server.host, echo_server.port), timeout=5) as sock:
        sock.sendall(bytes.fromhex(WORKED_REQUEST))
        raw = read_exactly(sock, HEADER_SIZE)
        header = parse_header(raw)
        answer = raw + read_exactly(sock, header.length)
    assert answer.hex() == WORKED_ANSWER
    assert header.type == FrameType.MESSAGE and header.flags == FLAG_END and header.request_id == 1


def test_server_pongs_a_ping_with_its_bytes(echo_server: ServerProcess) -> None:
    with socket.create_connection((echo_server.host, echo_server.port), timeout=5) as sock:
        sock.sendall(encode_frame(FrameType.PING, 0, b"opaque!!"))
        header = parse_header(read_exactly(sock, HEADER_SIZE))
        assert (header.type, header.request_id) == (FrameType.PONG, 0)
        assert read_exactly(sock, header.length) == b"opaque!!"


@pytest.mark.parametrize("header, message", [
    ("0040000102630000" "00000000", "unsupported protocol version 2"),     # version checked first
    ("0040000101638000" "00000001", "exceeds the maximum"),                # 4 MiB + 1, before type and flags
    ("0000000001638000" "00000000", "unknown frame type 99"),               # type before flags
    ("0000000001058000" "00000000", "unknown frame flags 0x80"),
])
def test_header_checks_run_in_the_documented_order(header: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_header(bytes.fromhex(header))


def test_payload_of_exactly_the_maximum_is_accepted() -> None:
    header = parse_header(bytes.fromhex("00400000" "01020200" "00000007"))
    assert header.length == 4 << 20 and header.type == FrameType.MESSAGE and header.request_id == 7


def test_request_id_zero_is_never_a_call() -> None:
    with pytest.raises(ValueError):
        encode_request(0, b"", b"")


def test_zstd_frames_declare_their_size() -> None:
    pytest.importorskip("zstandard")
    data = b"retain " * 20_000
    frame = compression.compress(data)
    assert compression.declared_content_size(frame) == len(data)
    assert compression.decompress(frame, len(data)) == data
    with pytest.raises(ValueError, match="exceeds the maximum"):
        compression.decompress(frame, len(data) - 1)

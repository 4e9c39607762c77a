"""Frames: the 12-byte header, frame types, flags and the REQUEST layout (PROTOCOL.md §2-§6).

Everything here is pure: it turns values into bytes and bytes into values, and checks a
received header in the order the protocol prescribes.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import NamedTuple

from .errors import ProtocolError

__all__ = [
    "VERSION", "HEADER_SIZE", "DEFAULT_MAX_PAYLOAD", "MAX_REQUEST_ID",
    "FLAG_COMPRESSED", "FLAG_END", "FLAG_FLOW_CONTROLLED", "KNOWN_FLAGS",
    "FrameType", "Frame", "FrameHeader",
    "encode_frame", "encode_request", "encode_window_update", "parse_header", "split_request",
]

#: The protocol version written in every header.
VERSION = 1
_HEADER = struct.Struct(">IBBBBI")  # payload length, version, type, flags, reserved, request id
#: Size of the fixed frame header.
HEADER_SIZE = _HEADER.size
#: A receiver's default maximum payload size: 4 MiB.
DEFAULT_MAX_PAYLOAD = 4 << 20
#: The largest request id; a client that would pass it opens a new connection.
MAX_REQUEST_ID = 0xFFFF_FFFF

#: The message part of a REQUEST or MESSAGE is one zstd frame.
FLAG_COMPRESSED = 0x01
#: On a MESSAGE: the last answer of the call, which ended with OK.
FLAG_END = 0x02
#: On a MESSAGE: the call's answers are flow-controlled (§15); the client grants more with
#: WINDOW_UPDATE. Only sent to a client that asked for a window in its call header.
FLAG_FLOW_CONTROLLED = 0x04
#: Every flag defined in version 1; any other bit is a connection error.
KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_END | FLAG_FLOW_CONTROLLED

_LENGTH = struct.Struct(">I")


class FrameType(enum.IntEnum):
    """Frame types of version 1 (§3)."""

    REQUEST = 1
    MESSAGE = 2
    STATUS = 3
    CANCEL = 4
    PING = 5
    PONG = 6
    GOAWAY = 7
    WINDOW_UPDATE = 8


class FrameHeader(NamedTuple):
    """A validated frame header."""

    length: int
    type: FrameType
    flags: int
    request_id: int


@dataclass(frozen=True)
class Frame:
    """A whole frame: its header fields and payload."""

    type: FrameType
    flags: int
    request_id: int
    payload: bytes = b""

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        return encode_frame(self.type, self.request_id, self.payload, self.flags)


def encode_frame(frame_type: FrameType, request_id: int, payload: bytes = b"", flags: int = 0) -> bytes:
    """A frame: the 12-byte header (reserved byte 0) followed by `payload`."""
    return _HEADER.pack(len(payload), VERSION, int(frame_type), flags, 0, request_id) + payload


def encode_request(request_id: int, call_header: bytes, message: bytes, *, compressed: bool = False) -> bytes:
    """A REQUEST frame (§6.1): uint32 header length, the encoded `CallHeader`, the request
    message. `compressed` says `message` is already one zstd frame (sets COMPRESSED)."""
    if not 0 < request_id <= MAX_REQUEST_ID:
        raise ValueError(f"request id {request_id} outside 1...{MAX_REQUEST_ID}")
    payload = _LENGTH.pack(len(call_header)) + call_header + message
    return encode_frame(FrameType.REQUEST, request_id, payload, FLAG_COMPRESSED if compressed else 0)


def encode_window_update(request_id: int, increment: int) -> bytes:
    """A WINDOW_UPDATE frame (§15): grants call `request_id` `increment` more bytes of answers."""
    if not 0 < increment <= 0xFFFF_FFFF:
        raise ValueError(f"window increment {increment} outside 1...{0xFFFF_FFFF}")
    return encode_frame(FrameType.WINDOW_UPDATE, request_id, _LENGTH.pack(increment))


def split_request(payload: bytes) -> tuple[bytes, bytes]:
    """The encoded `CallHeader` and request message of a REQUEST payload (for tools and tests)."""
    if len(payload) < _LENGTH.size:
        raise ProtocolError("REQUEST payload shorter than its declared call header")
    (header_length,) = _LENGTH.unpack_from(payload)
    end = _LENGTH.size + header_length
    if len(payload) < end:
        raise ProtocolError("REQUEST payload shorter than its declared call header")
    return payload[_LENGTH.size:end], payload[end:]


def parse_header(data: bytes, max_payload: int = DEFAULT_MAX_PAYLOAD) -> FrameHeader:
    """Decodes and validates a 12-byte header before any of the payload is read (§2): version,
    then length, then type, then flags. Raises `ProtocolError` on the first check that fails."""
    if len(data) != HEADER_SIZE:
        raise ValueError(f"a frame header is {HEADER_SIZE} bytes, not {len(data)}")
    length, version, frame_type, flags, _reserved, request_id = _HEADER.unpack(data)
    if version != VERSION:
        raise ProtocolError(f"unsupported protocol version {version} (this client speaks {VERSION})")
    if length > max_payload:
        raise ProtocolError(f"frame of {length} bytes exceeds the maximum of {max_payload} bytes")
    try:
        kind = FrameType(frame_type)
    except ValueError:
        raise ProtocolError(f"unknown frame type {frame_type}") from None
    if flags & ~KNOWN_FLAGS:
        raise ProtocolError(f"unknown frame flags 0x{flags:x}")
    return FrameHeader(length, kind, flags, request_id)

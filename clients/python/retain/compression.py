"""zstd compression of message parts (PROTOCOL.md §4), through the optional `zstandard` package.

Install it with ``pip install 'retain-client[zstd]'``. Without it the client never asks for
compressed answers (`CallHeader.accept_compression` stays false) and never compresses requests,
which the protocol allows.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

__all__ = ["available", "compress", "decompress", "declared_content_size", "DEFAULT_THRESHOLD"]

#: Requests whose message is at least this large are compressed (as the Swift client does).
DEFAULT_THRESHOLD = 64 * 1024

_MAGIC = 0xFD2FB528

_zstd: Optional[Any]
try:  # pragma: no cover - depends on the environment
    import zstandard as _zstd
except ImportError:  # pragma: no cover
    _zstd = None


def available() -> bool:
    """Whether `zstandard` is installed, so that messages can be compressed and decompressed."""
    return _zstd is not None


def compress(data: bytes, level: int = 1) -> bytes:
    """One zstd frame holding `data` that declares its content size, as COMPRESSED requires."""
    if _zstd is None:
        raise RuntimeError("zstd compression needs the 'zstandard' package (pip install 'retain-client[zstd]')")
    compressor = _zstd.ZstdCompressor(level=level, write_content_size=True)
    return bytes(compressor.compress(data))


def declared_content_size(frame: bytes) -> Optional[int]:
    """The content size a zstd frame header declares, or None when it declares none.
    Raises ValueError when `frame` does not start with a zstd frame header."""
    if len(frame) < 6 or struct.unpack_from("<I", frame)[0] != _MAGIC:
        raise ValueError("compressed message is not a zstd frame")
    descriptor = frame[4]
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    position = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag]
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    if fcs_size == 0:
        return None
    if len(frame) < position + fcs_size:
        raise ValueError("truncated zstd frame header")
    value = int.from_bytes(frame[position:position + fcs_size], "little")
    return value + 256 if fcs_size == 2 else value


def decompress(frame: bytes, max_size: int) -> bytes:
    """The content of one zstd frame, refusing (before decompressing) a frame that declares no
    size or more than `max_size` bytes."""
    size = declared_content_size(frame)
    if size is None:
        raise ValueError("compressed message does not declare its content size")
    if size > max_size:
        raise ValueError(f"decompressed message of {size} bytes exceeds the maximum of {max_size}")
    if _zstd is None:
        raise ValueError("cannot decompress: the 'zstandard' package is not installed")
    try:
        data = bytes(_zstd.ZstdDecompressor().decompress(frame, max_output_size=size))
    except _zstd.ZstdError as error:
        raise ValueError(f"corrupt zstd frame: {error}") from error
    if len(data) != size:
        raise ValueError("zstd frame content differs from its declared size")
    return data

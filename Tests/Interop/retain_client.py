"""A Retain RPC client in Python, written from docs/PROTOCOL.md and the .proto files alone.

It needs Python 3.11, Google's `protobuf` package and `protoc` (the message classes are
generated at run time into a temporary directory). It uses only the standard library
otherwise: one TCP socket per `Connection`, a reader thread that routes answers to calls by
request id, and a lock around writes, so that many threads can call at once over one
connection and answers come back in any order.

    pb = load_protos()                       # generates and imports retain/v1/*_pb2
    with Connection("127.0.0.1", 7000, pb) as conn:
        answer = conn.unary("retain.v1.Echo/Echo", pb.echo.EchoRequest(text="hi"),
                            pb.echo.EchoResponse)
"""

from __future__ import annotations

import atexit
import enum
import importlib
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Iterator

# ---------------------------------------------------------------------------------------------
# Protocol constants (docs/PROTOCOL.md, "Frames")

VERSION = 1
HEADER = struct.Struct(">IBBBBI")  # payload length, version, type, flags, reserved, request id
HEADER_SIZE = HEADER.size  # 12

REQUEST, MESSAGE, STATUS, CANCEL, PING, PONG, GOAWAY = range(1, 8)
FRAME_TYPE_NAMES = {REQUEST: "REQUEST", MESSAGE: "MESSAGE", STATUS: "STATUS", CANCEL: "CANCEL",
                    PING: "PING", PONG: "PONG", GOAWAY: "GOAWAY"}

FLAG_COMPRESSED = 0x01
FLAG_END = 0x02
KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_END

DEFAULT_MAX_PAYLOAD = 4 << 20  # 4 MiB
MAX_REQUEST_ID = 0xFFFF_FFFF


class Code(enum.IntEnum):
    """Status codes: the numbers and meanings of gRPC's."""
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


def code_name(code: int) -> str:
    try:
        return Code(code).name
    except ValueError:
        return f"CODE_{code}"


class RpcError(Exception):
    """A call that ended without OK. `origin` is "server" when a STATUS frame said so, "local"
    when this client decided (local deadline, closed connection, bad answer)."""

    def __init__(self, code: int, message: str = "", details: dict[str, str] | None = None,
                 origin: str = "server"):
        super().__init__(f"{code_name(code)}: {message}")
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.origin = origin

    @property
    def not_processed(self) -> bool:
        """True when the server guarantees the call was not processed: safe to retry elsewhere."""
        return self.details.get("not_processed") == "true"


class ProtocolError(Exception):
    """The byte stream from the peer is not valid; the connection is closed."""


# ---------------------------------------------------------------------------------------------
# Generated message classes

def find_proto_root(start: str | None = None) -> str:
    """The repository's `proto/` directory, found upwards from `start` (default: this file)."""
    directory = os.path.abspath(start or os.path.dirname(__file__))
    while True:
        candidate = os.path.join(directory, "proto")
        if os.path.isfile(os.path.join(candidate, "retain", "v1", "rpc.proto")):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            raise FileNotFoundError("no proto/retain/v1/rpc.proto above " + (start or __file__))
        directory = parent


def load_protos(proto_root: str | None = None, protoc: str = "protoc",
                names: list[str] | None = None) -> types.SimpleNamespace:
    """Runs `protoc --python_out` on `retain/v1/<name>.proto` for each of `names` (default: every
    file there) into a temporary directory and imports the modules. Returns a namespace:
    `pb.rpc`, `pb.echo`, `pb.health`, ... (one per file), and `pb.modules`, a dict by file stem.
    Files imported by the named ones must be named too."""
    proto_root = proto_root or find_proto_root()
    package_dir = os.path.join(proto_root, "retain", "v1")
    if names is None:
        names = sorted(name[: -len(".proto")] for name in os.listdir(package_dir) if name.endswith(".proto"))
    files = [f"retain/v1/{name}.proto" for name in names]
    out = tempfile.mkdtemp(prefix="retain-pb2-")
    atexit.register(shutil.rmtree, out, True)
    result = subprocess.run([protoc, f"--proto_path={proto_root}", f"--python_out={out}", *files],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({result.returncode}): {result.stderr.strip()}")
    sys.path.insert(0, out)
    try:
        modules = {}
        for name in files:
            stem = os.path.basename(name)[: -len(".proto")]
            modules[stem] = importlib.import_module(f"retain.v1.{stem}_pb2")
    finally:
        sys.path.remove(out)
    return types.SimpleNamespace(modules=modules, **modules)


# ---------------------------------------------------------------------------------------------
# zstd: only what the protocol needs

ZSTD_MAGIC = 0xFD2FB528
ZSTD_MAX_BLOCK = 128 * 1024


def zstd_stored_frame(data: bytes) -> bytes:
    """A valid zstd frame holding `data` in raw (uncompressed) blocks and declaring its content
    size, as the COMPRESSED flag requires. It exercises the flag without a zstd library; a real
    client would use one (python-zstandard, or the `zstd` command) to actually save bytes."""
    size = len(data)
    if size < 256:
        descriptor, fcs = 0b0010_0000, struct.pack("<B", size)  # single segment, 1-byte size
    elif size < 65536 + 256:
        descriptor, fcs = 0b0110_0000, struct.pack("<H", size - 256)  # 2-byte size, offset 256
    else:
        descriptor, fcs = 0b1010_0000, struct.pack("<I", size)  # 4-byte size
    out = bytearray(struct.pack("<I", ZSTD_MAGIC))
    out.append(descriptor)
    out += fcs
    offset = 0
    while True:
        chunk = data[offset: offset + ZSTD_MAX_BLOCK]
        offset += len(chunk)
        last = offset >= size
        block_header = (len(chunk) << 3) | (0 << 1) | (1 if last else 0)  # type 0 = raw block
        out += struct.pack("<I", block_header)[:3]
        out += chunk
        if last:
            return bytes(out)


def zstd_content_size(frame: bytes) -> int | None:
    """The content size a zstd frame header declares, or None when it declares none."""
    if len(frame) < 5 or struct.unpack_from("<I", frame)[0] != ZSTD_MAGIC:
        raise ValueError("not a zstd frame")
    descriptor = frame[4]
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    position = 5 + (0 if single_segment else 1) + [0, 1, 2, 4][dict_flag]
    fcs_size = [1 if single_segment else 0, 2, 4, 8][fcs_flag]
    if fcs_size == 0:
        return None
    value = int.from_bytes(frame[position: position + fcs_size], "little")
    return value + 256 if fcs_size == 2 else value


def zstd_available() -> bool:
    """Whether this process can decompress real zstd frames (python-zstandard or `zstd`)."""
    try:
        import zstandard  # type: ignore[import-not-found]  # noqa: F401
        return True
    except ImportError:
        return shutil.which("zstd") is not None


def zstd_decompress(frame: bytes, maximum: int) -> bytes:
    """Decompresses one zstd frame that declares a content size of at most `maximum` bytes."""
    size = zstd_content_size(frame)
    if size is None:
        raise ValueError("compressed message does not declare its content size")
    if size > maximum:
        raise ValueError(f"decompressed size {size} exceeds the maximum of {maximum}")
    try:
        import zstandard  # type: ignore[import-not-found]
        data = zstandard.ZstdDecompressor().decompress(frame, max_output_size=size)
    except ImportError:
        zstd = shutil.which("zstd")
        if zstd is None:
            raise ValueError("no zstd decoder available (install python-zstandard or zstd)")
        data = subprocess.run([zstd, "-d", "-c", "-q"], input=frame, capture_output=True, check=True).stdout
    if len(data) != size:
        raise ValueError("zstd frame content differs from its declared size")
    return data


# ---------------------------------------------------------------------------------------------
# Frames

@dataclass
class Frame:
    type: int
    flags: int
    request_id: int
    payload: bytes = b""
    reserved: int = 0

    @property
    def type_name(self) -> str:
        return FRAME_TYPE_NAMES.get(self.type, f"TYPE_{self.type}")


def encode_frame(frame_type: int, request_id: int, payload: bytes = b"", flags: int = 0,
                 version: int = VERSION) -> bytes:
    return HEADER.pack(len(payload), version, frame_type, flags, 0, request_id) + payload


def decode_header(header: bytes) -> tuple[int, int, int, int, int, int]:
    """(payload length, version, type, flags, reserved, request id)."""
    return HEADER.unpack(header)


def encode_request(pb: types.SimpleNamespace, request_id: int, method: str, message: bytes, *,
                   timeout: float | None = None, authorization: str = "", trace_id: str = "",
                   idempotency_key: str = "", metadata: dict[str, str] | None = None,
                   compress: bool = False, accept_compression: bool = False) -> bytes:
    """A REQUEST frame: uint32 header length, CallHeader, request message (zstd when
    `compress`, with the COMPRESSED flag)."""
    header = pb.rpc.CallHeader(method=method, authorization=authorization, trace_id=trace_id,
                               idempotency_key=idempotency_key, metadata=metadata or {},
                               accept_compression=accept_compression)
    if timeout is not None:
        header.timeout_us = max(1, int(timeout * 1_000_000))  # 0 would mean "no deadline"
    header_bytes = header.SerializeToString()
    flags = 0
    if compress:
        message = zstd_stored_frame(message)
        flags |= FLAG_COMPRESSED
    payload = struct.pack(">I", len(header_bytes)) + header_bytes + message
    return encode_frame(REQUEST, request_id, payload, flags)


def read_exactly(sock: socket.socket, count: int) -> bytes | None:
    """`count` bytes, or None at a clean end of stream before the first byte."""
    chunks = []
    remaining = count
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            if remaining == count:
                return None
            raise ProtocolError(f"connection closed inside a frame ({count - remaining} of {count} bytes)")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame | None:
    """Reads one frame, checking version, size, type and flags from the header first."""
    header = read_exactly(sock, HEADER_SIZE)
    if header is None:
        return None
    length, version, frame_type, flags, reserved, request_id = decode_header(header)
    if version != VERSION:
        raise ProtocolError(f"unsupported protocol version {version}")
    if length > max_payload:
        raise ProtocolError(f"frame of {length} bytes exceeds the maximum of {max_payload}")
    if frame_type not in FRAME_TYPE_NAMES:
        raise ProtocolError(f"unknown frame type {frame_type}")
    if flags & ~KNOWN_FLAGS:
        raise ProtocolError(f"unknown frame flags 0x{flags:02x}")
    payload = read_exactly(sock, length) if length else b""
    if payload is None:
        raise ProtocolError("connection closed inside a frame")
    return Frame(frame_type, flags, request_id, payload, reserved)


def exchange_raw(host: str, port: int, data: bytes, timeout: float = 5.0,
                 frames_wanted: int | None = None) -> tuple[list[Frame], str]:
    """Sends raw bytes on a fresh connection and reads frames until the server closes it (or
    until `frames_wanted` frames arrived). Returns the frames and how the stream ended ("eof",
    "reset", "timeout", "enough" or a protocol error). For conformance tests."""
    frames: list[Frame] = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        try:
            while True:
                if frames_wanted is not None and len(frames) >= frames_wanted:
                    return frames, "enough"
                frame = read_frame(sock, max_payload=1 << 30)
                if frame is None:
                    return frames, "eof"
                frames.append(frame)
        except ConnectionResetError:
            return frames, "reset"
        except socket.timeout:
            return frames, "timeout"
        except ProtocolError as error:
            return frames, f"protocol error: {error}"


# ---------------------------------------------------------------------------------------------
# Connection

@dataclass
class _Call:
    request_id: int
    method: str
    streaming: bool
    events: "queue.Queue[tuple]" = field(default_factory=queue.Queue)
    done: bool = False


class Call:
    """A unary call in flight; `result()` waits for its answer."""

    def __init__(self, connection: "Connection", call: _Call, response_type, deadline: float | None):
        self._connection = connection
        self._call = call
        self._response_type = response_type
        self._deadline = deadline
        self._outcome = None

    @property
    def request_id(self) -> int:
        return self._call.request_id

    def result(self):
        """The decoded answer; raises RpcError for any other ending."""
        if self._outcome is None:
            self._outcome = self._wait()
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value

    def _wait(self):
        timeout = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        try:
            event = self._call.events.get(timeout=timeout)
        except queue.Empty:
            self._connection.cancel(self.request_id)
            return "error", RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded (client)", origin="local")
        kind = event[0]
        if kind == "message":
            _, payload, end = event
            if not end:
                self._connection.cancel(self.request_id)
                return "error", RpcError(Code.INTERNAL, "server streamed answers to a unary call", origin="local")
            try:
                return "ok", self._response_type.FromString(payload)
            except Exception as error:  # noqa: BLE001 - any decoding failure
                return "error", RpcError(Code.INTERNAL, f"undecodable answer: {error}", origin="local")
        if kind == "status":
            status = event[1]
            if status.code == Code.OK:
                return "error", RpcError(Code.INTERNAL, "server ended a unary call without an answer", origin="local")
            return "error", RpcError(status.code, status.message, dict(status.details))
        return "error", event[1]  # ("error", RpcError)

    def cancel(self) -> None:
        """Gives up on the call: sends CANCEL; `result()` then raises CANCELLED."""
        if self._outcome is None:
            self._connection.cancel(self.request_id)
            self._outcome = ("error", RpcError(Code.CANCELLED, "cancelled by the caller", origin="local"))


class Connection:
    """One TCP connection to a Retain server, shared by any number of concurrent calls."""

    def __init__(self, host: str, port: int, pb: types.SimpleNamespace, *,
                 max_payload: int = DEFAULT_MAX_PAYLOAD, connect_timeout: float = 5.0,
                 local_deadline_grace: float = 0.2, accept_compression: bool | None = None):
        self.pb = pb
        self.max_payload = max_payload
        # Ask for compressed answers only when they can be decoded.
        self.accept_compression = zstd_available() if accept_compression is None else accept_compression
        self.compressed_answers = 0  # MESSAGE frames that arrived with the COMPRESSED flag
        # A client times out locally too, a little after the deadline it sent, so that a server
        # that never answers cannot hang it; the grace lets the server's own STATUS arrive first.
        self.local_deadline_grace = local_deadline_grace
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._next_id = 0
        self._pings: dict[bytes, "queue.Queue[float]"] = {}
        self.goaway = None  # the GoAway message, once received
        self.closed_reason: str | None = None
        self.unknown_frames: list[Frame] = []  # answers for request ids not in flight (ignored)
        self.completed: list[int] = []  # request ids in the order their calls ended
        self._reader = threading.Thread(target=self._read_loop, name="retain-reader", daemon=True)
        self._reader.start()

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._reader.join(timeout=5)

    # -- sending ---------------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        with self._write_lock:
            self.sock.sendall(data)

    def _allocate(self, method: str, streaming: bool) -> _Call:
        with self._lock:
            if self.goaway is not None or self.closed_reason is not None:
                raise RpcError(Code.UNAVAILABLE, "connection is draining or closed",
                               {"not_processed": "true"}, origin="local")
            while True:  # an incrementing counter, never 0, skipping ids still in flight
                self._next_id = self._next_id % MAX_REQUEST_ID + 1
                if self._next_id not in self._calls:
                    break
            call = _Call(self._next_id, method, streaming)
            self._calls[call.request_id] = call
            return call

    def _start(self, method: str, request, streaming: bool, timeout: float | None, compress: bool,
               metadata: dict) -> _Call:
        message = request if isinstance(request, bytes) else request.SerializeToString()
        call = self._allocate(method, streaming)
        frame = encode_request(self.pb, call.request_id, method, message, timeout=timeout, compress=compress,
                               accept_compression=self.accept_compression, **metadata)
        try:
            self.send_bytes(frame)
        except OSError as error:
            self._finish(call.request_id, ("error", RpcError(Code.UNAVAILABLE, f"send failed: {error}", origin="local")))
        return call

    def start_unary(self, method: str, request, response_type, *, timeout: float | None = None,
                    compress: bool = False, **metadata) -> Call:
        """Sends a unary call and returns at once; `Call.result()` waits for the answer.
        `request` is a message or its already encoded bytes. `metadata` may hold
        authorization, trace_id, idempotency_key and metadata (a dict)."""
        call = self._start(method, request, False, timeout, compress, metadata)
        deadline = None if timeout is None else time.monotonic() + timeout + self.local_deadline_grace
        return Call(self, call, response_type, deadline)

    def unary(self, method: str, request, response_type, **options):
        """Calls a unary method and returns its decoded answer, or raises RpcError."""
        return self.start_unary(method, request, response_type, **options).result()

    def server_streaming(self, method: str, request, response_type, *, timeout: float | None = None,
                         compress: bool = False, **metadata) -> Iterator:
        """Calls a server-streaming method; yields each decoded answer; raises RpcError when the
        call ends with a non-OK status. Closing the generator early cancels the call."""
        call = self._start(method, request, True, timeout, compress, metadata)
        deadline = None if timeout is None else time.monotonic() + timeout + self.local_deadline_grace
        finished = False
        try:
            while True:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    event = call.events.get(timeout=remaining)
                except queue.Empty:
                    raise RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded (client)", origin="local")
                if event[0] == "message":
                    _, payload, end = event
                    yield response_type.FromString(payload)
                    if end:
                        finished = True
                        return
                elif event[0] == "status":
                    finished = True
                    status = event[1]
                    if status.code != Code.OK:
                        raise RpcError(status.code, status.message, dict(status.details))
                    return
                else:
                    finished = True
                    raise event[1]
        finally:
            if not finished:
                self.cancel(call.request_id)

    def cancel(self, request_id: int) -> None:
        """Forgets the call and sends CANCEL; frames that still arrive for it are ignored."""
        with self._lock:
            call = self._calls.pop(request_id, None)
        if call is None:
            return
        try:
            self.send_bytes(encode_frame(CANCEL, request_id))
        except OSError:
            pass

    def ping(self, data: bytes | None = None, timeout: float = 5.0) -> float:
        """Sends a PING with 8 opaque bytes and returns the round-trip time of its PONG."""
        data = data if data is not None else os.urandom(8)
        waiter: "queue.Queue[float]" = queue.Queue()
        with self._lock:
            self._pings[data] = waiter
        started = time.monotonic()
        self.send_bytes(encode_frame(PING, 0, data))
        try:
            waiter.get(timeout=timeout)
        finally:
            with self._lock:
                self._pings.pop(data, None)
        return time.monotonic() - started

    # -- receiving -------------------------------------------------------------------------------

    def _finish(self, request_id: int, event: tuple) -> None:
        with self._lock:
            call = self._calls.pop(request_id, None)
        if call is not None:
            self.completed.append(request_id)
            call.events.put(event)

    def _read_loop(self) -> None:
        reason = "connection closed by the server"
        try:
            while True:
                frame = read_frame(self.sock, self.max_payload)
                if frame is None:
                    break
                self._handle(frame)
        except ProtocolError as error:
            reason = f"protocol error: {error}"
            try:
                self.sock.close()
            except OSError:
                pass
        except OSError as error:
            reason = f"connection error: {error}"
        self._fail_all(reason)

    def _handle(self, frame: Frame) -> None:
        if frame.type == MESSAGE:
            payload = frame.payload
            if frame.flags & FLAG_COMPRESSED:
                self.compressed_answers += 1
                try:
                    payload = zstd_decompress(payload, self.max_payload)
                except (ValueError, subprocess.CalledProcessError) as error:
                    with self._lock:
                        call = self._calls.get(frame.request_id)
                    self.cancel(frame.request_id)
                    if call is not None:
                        call.events.put(("error", RpcError(Code.INTERNAL, f"bad compressed answer: {error}",
                                                           origin="local")))
                    return
            end = bool(frame.flags & FLAG_END)
            with self._lock:
                call = self._calls.pop(frame.request_id, None) if end else self._calls.get(frame.request_id)
            if call is None:
                self.unknown_frames.append(frame)  # late answer of a cancelled call: ignore
                return
            if end:
                self.completed.append(frame.request_id)
            call.events.put(("message", payload, end))
        elif frame.type == STATUS:
            status = self.pb.rpc.CallStatus()
            try:
                status.ParseFromString(frame.payload)
            except Exception:  # noqa: BLE001
                status = self.pb.rpc.CallStatus(code=Code.INTERNAL, message="malformed STATUS from the server")
            with self._lock:
                known = frame.request_id in self._calls
            if not known:
                self.unknown_frames.append(frame)
                return
            self._finish(frame.request_id, ("status", status))
        elif frame.type == PING:
            self.send_bytes(encode_frame(PONG, 0, frame.payload))
        elif frame.type == PONG:
            with self._lock:
                waiter = self._pings.get(frame.payload)
            if waiter is not None:
                waiter.put(time.monotonic())
        elif frame.type == GOAWAY:
            goaway = self.pb.rpc.GoAway()
            try:
                goaway.ParseFromString(frame.payload)
            except Exception:  # noqa: BLE001
                goaway = self.pb.rpc.GoAway(code=Code.INTERNAL, message="malformed GOAWAY")
            with self._lock:
                self.goaway = goaway
        else:  # REQUEST or CANCEL from a server
            raise ProtocolError(f"unexpected {frame.type_name} frame from the server")

    def _fail_all(self, reason: str) -> None:
        with self._lock:
            self.closed_reason = reason
            calls = list(self._calls.values())
            self._calls.clear()
            goaway = self.goaway
        for call in calls:
            details = {}
            # Calls above the GOAWAY's last_request_id were never processed: safe to retry.
            if goaway is not None and call.request_id > goaway.last_request_id:
                details["not_processed"] = "true"
            call.events.put(("error", RpcError(Code.UNAVAILABLE, reason, details, origin="local")))


def mint_service_token(secret: str, scopes: list[str], *, issuer: str = "python", subject: str = "interop",
                       lifetime_ms: int = 300_000, now_ms: int | None = None) -> str:
    """A service token as docs/SECURITY.md defines it, to send as `authorization: "Bearer <token>"`:
    `v1.<issuer>.<subject>.<scopes>.<expiry ms>.<mac>`, where mac is base64url (no padding) of
    HMAC-SHA256 keyed with the secret's UTF-8 bytes (surrounding whitespace removed) over every
    byte before the last '.'."""
    import base64
    import hashlib
    import hmac
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    body = f"v1.{issuer}.{subject}.{','.join(scopes)}.{now_ms + lifetime_ms}"
    mac = hmac.new(secret.strip().encode(), body.encode("ascii"), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

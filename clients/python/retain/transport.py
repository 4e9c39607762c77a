"""One TCP (or TLS) connection to a Retain server, multiplexing any number of calls (asyncio).

A `Transport` owns a socket, a reader task that routes every frame to its call by request id,
and an incrementing request id counter. It implements PROTOCOL.md §5-§14 for one connection:
unary and server-streaming calls, local deadlines and CANCEL, PING/PONG and keepalive, GOAWAY
and the `not_processed` marking of calls above `last_request_id`. It does not reconnect or
retry; `retain.AsyncConnection` does that on top of it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl as _ssl
from typing import Dict, Optional, Tuple, Union

from google.protobuf.message import DecodeError

from . import compression
from ._generated import rpc_pb2
from .errors import NOT_PROCESSED, ProtocolError, RPCError, StatusCode
from .framing import (
    DEFAULT_MAX_PAYLOAD,
    FLAG_COMPRESSED,
    FLAG_END,
    FLAG_FLOW_CONTROLLED,
    HEADER_SIZE,
    MAX_REQUEST_ID,
    FrameType,
    encode_frame,
    encode_request,
    encode_window_update,
    parse_header,
)

#: The flow-control window a stream asks for by default (PROTOCOL.md §15): the server sends at
#: most this many bytes of answers beyond what the application has taken.
DEFAULT_STREAM_WINDOW = 256 << 10

__all__ = ["Transport", "TransportStream", "DEFAULT_STREAM_WINDOW"]

log = logging.getLogger("retain.transport")

# Events queued for a streaming call: an answer (with its size on the wire), the end of the
# stream, or a failure.
_StreamEvent = Union[Tuple[str, bytes, int], Tuple[str, None, int], Tuple[str, RPCError, int]]


def _status_error(status: rpc_pb2.CallStatus) -> RPCError:
    """The error a non-OK STATUS stands for."""
    code = StatusCode.from_wire(status.code)
    message = status.message if code == status.code else f"(status code {status.code}) {status.message}"
    return RPCError(code, message, dict(status.details), wire_code=status.code)


class _UnaryCall:
    """A unary call in flight: its future gets the answer's bytes or an RPCError."""

    streaming = False

    def __init__(self, request_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.request_id = request_id
        self.future: asyncio.Future[bytes] = loop.create_future()

    def deliver(self, payload: bytes) -> None:
        if not self.future.done():
            self.future.set_result(payload)

    def fail(self, error: RPCError) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class _StreamCall:
    """A server-streaming call in flight: its queue gets answers, then the end or an error."""

    streaming = True

    def __init__(self, request_id: int, window: int = 0) -> None:
        self.request_id = request_id
        self.queue: asyncio.Queue[_StreamEvent] = asyncio.Queue()
        #: The window the call asked for (0: none); the server confirms with FLOW_CONTROLLED.
        self.window = window
        self.flow_controlled = False
        #: Bytes taken by the application and not yet granted back.
        self.ungranted = 0

    def deliver(self, payload: bytes, wire_size: int = 0) -> None:
        self.queue.put_nowait(("message", payload, wire_size))

    def end(self) -> None:
        self.queue.put_nowait(("end", None, 0))

    def fail(self, error: RPCError) -> None:
        self.queue.put_nowait(("error", error, 0))


_Call = Union[_UnaryCall, _StreamCall]


class Transport:
    """One connection; see the module docstring. Create it with `await Transport.open(...)`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        name: str,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        accept_compression: bool = False,
        keepalive_interval: Optional[float] = None,
        keepalive_timeout: float = 30.0,
        stream_window: int = DEFAULT_STREAM_WINDOW,
    ) -> None:
        self.name = name
        #: The flow-control window each stream asks for (§15); 0 asks for none.
        self.stream_window = max(0, min(stream_window, 0x7FFF_FFFF))
        self.max_payload = max_payload
        self.accept_compression = accept_compression
        self._reader = reader
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._calls: Dict[int, _Call] = {}
        self._last_id = 0
        self._pings: Dict[bytes, asyncio.Future[float]] = {}
        self._drain_lock = asyncio.Lock()
        self._last_received = self._loop.time()
        self._close_reason: Optional[str] = None
        self._closed = asyncio.Event()
        #: The GoAway the server sent, once it did (no new calls go on this connection then).
        self.goaway: Optional[rpc_pb2.GoAway] = None
        #: MESSAGE and STATUS frames that arrived for no call in flight (cancelled, timed out).
        self.ignored_frames = 0
        #: MESSAGE frames that arrived compressed.
        self.compressed_answers = 0
        self._reader_task = self._loop.create_task(self._read_loop())
        self._keepalive_task: Optional[asyncio.Task[None]] = None
        if keepalive_interval:
            self._keepalive_task = self._loop.create_task(self._keepalive(keepalive_interval, keepalive_timeout))

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        ssl: Optional[_ssl.SSLContext] = None,
        server_hostname: Optional[str] = None,
        connect_timeout: float = 5.0,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        accept_compression: bool = False,
        keepalive_interval: Optional[float] = None,
        keepalive_timeout: float = 30.0,
        stream_window: int = DEFAULT_STREAM_WINDOW,
    ) -> "Transport":
        """Connects (and completes the TLS handshake when `ssl` is given). A failure raises
        UNAVAILABLE with `not_processed`: nothing was sent."""
        hostname = (server_hostname or host) if ssl else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ssl, server_hostname=hostname),
                timeout=max(0.0, connect_timeout),
            )
        except (OSError, asyncio.TimeoutError) as error:
            reason = "timed out" if isinstance(error, asyncio.TimeoutError) else str(error) or type(error).__name__
            raise RPCError(StatusCode.UNAVAILABLE, f"cannot connect to {host}:{port}: {reason}",
                           {NOT_PROCESSED: "true"}, local=True) from None
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, name=f"{host}:{port}", max_payload=max_payload,
                   accept_compression=accept_compression, keepalive_interval=keepalive_interval,
                   keepalive_timeout=keepalive_timeout, stream_window=stream_window)

    # -- state ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is gone."""
        return self._close_reason is not None

    @property
    def usable(self) -> bool:
        """Whether new calls may start here: open, no GOAWAY, request ids left."""
        return self._close_reason is None and self.goaway is None and self._last_id < MAX_REQUEST_ID

    @property
    def in_flight(self) -> int:
        """Calls waiting for their final frame."""
        return len(self._calls)

    async def wait_closed(self) -> None:
        """Returns once the connection is gone."""
        await self._closed.wait()

    # -- calls ---------------------------------------------------------------------------------

    def _register(self, streaming: bool) -> _Call:
        if not self.usable:
            why = self._close_reason or (
                "the server sent GOAWAY" if self.goaway is not None else "request ids exhausted")
            raise RPCError(StatusCode.UNAVAILABLE, f"connection to {self.name} not usable: {why}",
                           {NOT_PROCESSED: "true"}, local=True)
        self._last_id += 1
        call: _Call = _StreamCall(self._last_id, self.stream_window) if streaming else _UnaryCall(self._last_id, self._loop)
        self._calls[call.request_id] = call
        return call

    def _send_request(self, call: _Call, header: rpc_pb2.CallHeader, message: bytes, compressed: bool) -> None:
        header.accept_compression = self.accept_compression
        if isinstance(call, _StreamCall) and call.window:
            header.window_bytes = call.window
        frame = encode_request(call.request_id, header.SerializeToString(), message, compressed=compressed)
        # Frames are written whole by one synchronous write: they never interleave.
        self._writer.write(frame)

    async def _drain(self) -> None:
        try:
            async with self._drain_lock:
                await self._writer.drain()
        except OSError:
            pass  # the reader sees the connection end and fails the calls

    def cancel(self, request_id: int) -> None:
        """Forgets a call and sends CANCEL for it; frames that still arrive for it are ignored."""
        if self._calls.pop(request_id, None) is not None and not self.closed:
            self._writer.write(encode_frame(FrameType.CANCEL, request_id))

    def consumed(self, call: _StreamCall, wire_size: int) -> None:
        """The application took an answer of `call`: once half its window has been taken, grant
        the server that much more with WINDOW_UPDATE (only when the server flow-controls it)."""
        if not call.flow_controlled or self.closed or self._calls.get(call.request_id) is not call:
            return
        call.ungranted += wire_size
        if call.ungranted >= max(1, call.window // 2):
            self._writer.write(encode_window_update(call.request_id, min(call.ungranted, 0xFFFF_FFFF)))
            call.ungranted = 0

    async def unary(self, header: rpc_pb2.CallHeader, message: bytes, *, deadline: Optional[float],
                    compressed: bool = False) -> bytes:
        """Runs a unary call: returns the answer's bytes or raises RPCError. `deadline` is a
        `loop.time()` after which the call is cancelled and DEADLINE_EXCEEDED raised."""
        call = self._register(streaming=False)
        assert isinstance(call, _UnaryCall)
        self._send_request(call, header, message, compressed)

        async def answer() -> bytes:
            await self._drain()
            return await call.future

        try:
            if deadline is None:
                return await answer()
            return await asyncio.wait_for(answer(), timeout=max(0.0, deadline - self._loop.time()))
        except asyncio.TimeoutError:
            self.cancel(call.request_id)
            raise RPCError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded (no answer in time)", local=True) from None
        except asyncio.CancelledError:
            self.cancel(call.request_id)
            raise

    async def start_stream(self, header: rpc_pb2.CallHeader, message: bytes, *, deadline: Optional[float],
                           compressed: bool = False) -> "TransportStream":
        """Starts a server-streaming call; read its answers from the returned stream."""
        call = self._register(streaming=True)
        assert isinstance(call, _StreamCall)
        self._send_request(call, header, message, compressed)
        stream = TransportStream(self, call, deadline)
        try:
            await self._drain()
        except asyncio.CancelledError:
            stream.cancel()
            raise
        return stream

    async def ping(self, timeout: float = 5.0, data: Optional[bytes] = None) -> float:
        """Sends a PING and returns the seconds until its PONG (PROTOCOL.md §13)."""
        data = data if data is not None else os.urandom(8)
        if len(data) != 8:
            raise ValueError("a PING carries 8 bytes")
        if self.closed:
            raise RPCError(StatusCode.UNAVAILABLE, f"connection to {self.name} closed: {self._close_reason}",
                           local=True)
        waiter: asyncio.Future[float] = self._loop.create_future()
        self._pings[data] = waiter
        started = self._loop.time()
        self._writer.write(encode_frame(FrameType.PING, 0, data))
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise RPCError(StatusCode.DEADLINE_EXCEEDED, "no PONG in time", local=True) from None
        finally:
            self._pings.pop(data, None)
        return self._loop.time() - started

    async def close(self, reason: str = "closed by the client") -> None:
        """Closes the connection; calls still in flight end with CANCELLED."""
        self._shutdown(reason, StatusCode.CANCELLED)
        for task in (self._reader_task, self._keepalive_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        try:
            await self._writer.wait_closed()
        except (OSError, asyncio.CancelledError):
            pass

    # -- receiving -----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason = "connection closed by the server"
        try:
            while True:
                try:
                    raw = await self._reader.readexactly(HEADER_SIZE)
                except asyncio.IncompleteReadError as error:
                    if error.partial:
                        reason = "connection closed inside a frame"
                    break
                header = parse_header(raw, self.max_payload)
                payload = await self._reader.readexactly(header.length) if header.length else b""
                self._last_received = self._loop.time()
                self._dispatch(header.type, header.flags, header.request_id, payload)
        except asyncio.IncompleteReadError:
            reason = "connection closed inside a frame"
        except ProtocolError as error:
            reason = f"protocol error from the server: {error}"
        except (OSError, EOFError) as error:
            reason = f"connection lost: {error or type(error).__name__}"
        except asyncio.CancelledError:
            reason = self._close_reason or "closed by the client"
        if self.goaway is not None:
            reason += f" after GOAWAY (code {self.goaway.code}: {self.goaway.message})"
        self._shutdown(reason, StatusCode.UNAVAILABLE)

    def _dispatch(self, kind: FrameType, flags: int, request_id: int, payload: bytes) -> None:
        if kind == FrameType.MESSAGE:
            self._on_message(request_id, flags, payload)
        elif kind == FrameType.STATUS:
            self._on_status(request_id, payload)
        elif kind == FrameType.PING:
            self._writer.write(encode_frame(FrameType.PONG, 0, payload))
        elif kind == FrameType.PONG:
            waiter = self._pings.get(payload)
            if waiter is not None and not waiter.done():
                waiter.set_result(self._loop.time())
        elif kind == FrameType.GOAWAY:
            try:
                self.goaway = rpc_pb2.GoAway.FromString(payload)
            except DecodeError:
                raise ProtocolError("malformed GOAWAY") from None
            log.debug("%s: GOAWAY %s", self.name, self.goaway)
        else:  # REQUEST or CANCEL: only clients send those
            raise ProtocolError(f"unexpected {kind.name} frame from a server")

    def _on_message(self, request_id: int, flags: int, payload: bytes) -> None:
        call = self._calls.get(request_id)
        if call is None:
            self.ignored_frames += 1  # a late answer of a cancelled or timed-out call
            return
        wire_size = len(payload)
        if flags & FLAG_FLOW_CONTROLLED and isinstance(call, _StreamCall) and call.window:
            call.flow_controlled = True
        if flags & FLAG_COMPRESSED:
            self.compressed_answers += 1
            try:
                payload = compression.decompress(payload, self.max_payload)
            except ValueError as error:
                self.cancel(request_id)
                call.fail(RPCError(StatusCode.INTERNAL, f"bad compressed answer: {error}", local=True))
                return
        end = bool(flags & FLAG_END)
        if isinstance(call, _UnaryCall):
            if end:
                del self._calls[request_id]
                call.deliver(payload)
            else:
                self.cancel(request_id)
                call.fail(RPCError(StatusCode.INTERNAL, "server streamed answers to a unary call", local=True))
            return
        call.deliver(payload, wire_size)
        if end:
            del self._calls[request_id]
            call.end()

    def _on_status(self, request_id: int, payload: bytes) -> None:
        call = self._calls.pop(request_id, None)
        if call is None:
            self.ignored_frames += 1
            return
        try:
            status = rpc_pb2.CallStatus.FromString(payload)
        except DecodeError:
            call.fail(RPCError(StatusCode.INTERNAL, "malformed STATUS from the server", local=True))
            return
        if status.code != StatusCode.OK:
            call.fail(_status_error(status))
        elif isinstance(call, _StreamCall):
            call.end()
        else:
            call.fail(RPCError(StatusCode.INTERNAL, "server ended a unary call without an answer", local=True))

    # -- ending --------------------------------------------------------------------------------

    def _shutdown(self, reason: str, code: StatusCode) -> None:
        """Marks the connection gone and fails what is pending. Calls above a GOAWAY's
        `last_request_id` were not processed (§12, §14) and say so."""
        if self._close_reason is not None:
            return
        self._close_reason = reason
        calls, self._calls = self._calls, {}
        last = self.goaway.last_request_id if self.goaway is not None else None
        for call in calls.values():
            details = {NOT_PROCESSED: "true"} if last is not None and call.request_id > last else {}
            call.fail(RPCError(code, f"{self.name}: {reason}", details, local=True))
        for waiter in self._pings.values():
            if not waiter.done():
                waiter.set_exception(RPCError(StatusCode.UNAVAILABLE, reason, local=True))
        if self._keepalive_task is not None and self._keepalive_task is not asyncio.current_task():
            self._keepalive_task.cancel()
        self._writer.close()
        self._closed.set()
        log.debug("%s: closed: %s", self.name, reason)

    async def _keepalive(self, interval: float, timeout: float) -> None:
        """After `interval` seconds without any frame, PING; no PONG within `timeout`: close."""
        while not self.closed:
            idle = self._loop.time() - self._last_received
            if idle < interval:
                await asyncio.sleep(interval - idle)
                continue
            try:
                await self.ping(timeout)
            except RPCError:
                if not self.closed:
                    self._shutdown(f"no PONG within {timeout:g} s (keepalive)", StatusCode.UNAVAILABLE)
                    self._reader_task.cancel()
                return


class TransportStream:
    """The answers of one server-streaming call on a `Transport`."""

    def __init__(self, transport: Transport, call: _StreamCall, deadline: Optional[float]) -> None:
        self._transport = transport
        self._call = call
        self._deadline = deadline
        self._finished = False

    @property
    def request_id(self) -> int:
        return self._call.request_id

    async def next(self) -> Optional[bytes]:
        """The next answer's bytes; None once the stream ended with OK. Raises RPCError when it
        ended otherwise, and DEADLINE_EXCEEDED (after sending CANCEL) when the deadline passes."""
        if self._finished:
            return None
        try:
            if self._deadline is None:
                kind, value, wire_size = await self._call.queue.get()
            else:
                remaining = max(0.0, self._deadline - asyncio.get_running_loop().time())
                kind, value, wire_size = await asyncio.wait_for(self._call.queue.get(), remaining)
        except asyncio.TimeoutError:
            self.cancel()
            raise RPCError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded (stream not ended in time)",
                           local=True) from None
        except asyncio.CancelledError:
            self.cancel()
            raise
        if kind == "message":
            assert isinstance(value, bytes)
            self._transport.consumed(self._call, wire_size)
            return value
        self._finished = True
        if kind == "error":
            assert isinstance(value, RPCError)
            raise value
        return None

    def cancel(self) -> None:
        """Stops the call: sends CANCEL unless it has already ended."""
        if not self._finished:
            self._finished = True
            self._transport.cancel(self._call.request_id)

    def __del__(self) -> None:
        # A stream dropped unfinished (e.g. `break` out of `async for` without `async with`):
        # cancel it on its loop, whichever thread the garbage collector runs in.
        if not self._finished:
            loop = self._transport._loop
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._transport.cancel, self._call.request_id)

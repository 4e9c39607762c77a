"""`AsyncConnection`: the asyncio client. One connection at a time to one server address,
shared by every call, replaced when it closes or drains; deadlines and retries on top.

    async with retain.AsyncConnection("127.0.0.1", 7000, authorization=retain.bearer(token)) as conn:
        answer = await conn.unary("retain.v1.Echo/Echo", EchoRequest(text="hi"), EchoResponse)
        async for item in conn.server_streaming("retain.v1.Echo/Expand", ExpandRequest(count=3), EchoResponse):
            ...

Typed stubs (`retain.AsyncEchoClient(conn).echo(...)`) call through these two methods.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as _ssl
from dataclasses import dataclass, field
from typing import Generic, Mapping, Optional, Set, Type, TypeVar, Union

from google.protobuf.message import DecodeError, Message

from . import compression
from ._generated import rpc_pb2
from .errors import RPCError, StatusCode
from .framing import DEFAULT_MAX_PAYLOAD
from .retry import DEFAULT_RETRY, RetryCallback, RetryEvent, RetryPolicy
from .transport import DEFAULT_STREAM_WINDOW, Transport, TransportStream

__all__ = ["AsyncConnection", "AsyncResponseStream", "DEFAULT_DEADLINE_GRACE"]

log = logging.getLogger("retain.connection")

M = TypeVar("M", bound=Message)

#: How long after a call's deadline the client gives up locally, unless the server's own
#: DEADLINE_EXCEEDED came first (PROTOCOL.md §9: clients SHOULD also time out locally).
DEFAULT_DEADLINE_GRACE = 0.05


@dataclass
class _CallSpec:
    """Everything about one call that does not change between attempts."""

    method: str
    message: bytes
    compressed: bool
    authorization: str
    trace_id: str
    idempotency_key: str
    metadata: Mapping[str, str]
    idempotent: bool
    retry: RetryPolicy
    deadline: Optional[float]  # loop.time(), None for none
    attempt: int = field(default=0)

    def header(self, now: float) -> rpc_pb2.CallHeader:
        """The CallHeader of the next attempt, with what is left of the deadline."""
        header = rpc_pb2.CallHeader(method=self.method, authorization=self.authorization, trace_id=self.trace_id,
                                    idempotency_key=self.idempotency_key, metadata=dict(self.metadata))
        if self.deadline is not None:
            # 0 would mean "no deadline": an expired one is sent as 1 µs (§9).
            header.timeout_us = max(1, int((self.deadline - now) * 1_000_000))
        return header


class AsyncConnection:
    """A client for one Retain server address (asyncio).

    Args:
        host, port: the server (its RPC port, not the ops port).
        ssl: an `ssl.SSLContext` to speak TLS (PROTOCOL.md §1); None for plain TCP.
        server_hostname: the name to check in the server's certificate (default: `host`).
        authorization: default credential of every call (`retain.api_key(...)`,
            `retain.bearer(...)`); a call's own `authorization` option overrides it.
        default_timeout: deadline of calls that set none, seconds; None for no deadline.
        retry: the retry policy (`retain.RetryPolicy`); `retain.NO_RETRY` to never retry.
        on_retry: called with a `retain.RetryEvent` before each retry.
        connect_timeout: how long opening a connection may take, seconds.
        deadline_grace: how long after a deadline the client waits for the server's own
            DEADLINE_EXCEEDED before giving up locally (sending CANCEL), seconds.
        max_payload: the largest frame payload (and decompressed message) accepted.
        accept_compression: ask for zstd-compressed answers; default: when `zstandard` is installed.
        keepalive_interval: PING after this many seconds without any frame from the server, and
            close the connection when no PONG comes within `keepalive_timeout`; None: never.
        stream_window: the flow-control window of each server stream, bytes (PROTOCOL.md §15):
            the server sends at most this much beyond what the application has taken, and is
            granted more as it iterates; 0 asks for none. Default 256 KiB.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl: Optional[_ssl.SSLContext] = None,
        server_hostname: Optional[str] = None,
        authorization: Optional[str] = None,
        default_timeout: Optional[float] = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        on_retry: Optional[RetryCallback] = None,
        connect_timeout: float = 5.0,
        deadline_grace: float = DEFAULT_DEADLINE_GRACE,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        accept_compression: Optional[bool] = None,
        keepalive_interval: Optional[float] = 30.0,
        keepalive_timeout: float = 30.0,
        stream_window: int = DEFAULT_STREAM_WINDOW,
    ) -> None:
        self.host = host
        self.stream_window = stream_window
        self.port = port
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.authorization = authorization or ""
        self.default_timeout = default_timeout
        self.retry = retry
        self.on_retry = on_retry
        self.connect_timeout = connect_timeout
        self.deadline_grace = deadline_grace
        self.max_payload = max_payload
        if accept_compression and not compression.available():
            raise ValueError("accept_compression needs the 'zstandard' package")
        self.accept_compression = compression.available() if accept_compression is None else accept_compression
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self._transport: Optional[Transport] = None
        self._retired: Set[Transport] = set()
        self._connect_lock: Optional[asyncio.Lock] = None
        self._closed = False
        #: Connections opened so far (a new one after each drain or loss).
        self.connections_opened = 0

    def __repr__(self) -> str:
        return f"AsyncConnection({self.host!r}, {self.port})"

    async def __aenter__(self) -> "AsyncConnection":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- connections -----------------------------------------------------------------------------

    @property
    def transport(self) -> Optional[Transport]:
        """The current connection, if one is open (for diagnostics)."""
        return self._transport

    async def connect(self) -> None:
        """Opens the connection now rather than at the first call; raises UNAVAILABLE."""
        await self._current_transport(None)

    async def _current_transport(self, deadline: Optional[float]) -> Transport:
        """The open connection, or a new one when there is none or it drains."""
        if self._closed:
            raise RPCError(StatusCode.CANCELLED, "connection closed by the client", local=True)
        transport = self._transport
        if transport is not None and transport.usable:
            return transport
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            transport = self._transport
            if transport is not None and transport.usable:
                return transport
            if transport is not None:
                self._retire(transport)
                self._transport = None
            timeout = self.connect_timeout
            if deadline is not None:
                timeout = min(timeout, deadline - asyncio.get_running_loop().time())
            transport = await Transport.open(
                self.host, self.port, ssl=self.ssl, server_hostname=self.server_hostname, connect_timeout=timeout,
                max_payload=self.max_payload, accept_compression=self.accept_compression,
                keepalive_interval=self.keepalive_interval, keepalive_timeout=self.keepalive_timeout,
                stream_window=self.stream_window)
            self.connections_opened += 1
            if self._closed:
                await transport.close()
                raise RPCError(StatusCode.CANCELLED, "connection closed by the client", local=True)
            self._transport = transport
            return transport

    def _retire(self, transport: Transport) -> None:
        """Keeps a draining connection until the server closes it (its calls still finish)."""
        if transport.closed:
            return
        self._retired.add(transport)
        waiter = asyncio.ensure_future(transport.wait_closed())
        waiter.add_done_callback(lambda _: self._retired.discard(transport))

    async def ping(self, timeout: float = 5.0) -> float:
        """Round-trip time of a PING on the current connection, seconds."""
        transport = await self._current_transport(None)
        return await transport.ping(timeout)

    async def close(self) -> None:
        """Closes every connection; calls still running end with CANCELLED."""
        self._closed = True
        transports = list(self._retired) + ([self._transport] if self._transport is not None else [])
        self._transport = None
        self._retired.clear()
        for transport in transports:
            await transport.close()

    # -- calls ---------------------------------------------------------------------------------

    def _spec(
        self,
        method: str,
        request: Union[Message, bytes],
        *,
        timeout: Optional[float] = None,
        authorization: Optional[str] = None,
        trace_id: str = "",
        idempotency_key: str = "",
        metadata: Optional[Mapping[str, str]] = None,
        idempotent: bool = False,
        compress: Optional[bool] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> _CallSpec:
        if not method or "\0" in method:
            raise ValueError(f"invalid method name {method!r}")
        message = request if isinstance(request, bytes) else request.SerializeToString()
        compressed = False
        if compress or (compress is None and compression.available() and len(message) >= compression.DEFAULT_THRESHOLD):
            packed = compression.compress(message)
            if compress or len(packed) < len(message):
                message, compressed = packed, True
        timeout = self.default_timeout if timeout is None else timeout
        deadline = None if timeout is None else asyncio.get_running_loop().time() + max(0.0, timeout)
        return _CallSpec(
            method=method, message=message, compressed=compressed,
            authorization=self.authorization if authorization is None else authorization,
            trace_id=trace_id, idempotency_key=idempotency_key, metadata=dict(metadata or {}),
            idempotent=idempotent or bool(idempotency_key), retry=retry or self.retry, deadline=deadline)

    def _local_deadline(self, spec: _CallSpec) -> Optional[float]:
        return None if spec.deadline is None else spec.deadline + self.deadline_grace

    async def _before_retry(self, spec: _CallSpec, error: RPCError) -> None:
        """Raises `error` unless the rule allows another attempt; otherwise waits the backoff."""
        error.attempts = spec.attempt
        if not spec.retry.should_retry(error, spec.attempt, idempotent=spec.idempotent):
            raise error
        delay = spec.retry.backoff(spec.attempt)
        if spec.deadline is not None and asyncio.get_running_loop().time() + delay >= spec.deadline:
            raise error  # no time left for another attempt: the caller's deadline is not extended
        log.debug("retrying %s after %s (attempt %d, in %.3f s)", spec.method, error, spec.attempt, delay)
        if self.on_retry is not None:
            self.on_retry(RetryEvent(spec.method, spec.attempt, error, delay))
        await asyncio.sleep(delay)

    def _check_deadline(self, spec: _CallSpec) -> float:
        now = asyncio.get_running_loop().time()
        if spec.deadline is not None and now >= spec.deadline:
            raise RPCError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before the call could be sent",
                           local=True, attempts=max(1, spec.attempt))
        return now

    async def unary(self, method: str, request: Union[Message, bytes], response_type: Type[M], *,
                    timeout: Optional[float] = None, authorization: Optional[str] = None, trace_id: str = "",
                    idempotency_key: str = "", metadata: Optional[Mapping[str, str]] = None,
                    idempotent: bool = False, compress: Optional[bool] = None,
                    retry: Optional[RetryPolicy] = None) -> M:
        """Calls a unary method (`retain.v1.<Service>/<Method>`) and returns its decoded answer.
        Raises `RPCError` for any other outcome. Options: see `retain.CallOptions`.
        Cancelling the awaiting task sends CANCEL to the server."""
        spec = self._spec(method, request, timeout=timeout, authorization=authorization, trace_id=trace_id,
                          idempotency_key=idempotency_key, metadata=metadata, idempotent=idempotent,
                          compress=compress, retry=retry)
        while True:
            now = self._check_deadline(spec)
            spec.attempt += 1
            try:
                transport = await self._current_transport(spec.deadline)
                answer = await transport.unary(spec.header(now), spec.message, deadline=self._local_deadline(spec),
                                               compressed=spec.compressed)
                break
            except RPCError as error:
                await self._before_retry(spec, error)
        try:
            return response_type.FromString(answer)
        except DecodeError as error:
            raise RPCError(StatusCode.INTERNAL, f"undecodable {response_type.__name__}: {error}", local=True,
                           attempts=spec.attempt) from None

    def server_streaming(self, method: str, request: Union[Message, bytes], response_type: Type[M], *,
                         timeout: Optional[float] = None, authorization: Optional[str] = None, trace_id: str = "",
                         idempotency_key: str = "", metadata: Optional[Mapping[str, str]] = None,
                         idempotent: bool = False, compress: Optional[bool] = None,
                         retry: Optional[RetryPolicy] = None) -> "AsyncResponseStream[M]":
        """Calls a server-streaming method; iterate the result with ``async for``. The call
        starts at the first iteration. Leaving early: use ``async with`` or `cancel()`, which
        sends CANCEL. Options: see `retain.CallOptions`. Must be called in the event loop."""
        spec = self._spec(method, request, timeout=timeout, authorization=authorization, trace_id=trace_id,
                          idempotency_key=idempotency_key, metadata=metadata, idempotent=idempotent,
                          compress=compress, retry=retry)
        return AsyncResponseStream(self, spec, response_type)


class AsyncResponseStream(Generic[M]):
    """The answers of a server-streaming call, as an async iterator.

    The call is retried under the rule of `retain.retry` only before its first answer arrived.
    """

    def __init__(self, connection: AsyncConnection, spec: _CallSpec, response_type: Type[M]) -> None:
        self._connection = connection
        self._spec = spec
        self._response_type = response_type
        self._stream: Optional[TransportStream] = None
        self._received = 0
        self._done = False

    @property
    def received(self) -> int:
        """Answers received so far."""
        return self._received

    @property
    def done(self) -> bool:
        """True once the stream ended (OK, error or cancelled)."""
        return self._done

    def __aiter__(self) -> "AsyncResponseStream[M]":
        return self

    async def __aenter__(self) -> "AsyncResponseStream[M]":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cancel()

    async def __anext__(self) -> M:
        if self._done:
            raise StopAsyncIteration
        try:
            payload = await self._next_payload()
        except BaseException:
            self._done = True
            if self._stream is not None:
                self._stream.cancel()
            raise
        if payload is None:
            self._done = True
            raise StopAsyncIteration
        self._received += 1
        try:
            return self._response_type.FromString(payload)
        except DecodeError as error:
            self.cancel()
            raise RPCError(StatusCode.INTERNAL, f"undecodable {self._response_type.__name__}: {error}",
                           local=True, attempts=self._spec.attempt) from None

    async def _next_payload(self) -> Optional[bytes]:
        spec = self._spec
        connection = self._connection
        while True:
            try:
                if self._stream is None:
                    now = connection._check_deadline(spec)
                    spec.attempt += 1
                    transport = await connection._current_transport(spec.deadline)
                    self._stream = await transport.start_stream(
                        spec.header(now), spec.message, deadline=connection._local_deadline(spec),
                        compressed=spec.compressed)
                return await self._stream.next()
            except RPCError as error:
                error.attempts = spec.attempt
                if self._received:
                    raise  # answers were already delivered: never repeat them
                self._stream = None
                await connection._before_retry(spec, error)

    def cancel(self) -> None:
        """Stops the stream: sends CANCEL when the call is still running."""
        self._done = True
        if self._stream is not None:
            self._stream.cancel()

    async def aclose(self) -> None:
        """Same as `cancel()`, for `contextlib.aclosing`."""
        self.cancel()

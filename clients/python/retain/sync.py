"""`Connection`: the synchronous client, safe to share between threads.

It runs an `AsyncConnection` on a private event loop thread, so one TCP connection carries the
calls of every thread at once, and the protocol is implemented once (`retain.transport`).

    with retain.Connection("127.0.0.1", 7000) as conn:
        answer = conn.unary("retain.v1.Echo/Echo", EchoRequest(text="hi"), EchoResponse)
        for item in conn.server_streaming("retain.v1.Echo/Expand", ExpandRequest(count=3), EchoResponse):
            ...
        call = conn.start_unary("retain.v1.Echo/Sleep", SleepRequest(duration_ms=5000), EchoResponse)
        call.cancel()  # sends CANCEL
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl as _ssl
import threading
from typing import Any, Awaitable, Callable, Generic, Mapping, Optional, Type, TypeVar, Union

from google.protobuf.message import Message

from .connection import DEFAULT_DEADLINE_GRACE, AsyncConnection, AsyncResponseStream
from .errors import RPCError, StatusCode
from .framing import DEFAULT_MAX_PAYLOAD
from .retry import DEFAULT_RETRY, RetryCallback, RetryPolicy
from .transport import DEFAULT_STREAM_WINDOW

__all__ = ["Connection", "Call", "ResponseStream", "connect"]

M = TypeVar("M", bound=Message)
T = TypeVar("T")


class _LoopThread:
    """An event loop running forever on a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._stopped = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def submit(self, coroutine: Awaitable[T]) -> "concurrent.futures.Future[T]":
        async def run() -> T:
            return await coroutine

        if self._stopped:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            raise RPCError(StatusCode.CANCELLED, "connection closed by the client", local=True)
        return asyncio.run_coroutine_threadsafe(run(), self.loop)

    def run(self, coroutine: Awaitable[T]) -> T:
        """Runs `coroutine` on the loop and waits for it; interrupting the wait (Ctrl-C)
        cancels it."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("a retain.Connection cannot be used from its own event loop thread")
        future = self.submit(coroutine)
        try:
            return future.result()
        except concurrent.futures.CancelledError:  # the loop stopped under it (close())
            raise RPCError(StatusCode.CANCELLED, "connection closed by the client", local=True) from None
        except BaseException:
            future.cancel()
            raise

    def call_soon(self, function: Callable[[], Any]) -> None:
        if self.loop.is_running() and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(function)

    def stop(self) -> None:
        self._stopped = True
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)


class Call(Generic[M]):
    """A unary call started with `Connection.start_unary`."""

    def __init__(self, future: "concurrent.futures.Future[M]") -> None:
        self._future = future

    def result(self, timeout: Optional[float] = None) -> M:
        """Waits for the answer (at most `timeout` seconds of waiting, which is not the call's
        deadline: it raises `concurrent.futures.TimeoutError` and leaves the call running).
        Raises `RPCError`, CANCELLED after `cancel()`."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.CancelledError:
            raise RPCError(StatusCode.CANCELLED, "cancelled by the caller", local=True) from None

    def cancel(self) -> bool:
        """Gives up on the call and sends CANCEL; False when it had already ended."""
        return self._future.cancel()

    def done(self) -> bool:
        """Whether the call has ended (or was cancelled)."""
        return self._future.done()

    def add_done_callback(self, callback: Callable[["Call[M]"], None]) -> None:
        """Calls `callback(self)` when the call ends, on the connection's loop thread."""
        self._future.add_done_callback(lambda _: callback(self))


class ResponseStream(Generic[M]):
    """The answers of a server-streaming call, as an iterator. Stopping early: use ``with`` or
    `cancel()`, which sends CANCEL."""

    def __init__(self, loop: _LoopThread, stream: AsyncResponseStream[M]) -> None:
        self._loop = loop
        self._stream = stream

    def __iter__(self) -> "ResponseStream[M]":
        return self

    def __next__(self) -> M:
        try:
            return self._loop.run(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def __enter__(self) -> "ResponseStream[M]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    @property
    def received(self) -> int:
        """Answers received so far."""
        return self._stream.received

    @property
    def done(self) -> bool:
        """True once the stream ended (OK, error or cancelled)."""
        return self._stream.done

    def cancel(self) -> None:
        """Stops the stream: sends CANCEL when the call is still running."""
        if not self._stream.done:
            self._loop.call_soon(self._stream.cancel)

    close = cancel


class Connection:
    """A client for one Retain server address, for threads. Takes the same arguments as
    `retain.AsyncConnection`; every method may be called from any thread at the same time."""

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
        self._loop = _LoopThread(f"retain-{host}:{port}")

        async def make() -> AsyncConnection:
            return AsyncConnection(
                host, port, ssl=ssl, server_hostname=server_hostname, authorization=authorization,
                default_timeout=default_timeout, retry=retry, on_retry=on_retry, connect_timeout=connect_timeout,
                deadline_grace=deadline_grace, max_payload=max_payload, accept_compression=accept_compression,
                keepalive_interval=keepalive_interval, keepalive_timeout=keepalive_timeout,
                stream_window=stream_window)

        try:
            self._async = self._loop.run(make())
        except BaseException:
            self._loop.stop()
            raise
        self._closed = False

    def __repr__(self) -> str:
        return f"Connection({self._async.host!r}, {self._async.port})"

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def asynchronous(self) -> AsyncConnection:
        """The underlying `AsyncConnection` (it lives on this connection's loop thread)."""
        return self._async

    def connect(self) -> None:
        """Opens the connection now rather than at the first call; raises UNAVAILABLE."""
        self._loop.run(self._async.connect())

    def unary(self, method: str, request: Union[Message, bytes], response_type: Type[M], *,
              timeout: Optional[float] = None, authorization: Optional[str] = None, trace_id: str = "",
              idempotency_key: str = "", metadata: Optional[Mapping[str, str]] = None,
              idempotent: bool = False, compress: Optional[bool] = None,
              retry: Optional[RetryPolicy] = None) -> M:
        """Calls a unary method and returns its decoded answer; raises `RPCError`.
        Options: see `retain.CallOptions`."""
        return self._loop.run(self._async.unary(
            method, request, response_type, timeout=timeout, authorization=authorization, trace_id=trace_id,
            idempotency_key=idempotency_key, metadata=metadata, idempotent=idempotent, compress=compress,
            retry=retry))

    def start_unary(self, method: str, request: Union[Message, bytes], response_type: Type[M], *,
                    timeout: Optional[float] = None, authorization: Optional[str] = None, trace_id: str = "",
                    idempotency_key: str = "", metadata: Optional[Mapping[str, str]] = None,
                    idempotent: bool = False, compress: Optional[bool] = None,
                    retry: Optional[RetryPolicy] = None) -> Call[M]:
        """Starts a unary call and returns at once: `Call.result()` waits, `Call.cancel()`
        cancels."""
        return Call(self._loop.submit(self._async.unary(
            method, request, response_type, timeout=timeout, authorization=authorization, trace_id=trace_id,
            idempotency_key=idempotency_key, metadata=metadata, idempotent=idempotent, compress=compress,
            retry=retry)))

    def server_streaming(self, method: str, request: Union[Message, bytes], response_type: Type[M], *,
                         timeout: Optional[float] = None, authorization: Optional[str] = None, trace_id: str = "",
                         idempotency_key: str = "", metadata: Optional[Mapping[str, str]] = None,
                         idempotent: bool = False, compress: Optional[bool] = None,
                         retry: Optional[RetryPolicy] = None) -> ResponseStream[M]:
        """Calls a server-streaming method; iterate the result. Options: see `retain.CallOptions`."""
        async def start() -> AsyncResponseStream[M]:
            return self._async.server_streaming(
                method, request, response_type, timeout=timeout, authorization=authorization, trace_id=trace_id,
                idempotency_key=idempotency_key, metadata=metadata, idempotent=idempotent, compress=compress,
                retry=retry)
        return ResponseStream(self._loop, self._loop.run(start()))

    def ping(self, timeout: float = 5.0) -> float:
        """Round-trip time of a PING, seconds."""
        return self._loop.run(self._async.ping(timeout))

    def close(self) -> None:
        """Closes the connection and stops its loop thread; running calls end with CANCELLED."""
        if self._closed:
            return
        self._closed = True
        try:
            self._loop.run(self._async.close())
        finally:
            self._loop.stop()


def connect(host: str, port: int, **options: Any) -> Connection:
    """A `Connection` to `host:port`, connected at once (raises UNAVAILABLE when it cannot)."""
    connection = Connection(host, port, **options)
    try:
        connection.connect()
    except BaseException:
        connection.close()
        raise
    return connection

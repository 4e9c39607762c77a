"""The retry rule, provoked for real: refused connections, crashes, drains, UNAVAILABLE answers.

Retried: UNAVAILABLE with `not_processed` (always), other UNAVAILABLE (only idempotent calls:
an idempotency key or `idempotent=True`). Never: any other status; never past the deadline.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import List, Optional, Tuple

import pytest
from servers import ServerProcess, free_port

import retain
from retain import RetryEvent, RetryPolicy, RPCError, StatusCode, is_retryable
from retain.framing import HEADER_SIZE, FrameHeader, FrameType, encode_request, parse_header
from retain.pb import echo_pb2, rpc_pb2

SLEEP = "retain.v1.Echo/Sleep"
FAIL = "retain.v1.Echo/Fail"
PATIENT = RetryPolicy(max_attempts=100, initial_backoff=0.05, max_backoff=0.1)


def start_later(delay: float, port: int, started: List[ServerProcess],
                after: Optional[ServerProcess] = None) -> threading.Thread:
    """Starts a retain-echo on `port` after `delay` seconds (and after `after` has exited)."""
    def run() -> None:
        if after is not None:
            after.process.wait(20)
        time.sleep(delay)
        started.append(ServerProcess("retain-echo", port=port))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_refused_connection_is_not_processed_and_retried_until_the_server_listens() -> None:
    port = free_port()
    events: List[RetryEvent] = []
    started: List[ServerProcess] = []
    with retain.Connection("127.0.0.1", port, retry=PATIENT, on_retry=events.append) as conn:
        thread = start_later(0.4, port, started)
        try:
            answer = retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text="eventually"), timeout=15)
        finally:
            thread.join()
            for server in started:
                server.kill()
    assert answer.text == "eventually"
    assert len(events) >= 2
    for event in events:
        assert event.error.code == StatusCode.UNAVAILABLE and event.error.not_processed and event.error.local
        assert "cannot connect" in event.error.message
    assert [event.attempt for event in events] == list(range(1, len(events) + 1))


def test_refused_connection_gives_up_after_max_attempts() -> None:
    events: List[RetryEvent] = []
    with retain.Connection("127.0.0.1", free_port(), retry=RetryPolicy(max_attempts=3, initial_backoff=0.01),
                           on_retry=events.append) as conn:
        with pytest.raises(RPCError) as caught:
            retain.EchoClient(conn).echo(echo_pb2.EchoRequest())
    assert caught.value.code == StatusCode.UNAVAILABLE and caught.value.not_processed
    assert caught.value.attempts == 3 and len(events) == 2


def test_crash_mid_call_is_not_retried_when_not_idempotent() -> None:
    events: List[RetryEvent] = []
    with ServerProcess("retain-echo") as server, \
            retain.Connection(server.host, server.port, retry=PATIENT, on_retry=events.append) as conn:
        call = conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=2000), echo_pb2.EchoResponse)
        time.sleep(0.2)
        server.kill()  # no GOAWAY: the call's fate is unknown
        with pytest.raises(RPCError) as caught:
            call.result()
    assert caught.value.code == StatusCode.UNAVAILABLE and not caught.value.not_processed
    assert caught.value.attempts == 1 and events == []


def test_idempotent_call_is_retried_after_a_crash() -> None:
    events: List[RetryEvent] = []
    started: List[ServerProcess] = []
    with ServerProcess("retain-echo") as first, \
            retain.Connection(first.host, first.port, retry=PATIENT, on_retry=events.append) as conn:
        call = conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=300, text="done"), echo_pb2.EchoResponse,
                                idempotent=True, timeout=15)
        time.sleep(0.15)
        first.kill()
        thread = start_later(0.2, first.port, started)
        try:
            assert call.result().text == "done"
            thread.join()
            assert started[0].handled(SLEEP, "OK") == 1  # the retry ran on the new server
        finally:
            thread.join()
            for server in started:
                server.kill()
    assert events and events[0].error.code == StatusCode.UNAVAILABLE and not events[0].error.not_processed
    assert conn.asynchronous.connections_opened == 2


def test_unavailable_answer_is_retried_only_for_idempotent_calls(fresh_echo: ServerProcess) -> None:
    quick = RetryPolicy(max_attempts=3, initial_backoff=0.01)
    with retain.Connection(fresh_echo.host, fresh_echo.port, retry=quick) as conn:
        echo = retain.EchoClient(conn)
        unavailable = echo_pb2.FailRequest(code=StatusCode.UNAVAILABLE, message="busy")

        with pytest.raises(RPCError) as plain:
            echo.fail(unavailable)
        assert plain.value.code == StatusCode.UNAVAILABLE and plain.value.attempts == 1
        assert fresh_echo.wait_handled(FAIL, "UNAVAILABLE", 1) == 1

        with pytest.raises(RPCError) as keyed:
            echo.fail(unavailable, idempotency_key="key-1")
        assert keyed.value.attempts == 3
        assert fresh_echo.wait_handled(FAIL, "UNAVAILABLE", 4) == 4  # the server saw every attempt

        with pytest.raises(RPCError) as flagged:
            echo.fail(unavailable, idempotent=True)
        assert flagged.value.attempts == 3
        assert fresh_echo.wait_handled(FAIL, "UNAVAILABLE", 7) == 7

        with pytest.raises(RPCError) as other:  # any other code is the server's answer
            echo.fail(echo_pb2.FailRequest(code=StatusCode.ABORTED), idempotent=True)
        assert other.value.code == StatusCode.ABORTED and other.value.attempts == 1
        assert fresh_echo.wait_handled(FAIL, "ABORTED", 1) == 1


def test_retries_never_extend_the_deadline(echo_server: ServerProcess) -> None:
    slow_retries = RetryPolicy(max_attempts=100, initial_backoff=0.1, max_backoff=0.1, jitter=0)
    with retain.Connection(echo_server.host, echo_server.port, retry=slow_retries) as conn:
        started = time.monotonic()
        with pytest.raises(RPCError) as caught:
            retain.EchoClient(conn).fail(echo_pb2.FailRequest(code=StatusCode.UNAVAILABLE), idempotent=True,
                                         timeout=0.5)
        elapsed = time.monotonic() - started
    assert caught.value.code == StatusCode.UNAVAILABLE
    assert 2 <= caught.value.attempts <= 6 and elapsed < 0.7, (caught.value.attempts, elapsed)


def test_drain_finishes_running_calls_and_new_calls_move_on() -> None:
    events: List[RetryEvent] = []
    started: List[ServerProcess] = []
    with ServerProcess("retain-echo") as first, \
            retain.Connection(first.host, first.port, retry=PATIENT, on_retry=events.append) as conn:
        echo = retain.EchoClient(conn)
        running = conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=600, text="finished"),
                                   echo_pb2.EchoResponse)
        time.sleep(0.15)
        draining = conn.asynchronous.transport
        first.terminate()  # SIGTERM: GOAWAY, running calls finish, then the server exits
        assert running.result().text == "finished"
        assert draining is not None and draining.goaway is not None
        assert (draining.goaway.code, draining.goaway.last_request_id) == (0, 1)
        assert first.process.wait(10) == 0
        # A new call cannot use the drained connection; the address refuses until it restarts.
        thread = start_later(0.3, first.port, started, after=first)
        try:
            assert echo.echo(echo_pb2.EchoRequest(text="next"), timeout=15).text == "next"
        finally:
            thread.join()
            for server in started:
                server.kill()
    assert events and all(event.error.not_processed for event in events)
    assert conn.asynchronous.connections_opened == 2


def test_request_after_goaway_is_refused_as_not_processed() -> None:
    """The server's side of the rule: a REQUEST that crosses the GOAWAY is refused with
    UNAVAILABLE and details not_processed=true, which `is_retryable` accepts for any call."""

    def read_frame(sock: socket.socket) -> Tuple[FrameHeader, bytes]:
        def exactly(count: int) -> bytes:
            data = b""
            while len(data) < count:
                chunk = sock.recv(count - len(data))
                assert chunk, "connection closed"
                data += chunk
            return data
        header = parse_header(exactly(HEADER_SIZE))
        return header, exactly(header.length)

    def request(request_id: int, method: str, message: bytes) -> bytes:
        return encode_request(request_id, rpc_pb2.CallHeader(method=method).SerializeToString(), message)

    with ServerProcess("retain-echo") as server, socket.create_connection((server.host, server.port), 5) as sock:
        sock.sendall(request(1, SLEEP, echo_pb2.SleepRequest(duration_ms=500).SerializeToString()))
        time.sleep(0.1)
        server.terminate()
        header, payload = read_frame(sock)
        assert header.type == FrameType.GOAWAY
        assert rpc_pb2.GoAway.FromString(payload).last_request_id == 1
        sock.sendall(request(2, "retain.v1.Echo/Echo", echo_pb2.EchoRequest(text="late").SerializeToString()))
        header, payload = read_frame(sock)
        assert (header.type, header.request_id) == (FrameType.STATUS, 2)
        status = rpc_pb2.CallStatus.FromString(payload)
        error = RPCError(StatusCode.from_wire(status.code), status.message, status.details)
        assert error.code == StatusCode.UNAVAILABLE and error.not_processed
        assert is_retryable(error, idempotent=False)
        header, _ = read_frame(sock)
        assert (header.type, header.request_id) == (FrameType.MESSAGE, 1)  # the accepted call still ends

"""The sync client against a real retain-echo: calls, errors, concurrency, streams, deadlines,
cancellation."""

from __future__ import annotations

import gc
import threading
import time
from typing import Callable, List

import pytest
from servers import ServerProcess

import retain
from retain import RPCError, StatusCode
from retain.pb import echo_pb2

SLEEP = "retain.v1.Echo/Sleep"
EXPAND = "retain.v1.Echo/Expand"


def test_unary_echo(conn: retain.Connection) -> None:
    echo = retain.EchoClient(conn)
    payload = bytes(range(256)) * 400  # 100 KiB, every byte value
    answer = echo.echo(echo_pb2.EchoRequest(text="héllo, wörld", payload=payload))
    assert answer.text == "héllo, wörld" and answer.payload == payload
    empty = echo.echo(echo_pb2.EchoRequest())
    assert empty.text == "" and empty.payload == b""


def test_generic_call_by_path(conn: retain.Connection) -> None:
    answer = conn.unary("retain.v1.Echo/Echo", echo_pb2.EchoRequest(text="raw"), echo_pb2.EchoResponse)
    assert answer.text == "raw"
    encoded = conn.unary("retain.v1.Echo/Echo", echo_pb2.EchoRequest(text="bytes").SerializeToString(),
                         echo_pb2.EchoResponse)
    assert encoded.text == "bytes"


def test_call_header_reaches_the_server(conn: retain.Connection) -> None:
    answer = retain.EchoClient(conn).inspect(
        echo_pb2.InspectRequest(user_id="u1", text="meta"), timeout=2.0, trace_id="trace-abc",
        idempotency_key="idem-1", metadata={"x-tenant": "acme"})
    assert (answer.user_id, answer.text) == ("u1", "meta")
    assert answer.trace_id == "trace-abc" and answer.idempotency_key == "idem-1"
    assert dict(answer.metadata) == {"x-tenant": "acme"}
    assert 1_000_000 < answer.deadline_remaining_us <= 2_000_000
    plain = retain.EchoClient(conn).inspect(echo_pb2.InspectRequest())
    assert plain.deadline_remaining_us == 0 and plain.trace_id == ""


def test_error_status_carries_code_and_message(conn: retain.Connection) -> None:
    echo = retain.EchoClient(conn)
    with pytest.raises(RPCError) as caught:
        echo.fail(echo_pb2.FailRequest(code=9, message="nope"))
    assert caught.value.code == StatusCode.FAILED_PRECONDITION
    assert caught.value.message == "nope" and not caught.value.local and caught.value.attempts == 1
    # Codes outside 0-16 are UNKNOWN (PROTOCOL.md §18), whether the server or the client maps them.
    with pytest.raises(RPCError) as unknown:
        echo.fail(echo_pb2.FailRequest(code=42, message="odd"))
    assert unknown.value.code == StatusCode.UNKNOWN and "odd" in unknown.value.message
    assert StatusCode.from_wire(42) == StatusCode.UNKNOWN


def test_unary_call_never_succeeds_without_an_answer(conn: retain.Connection) -> None:
    # Echo/Fail with code 0 has no answer to give: the call fails (the current server sends
    # UNKNOWN; PROTOCOL.md §21.5 describes STATUS 0, which the client reports as INTERNAL).
    with pytest.raises(RPCError) as caught:
        retain.EchoClient(conn).fail(echo_pb2.FailRequest(code=0))
    assert caught.value.code in (StatusCode.UNKNOWN, StatusCode.INTERNAL)


def test_malformed_request_is_invalid_argument(conn: retain.Connection) -> None:
    with pytest.raises(RPCError) as caught:  # field 1 claims 100 bytes that are not there
        conn.unary("retain.v1.Echo/Echo", b"\x0a\x64abc", echo_pb2.EchoResponse)
    assert caught.value.code == StatusCode.INVALID_ARGUMENT and not caught.value.local


@pytest.mark.parametrize("method", ["retain.v1.Echo/Nope", "retain.v1.Nope/Echo", "Echo"])
def test_unknown_method_is_unimplemented(conn: retain.Connection, method: str) -> None:
    with pytest.raises(RPCError) as caught:
        conn.unary(method, echo_pb2.EchoRequest(), echo_pb2.EchoResponse)
    assert caught.value.code == StatusCode.UNIMPLEMENTED and not caught.value.local
    assert method in caught.value.message
    assert retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text="still")).text == "still"


def test_many_concurrent_calls_share_one_connection(fresh_echo: ServerProcess) -> None:
    with retain.Connection(fresh_echo.host, fresh_echo.port) as conn:
        echo = retain.EchoClient(conn)
        durations = [600, 500, 400, 300, 200, 100]
        finished: List[int] = []
        started = time.monotonic()
        calls = [conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=d, text=str(i)), echo_pb2.EchoResponse)
                 for i, d in enumerate(durations)]
        def record(index: int) -> Callable[[object], None]:
            return lambda _: finished.append(index)

        for index, call in enumerate(calls):
            call.add_done_callback(record(index))
        errors: List[BaseException] = []

        def echo_many(thread: int) -> None:
            try:
                for n in range(40):
                    text = f"{thread}-{n}"
                    assert echo.echo(echo_pb2.EchoRequest(text=text)).text == text
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=echo_many, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        assert [call.result().text for call in calls] == [str(i) for i in range(len(durations))]
        elapsed = time.monotonic() - started
        # Concurrent, not one after another (2.1 s in sequence), and answered out of order.
        assert elapsed < 1.5, elapsed
        assert finished == list(reversed(range(len(durations))))
        assert conn.asynchronous.connections_opened == 1
        assert fresh_echo.metrics()["rpc_server_connections"] == 1.0
        assert fresh_echo.handled("retain.v1.Echo/Echo", "OK") == 8 * 40


def test_server_streaming(conn: retain.Connection) -> None:
    echo = retain.EchoClient(conn)
    answers = list(echo.expand(echo_pb2.ExpandRequest(text="x", count=25, interval_ms=2)))
    assert [a.index for a in answers] == list(range(25)) and all(a.text == "x" for a in answers)
    assert list(echo.expand(echo_pb2.ExpandRequest(count=0))) == []


def test_stream_deadline_ends_stream_with_deadline_exceeded(conn: retain.Connection) -> None:
    seen = []
    started = time.monotonic()
    with pytest.raises(RPCError) as caught:
        for answer in retain.EchoClient(conn).expand(
                echo_pb2.ExpandRequest(text="s", count=100, interval_ms=50), timeout=0.3):
            seen.append(answer.index)
    assert caught.value.code == StatusCode.DEADLINE_EXCEEDED and not caught.value.local
    assert 0 < len(seen) < 100 and time.monotonic() - started < 1.5


def test_deadline_exceeded_by_the_server(fresh_echo: ServerProcess) -> None:
    with retain.Connection(fresh_echo.host, fresh_echo.port, deadline_grace=1.0) as conn:
        echo = retain.EchoClient(conn)
        started = time.monotonic()
        with pytest.raises(RPCError) as caught:
            echo.sleep(echo_pb2.SleepRequest(duration_ms=5000), timeout=0.2)
        assert caught.value.code == StatusCode.DEADLINE_EXCEEDED and not caught.value.local
        assert 0.2 <= time.monotonic() - started < 1.0
        assert fresh_echo.wait_handled(SLEEP, "DEADLINE_EXCEEDED", 1) == 1
        assert echo.sleep(echo_pb2.SleepRequest(duration_ms=10, text="in time"), timeout=5).text == "in time"


def test_deadline_enforced_locally_when_the_server_is_silent(fresh_echo: ServerProcess) -> None:
    with retain.Connection(fresh_echo.host, fresh_echo.port, deadline_grace=0.05) as conn:
        echo = retain.EchoClient(conn)
        conn.connect()
        fresh_echo.pause()  # the connection stays open, nothing is answered
        try:
            started = time.monotonic()
            with pytest.raises(RPCError) as caught:
                echo.echo(echo_pb2.EchoRequest(text="anyone?"), timeout=0.3)
            elapsed = time.monotonic() - started
        finally:
            fresh_echo.resume()
        assert caught.value.code == StatusCode.DEADLINE_EXCEEDED and caught.value.local
        assert 0.3 <= elapsed < 1.0, elapsed
        assert echo.echo(echo_pb2.EchoRequest(text="back"), timeout=5).text == "back"
        assert conn.asynchronous.connections_opened == 1


def test_cancel_sends_cancel_and_frees_the_server(tmp_path: object) -> None:
    # With one concurrent call allowed per connection, the next call only runs once the server
    # has read the CANCEL of the first and stopped its handler.
    with ServerProcess("retain-echo", ["--max-concurrent-calls", "1"]) as server, \
            retain.Connection(server.host, server.port) as conn:
        echo = retain.EchoClient(conn)
        call = conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=10_000), echo_pb2.EchoResponse)
        time.sleep(0.2)
        with pytest.raises(RPCError) as busy:
            echo.sleep(echo_pb2.SleepRequest(duration_ms=1))
        assert busy.value.code == StatusCode.RESOURCE_EXHAUSTED and busy.value.attempts == 1
        assert call.cancel()
        with pytest.raises(RPCError) as cancelled:
            call.result()
        assert cancelled.value.code == StatusCode.CANCELLED and cancelled.value.local
        assert server.wait_handled(SLEEP, "CANCELLED", 1) == 1
        assert echo.sleep(echo_pb2.SleepRequest(duration_ms=1, text="free")).text == "free"
        transport = conn.asynchronous.transport
        assert transport is not None and transport.ignored_frames == 0  # nothing came for the cancelled id


def test_leaving_a_stream_early_cancels_it(fresh_echo: ServerProcess) -> None:
    with retain.Connection(fresh_echo.host, fresh_echo.port) as conn:
        with retain.EchoClient(conn).expand(echo_pb2.ExpandRequest(text="c", count=1000, interval_ms=20)) as stream:
            assert next(stream).index == 0
            assert next(stream).index == 1
        assert fresh_echo.wait_handled(EXPAND, "CANCELLED", 1) == 1
        assert retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text="again")).text == "again"


def test_ping(conn: retain.Connection) -> None:
    assert 0 < conn.ping() < 1.0


def test_health_and_reflection(conn: retain.Connection) -> None:
    health = retain.HealthClient(conn)
    serving = retain.pb.health_pb2.SERVING_STATUS_SERVING
    assert health.check(retain.pb.health_pb2.HealthCheckRequest(service="retain.v1.Echo")).status == serving
    with pytest.raises(RPCError) as caught:
        health.check(retain.pb.health_pb2.HealthCheckRequest(service="retain.v1.Nope"))
    assert caught.value.code == StatusCode.NOT_FOUND
    with health.watch(retain.pb.health_pb2.HealthCheckRequest(service="retain.v1.Echo")) as watch:
        assert next(watch).status == serving


def test_a_dropped_stream_is_cancelled(fresh_echo: ServerProcess) -> None:
    with retain.Connection(fresh_echo.host, fresh_echo.port) as conn:
        stream = retain.EchoClient(conn).expand(echo_pb2.ExpandRequest(count=1000, interval_ms=20))
        assert next(stream).index == 0
        del stream
        gc.collect()
        assert fresh_echo.wait_handled(EXPAND, "CANCELLED", 1) == 1


def test_calls_after_close_are_cancelled(echo_server: ServerProcess) -> None:
    conn = retain.Connection(echo_server.host, echo_server.port)
    echo = retain.EchoClient(conn)
    running = conn.start_unary(SLEEP, echo_pb2.SleepRequest(duration_ms=5000), echo_pb2.EchoResponse)
    assert echo.echo(echo_pb2.EchoRequest(text="open")).text == "open"
    conn.close()
    with pytest.raises(RPCError) as pending:
        running.result(timeout=5)
    assert pending.value.code == StatusCode.CANCELLED and pending.value.local
    with pytest.raises(RPCError) as after:
        echo.echo(echo_pb2.EchoRequest())
    assert after.value.code == StatusCode.CANCELLED


def test_a_sync_stream_read_slowly_is_flow_controlled_and_completes(echo_server: ServerProcess) -> None:
    window = 8 << 10
    with retain.Connection(echo_server.host, echo_server.port, stream_window=window) as connection:
        stream = retain.EchoClient(connection).expand(echo_pb2.ExpandRequest(text="y" * 1000, count=100))
        assert next(stream).index == 0
        time.sleep(0.2)
        call = stream._stream._stream._call  # type: ignore[union-attr]
        assert call.flow_controlled
        assert call.queue.qsize() * 1000 <= window + 2 * 1010
        assert connection.unary("retain.v1.Echo/Echo", echo_pb2.EchoRequest(text="beside"),
                                echo_pb2.EchoResponse).text == "beside"
        assert [answer.index for answer in stream] == list(range(1, 100))

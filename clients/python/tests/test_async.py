"""The asyncio client against a real retain-echo."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest
from servers import ServerProcess

import retain
from retain import RPCError, StatusCode
from retain.pb import echo_pb2

SLEEP = "retain.v1.Echo/Sleep"
EXPAND = "retain.v1.Echo/Expand"


def test_gather_many_calls_on_one_connection(fresh_echo: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(fresh_echo.host, fresh_echo.port) as conn:
            echo = retain.AsyncEchoClient(conn)
            started = time.monotonic()
            sleeps = [echo.sleep(echo_pb2.SleepRequest(duration_ms=d, text=f"s{d}")) for d in (500, 400, 300, 200)]
            echoes = [echo.echo(echo_pb2.EchoRequest(text=str(i))) for i in range(500)]
            answers = await asyncio.gather(*sleeps, *echoes)
            elapsed = time.monotonic() - started
            assert [a.text for a in answers[:4]] == ["s500", "s400", "s300", "s200"]
            assert [a.text for a in answers[4:]] == [str(i) for i in range(500)]
            assert elapsed < 1.2, elapsed  # 1.4 s of sleeps, overlapped
            assert conn.connections_opened == 1
            assert fresh_echo.metrics()["rpc_server_connections"] == 1.0
            assert fresh_echo.handled("retain.v1.Echo/Echo", "OK") == 500

    asyncio.run(main())


def test_async_stream_and_errors(echo_server: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(echo_server.host, echo_server.port, deadline_grace=1.0) as conn:
            echo = retain.AsyncEchoClient(conn)
            indices = [answer.index async for answer in echo.expand(echo_pb2.ExpandRequest(text="a", count=10))]
            assert indices == list(range(10))
            with pytest.raises(RPCError) as unimplemented:
                await conn.unary("retain.v1.Echo/Missing", echo_pb2.EchoRequest(), echo_pb2.EchoResponse)
            assert unimplemented.value.code == StatusCode.UNIMPLEMENTED
            with pytest.raises(RPCError) as failed:
                await echo.fail(echo_pb2.FailRequest(code=5, message="gone"))
            assert (failed.value.code, failed.value.message) == (StatusCode.NOT_FOUND, "gone")
            started = time.monotonic()
            with pytest.raises(RPCError) as late:
                await echo.sleep(echo_pb2.SleepRequest(duration_ms=5000), timeout=0.2)
            assert late.value.code == StatusCode.DEADLINE_EXCEEDED and not late.value.local
            assert time.monotonic() - started < 1.0

    asyncio.run(main())


def test_cancelling_the_task_sends_cancel() -> None:
    with ServerProcess("retain-echo", ["--max-concurrent-calls", "1"]) as server:
        async def main() -> None:
            async with retain.AsyncConnection(server.host, server.port) as conn:
                echo = retain.AsyncEchoClient(conn)
                task = asyncio.ensure_future(echo.sleep(echo_pb2.SleepRequest(duration_ms=10_000)))
                await asyncio.sleep(0.2)
                assert not task.done()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # The server read the CANCEL: its only call slot is free again.
                answer = await echo.sleep(echo_pb2.SleepRequest(duration_ms=1, text="free"), timeout=5)
                assert answer.text == "free"

        asyncio.run(main())
        assert server.wait_handled(SLEEP, "CANCELLED", 1) == 1


def test_leaving_an_async_stream_cancels_it(fresh_echo: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(fresh_echo.host, fresh_echo.port) as conn:
            echo = retain.AsyncEchoClient(conn)
            async with echo.expand(echo_pb2.ExpandRequest(count=1000, interval_ms=20)) as stream:
                async for answer in stream:
                    if answer.index == 2:
                        break
            assert stream.received == 3 and stream.done
            await asyncio.sleep(0)
            assert fresh_echo.wait_handled(EXPAND, "CANCELLED", 1) == 1
            # Dropped without `async with` or cancel(): cancelled when collected.
            async for answer in echo.expand(echo_pb2.ExpandRequest(count=1000, interval_ms=20)):
                break
            del answer
            gc.collect()
            await asyncio.sleep(0.05)
            assert fresh_echo.wait_handled(EXPAND, "CANCELLED", 2) == 2
            assert (await echo.echo(echo_pb2.EchoRequest(text="ok"))).text == "ok"

    asyncio.run(main())


def test_async_ping_and_deadline_locally(fresh_echo: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(fresh_echo.host, fresh_echo.port, deadline_grace=0.05) as conn:
            assert 0 < await conn.ping() < 1
            fresh_echo.pause()
            try:
                with pytest.raises(RPCError) as caught:
                    await retain.AsyncEchoClient(conn).echo(echo_pb2.EchoRequest(), timeout=0.2)
            finally:
                fresh_echo.resume()
            assert caught.value.code == StatusCode.DEADLINE_EXCEEDED and caught.value.local

    asyncio.run(main())


def test_keepalive_closes_a_connection_whose_server_stopped_answering(fresh_echo: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(fresh_echo.host, fresh_echo.port, keepalive_interval=0.2,
                                          keepalive_timeout=0.3) as conn:
            await conn.connect()
            transport = conn.transport
            assert transport is not None
            fresh_echo.pause()
            try:
                await asyncio.wait_for(transport.wait_closed(), 3)
            finally:
                fresh_echo.resume()
            assert transport.closed and not transport.usable
            # The next call opens a new connection.
            assert (await retain.AsyncEchoClient(conn).echo(echo_pb2.EchoRequest(text="new"))).text == "new"
            assert conn.connections_opened == 2

    asyncio.run(main())


def test_a_stalled_stream_gets_no_more_than_its_window_and_unary_calls_still_pass(fresh_echo: ServerProcess) -> None:
    async def main() -> None:
        window = 16 << 10
        async with retain.AsyncConnection(fresh_echo.host, fresh_echo.port, stream_window=window) as conn:
            stream = conn.server_streaming(EXPAND, echo_pb2.ExpandRequest(text="x" * 2000, count=200),
                                           echo_pb2.EchoResponse)
            first = await stream.__anext__()
            assert first.index == 0
            await asyncio.sleep(0.3)  # the application stops consuming
            call = stream._stream._call  # type: ignore[union-attr]
            assert call.flow_controlled
            waiting = call.queue.qsize()
            assert 0 < waiting * 2000 <= window + 2 * 2010, waiting
            echo = retain.AsyncEchoClient(conn)
            for i in range(50):
                started = time.monotonic()
                assert (await echo.echo(echo_pb2.EchoRequest(text=str(i)))).text == str(i)
                assert time.monotonic() - started < 0.5
            assert call.queue.qsize() == waiting  # still stalled: nothing more was sent
            indices = [answer.index async for answer in stream]
            assert indices == list(range(1, 200))

    asyncio.run(main())


def test_a_stream_without_a_window_is_not_flow_controlled(echo_server: ServerProcess) -> None:
    async def main() -> None:
        async with retain.AsyncConnection(echo_server.host, echo_server.port, stream_window=0) as conn:
            stream = conn.server_streaming(EXPAND, echo_pb2.ExpandRequest(text="x" * 2000, count=100),
                                           echo_pb2.EchoResponse)
            assert (await stream.__anext__()).index == 0
            await asyncio.sleep(0.3)
            call = stream._stream._call  # type: ignore[union-attr]
            assert not call.flow_controlled
            assert call.queue.qsize() == 100  # every answer and the end arrived without any grant
            assert [answer.index async for answer in stream] == list(range(1, 100))

    asyncio.run(main())

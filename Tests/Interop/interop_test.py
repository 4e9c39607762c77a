#!/usr/bin/env python3
"""Interop test: a Python client, built only from docs/PROTOCOL.md and the .proto files, calls a
running `retain-echo` and decodes its answers.

    python3 Tests/Interop/interop_test.py --port 7000 [--host 127.0.0.1]
    RETAIN_SERVICE_SECRET=... python3 Tests/Interop/interop_test.py --port 7000 --secured-port 7001

Prints one line per check and `N passed, M failed`; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from retain_client import (  # noqa: E402
    CANCEL, FLAG_COMPRESSED, GOAWAY, MESSAGE, PING, PONG, REQUEST, STATUS, Code, Connection, RpcError,
    ZSTD_MAGIC, encode_frame, encode_request, exchange_raw, load_protos, mint_service_token, zstd_stored_frame,
)

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


class Failure(AssertionError):
    pass


def expect(condition, message="expectation failed"):
    if not condition:
        raise Failure(message)


def expect_error(code, function, *args, **kwargs) -> RpcError:
    try:
        value = function(*args, **kwargs)
    except RpcError as error:
        expect(error.code == code, f"expected {Code(code).name}, got {error}")
        return error
    raise Failure(f"expected {Code(code).name}, got an answer: {value!r}")


class Env:
    def __init__(self, host, port, pb):
        self.host, self.port, self.pb = host, port, pb
        self.conn = self.fresh()

    def fresh(self) -> Connection:
        # A generous grace before the local deadline fires, so that the checks see the server's
        # own DEADLINE_EXCEEDED even on a loaded machine.
        return Connection(self.host, self.port, self.pb, local_deadline_grace=1.0)


ECHO = "retain.v1.Echo/Echo"
EXPAND = "retain.v1.Echo/Expand"
SLEEP = "retain.v1.Echo/Sleep"
FAIL = "retain.v1.Echo/Fail"


# ---------------------------------------------------------------------------------------------
# Calls

@check
def unary_echo_text_and_bytes(env: Env):
    pb = env.pb.echo
    payload = bytes(range(256)) * 400  # 100 KiB, every byte value
    answer = env.conn.unary(ECHO, pb.EchoRequest(text="héllo, wörld", payload=payload), pb.EchoResponse)
    expect(answer.text == "héllo, wörld", f"text {answer.text!r}")
    expect(answer.payload == payload, "payload differs")
    empty = env.conn.unary(ECHO, pb.EchoRequest(), pb.EchoResponse)
    expect(empty.text == "" and empty.payload == b"", "empty request should echo an empty answer")


@check
def worked_example_bytes(env: Env):
    # The exact REQUEST and MESSAGE of docs/PROTOCOL.md's worked example, on a raw socket.
    request = bytes.fromhex(
        "0000001d 01 01 00 00 00000001 00000015 0a13 72657461696e2e76312e4563686f2f4563686f 0a02 6869"
        .replace(" ", ""))
    expect(request == encode_request(env.pb, 1, ECHO, env.pb.echo.EchoRequest(text="hi").SerializeToString()),
           "encode_request differs from the documented bytes")
    frames, _ = exchange_raw(env.host, env.port, request, frames_wanted=1)
    expect(len(frames) == 1, f"frames {frames}")
    answer = frames[0]
    raw = struct.pack(">IBBBBI", len(answer.payload), 1, answer.type, answer.flags, answer.reserved,
                      answer.request_id) + answer.payload
    expect(raw.hex() == "0000000401020200000000010a026869", f"answer bytes {raw.hex()}")


@check
def metadata_reaches_the_server(env: Env):
    pb = env.pb.echo
    answer = env.conn.unary("retain.v1.Echo/Inspect", pb.InspectRequest(user_id="u1", text="meta"),
                            pb.InspectResponse, authorization="key-123", trace_id="trace-abc",
                            idempotency_key="idem-1", metadata={"x-tenant": "acme"}, timeout=2.0)
    expect(answer.text == "meta" and answer.user_id == "u1", f"{answer}")
    expect(answer.trace_id == "trace-abc" and answer.idempotency_key == "idem-1", f"{answer}")
    expect(dict(answer.metadata) == {"x-tenant": "acme"}, f"metadata {dict(answer.metadata)}")
    expect(1_000_000 < answer.deadline_remaining_us <= 2_000_000, f"deadline {answer.deadline_remaining_us}")
    plain = env.conn.unary("retain.v1.Echo/Inspect", pb.InspectRequest(), pb.InspectResponse)
    expect(plain.deadline_remaining_us == 0 and plain.trace_id == "", f"{plain}")


@check
def concurrent_calls_answered_out_of_order(env: Env):
    pb = env.pb.echo
    conn = env.fresh()
    try:
        durations = [500, 400, 300, 200, 100, 0]
        calls = [conn.start_unary(SLEEP, pb.SleepRequest(duration_ms=d, text=str(i)), pb.EchoResponse)
                 for i, d in enumerate(durations)]
        # Many quick calls from several threads at the same time, on the same connection.
        errors = []

        def echo_many(thread):
            try:
                for n in range(25):
                    text = f"{thread}-{n}"
                    expect(conn.unary(ECHO, pb.EchoRequest(text=text), pb.EchoResponse).text == text)
            except Exception as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=echo_many, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expect(not errors, f"echo errors: {errors[:3]}")
        for index, call in enumerate(calls):
            expect(call.result().text == str(index), f"call {index} got another call's answer")
        sleep_ids = [call.request_id for call in calls]
        order = [rid for rid in conn.completed if rid in sleep_ids]
        expect(order == list(reversed(sleep_ids)), f"completion order {order}, sent {sleep_ids}")
    finally:
        conn.close()


@check
def server_streaming_expand(env: Env):
    pb = env.pb.echo
    answers = list(env.conn.server_streaming(EXPAND, pb.ExpandRequest(text="x", count=25, interval_ms=2),
                                             pb.EchoResponse))
    expect([a.index for a in answers] == list(range(25)), f"indices {[a.index for a in answers]}")
    expect(all(a.text == "x" for a in answers))
    expect(list(env.conn.server_streaming(EXPAND, pb.ExpandRequest(count=0), pb.EchoResponse)) == [],
           "an empty stream ends with OK and no answers")


@check
def streaming_deadline(env: Env):
    pb = env.pb.echo
    seen = []
    started = time.monotonic()
    try:
        for answer in env.conn.server_streaming(EXPAND, pb.ExpandRequest(text="s", count=100, interval_ms=50),
                                                pb.EchoResponse, timeout=0.3):
            seen.append(answer.index)
        raise Failure("stream should not end with OK")
    except RpcError as error:
        expect(error.code == Code.DEADLINE_EXCEEDED and error.origin == "server", f"got {error} ({error.origin})")
    expect(0 < len(seen) < 100, f"saw {len(seen)} answers")
    expect(time.monotonic() - started < 2)


@check
def error_status_fail_code_9(env: Env):
    pb = env.pb.echo
    error = expect_error(Code.FAILED_PRECONDITION, env.conn.unary, FAIL,
                         pb.FailRequest(code=9, message="nope"), pb.EchoResponse)
    expect(error.message == "nope" and error.origin == "server", f"{error.message!r} from {error.origin}")


@check
def unknown_method_unimplemented(env: Env):
    pb = env.pb.echo
    for method in ["retain.v1.Echo/Nope", "retain.v1.Nope/Echo", "", "Echo"]:
        error = expect_error(Code.UNIMPLEMENTED, env.conn.unary, method, pb.EchoRequest(), pb.EchoResponse)
        expect(error.origin == "server")
    expect(env.conn.unary(ECHO, pb.EchoRequest(text="ok"), pb.EchoResponse).text == "ok",
           "the connection stays usable")


@check
def malformed_request_message_invalid_argument(env: Env):
    pb = env.pb.echo
    # Field 1 (string) claiming 100 bytes that are not there.
    expect_error(Code.INVALID_ARGUMENT, env.conn.unary, ECHO, b"\x0a\x64abc", pb.EchoResponse)
    expect(env.conn.unary(ECHO, pb.EchoRequest(text="ok"), pb.EchoResponse).text == "ok")


@check
def malformed_call_header_invalid_argument(env: Env):
    # Header length larger than the payload, then a header that is not protobuf.
    short = encode_frame(REQUEST, 5, struct.pack(">I", 50) + b"\x0a\x01")
    garbled = encode_frame(REQUEST, 6, struct.pack(">I", 3) + b"\x0a\x64x")
    frames, _ = exchange_raw(env.host, env.port, short + garbled, frames_wanted=2)
    expect([(f.type, f.request_id) for f in frames] == [(STATUS, 5), (STATUS, 6)], f"frames {frames}")
    for frame in frames:
        status = env.pb.rpc.CallStatus.FromString(frame.payload)
        expect(status.code == Code.INVALID_ARGUMENT, f"status {status}")


@check
def deadline_exceeded_from_server(env: Env):
    pb = env.pb.echo
    started = time.monotonic()
    error = expect_error(Code.DEADLINE_EXCEEDED, env.conn.unary, SLEEP, pb.SleepRequest(duration_ms=5000),
                         pb.EchoResponse, timeout=0.2)
    expect(error.origin == "server", f"the server should enforce the deadline, got {error.origin}")
    expect(time.monotonic() - started < 2, "deadline took too long")
    expect(env.conn.unary(ECHO, pb.EchoRequest(text="after"), pb.EchoResponse).text == "after")
    # A deadline long enough is no error.
    expect(env.conn.unary(SLEEP, pb.SleepRequest(duration_ms=10, text="in time"), pb.EchoResponse,
                          timeout=5).text == "in time")


@check
def cancellation_stops_the_call(env: Env):
    pb = env.pb.echo
    conn = env.fresh()
    try:
        call = conn.start_unary(SLEEP, pb.SleepRequest(duration_ms=10_000), pb.EchoResponse)
        time.sleep(0.1)
        call.cancel()
        expect_error(Code.CANCELLED, call.result)
        expect(conn.unary(ECHO, pb.EchoRequest(text="still here"), pb.EchoResponse).text == "still here")
        # Cancelling a stream: close the generator after the first answer.
        stream = conn.server_streaming(EXPAND, pb.ExpandRequest(text="c", count=1000, interval_ms=20),
                                       pb.EchoResponse)
        expect(next(stream).index == 0)
        stream.close()
        time.sleep(0.4)
        late = [f for f in conn.unknown_frames if f.request_id == call.request_id]
        expect(not late, f"the server answered a cancelled call: {late}")
        expect(conn.unary(ECHO, pb.EchoRequest(text="again"), pb.EchoResponse).text == "again")
    finally:
        conn.close()


@check
def compressed_request(env: Env):
    pb = env.pb.echo
    payload = b"retain " * 30_000  # 210 KB: two raw zstd blocks
    answer = env.conn.unary(ECHO, pb.EchoRequest(text="z", payload=payload), pb.EchoResponse, compress=True)
    expect(answer.payload == payload and answer.text == "z")
    small = env.conn.unary(ECHO, pb.EchoRequest(text="tiny"), pb.EchoResponse, compress=True)
    expect(small.text == "tiny")
    # A zstd frame without a declared content size is refused: INVALID_ARGUMENT.
    message = pb.EchoRequest(text="no size").SerializeToString()
    frame = struct.pack("<I", ZSTD_MAGIC) + bytes([0x00, 0x00]) \
        + struct.pack("<I", (len(message) << 3) | 1)[:3] + message
    header = env.pb.rpc.CallHeader(method=ECHO).SerializeToString()
    request = encode_frame(REQUEST, 9, struct.pack(">I", len(header)) + header + frame, FLAG_COMPRESSED)
    frames, _ = exchange_raw(env.host, env.port, request, frames_wanted=1)
    expect(frames and frames[0].type == STATUS, f"frames {frames}")
    expect(env.pb.rpc.CallStatus.FromString(frames[0].payload).code == Code.INVALID_ARGUMENT)
    # A frame really compressed by the zstd tool, when it is installed.
    zstd = shutil.which("zstd")
    if zstd:
        plain = pb.EchoRequest(text="real", payload=payload).SerializeToString()
        packed = subprocess.run([zstd, "-q", "-c", f"--stream-size={len(plain)}"], input=plain,
                                capture_output=True, check=True).stdout
        expect(len(packed) < len(plain) // 10, "zstd should shrink a repetitive payload")
        request = encode_frame(REQUEST, 10, struct.pack(">I", len(header)) + header + packed, FLAG_COMPRESSED)
        frames, _ = exchange_raw(env.host, env.port, request, frames_wanted=1)
        expect(frames and frames[0].type == MESSAGE, f"frames {[(f.type_name, f.payload[:80]) for f in frames]}")
        expect(pb.EchoResponse.FromString(frames[0].payload).payload == payload)


@check
def compressed_answers_when_accepted(env: Env):
    pb = env.pb.echo
    payload = b"compress me " * 20_000  # 240 KB, far above the server's threshold
    if not env.conn.accept_compression:
        print("     (no zstd decoder here: compressed answers not requested)")
        return
    before = env.conn.compressed_answers
    answer = env.conn.unary(ECHO, pb.EchoRequest(text="big", payload=payload), pb.EchoResponse)
    expect(answer.payload == payload, "payload differs after decompression")
    expect(env.conn.compressed_answers == before + 1, "the server should compress a large answer")
    small = env.conn.unary(ECHO, pb.EchoRequest(text="small"), pb.EchoResponse)
    expect(small.text == "small" and env.conn.compressed_answers == before + 1, "small answers stay plain")
    # Without accept_compression the same answer comes back plain.
    plain_conn = Connection(env.host, env.port, env.pb, accept_compression=False)
    try:
        answer = plain_conn.unary(ECHO, pb.EchoRequest(payload=payload), pb.EchoResponse)
        expect(answer.payload == payload and plain_conn.compressed_answers == 0, "answer compressed unasked")
    finally:
        plain_conn.close()


@check
def request_ids_reusable_after_the_call_ended(env: Env):
    pb = env.pb.echo
    one = encode_request(env.pb, 1, ECHO, pb.EchoRequest(text="a").SerializeToString())
    again = encode_request(env.pb, 1, ECHO, pb.EchoRequest(text="b").SerializeToString())
    high = encode_request(env.pb, 0xFFFFFFFF, ECHO, pb.EchoRequest(text="c").SerializeToString())
    frames, _ = exchange_raw(env.host, env.port, one + again + high, frames_wanted=3)
    expect([(f.type, f.request_id) for f in frames] == [(MESSAGE, 1), (MESSAGE, 1), (MESSAGE, 0xFFFFFFFF)],
           f"frames {frames}")
    expect([pb.EchoResponse.FromString(f.payload).text for f in frames] == ["a", "b", "c"])


@check
def ping_pong(env: Env):
    rtt = env.conn.ping(b"\x01\x02\x03\x04\x05\x06\x07\x08")
    expect(rtt < 2, f"rtt {rtt}")
    frames, _ = exchange_raw(env.host, env.port, encode_frame(PING, 0, b"opaque!!"), frames_wanted=1)
    expect([(f.type, f.request_id, f.payload) for f in frames] == [(PONG, 0, b"opaque!!")], f"frames {frames}")


# ---------------------------------------------------------------------------------------------
# Health and reflection

@check
def health_check(env: Env):
    pb = env.pb.health
    serving = pb.SERVING_STATUS_SERVING
    for service in ["", "retain.v1.Echo", "retain.v1.Health", "retain.v1.Reflection"]:
        answer = env.conn.unary("retain.v1.Health/Check", pb.HealthCheckRequest(service=service),
                                pb.HealthCheckResponse)
        expect(answer.status == serving, f"{service!r}: {answer.status}")
    expect_error(Code.NOT_FOUND, env.conn.unary, "retain.v1.Health/Check",
                 pb.HealthCheckRequest(service="retain.v1.Nope"), pb.HealthCheckResponse)


@check
def health_watch(env: Env):
    pb = env.pb.health
    conn = env.fresh()
    try:
        stream = conn.server_streaming("retain.v1.Health/Watch", pb.HealthCheckRequest(service="retain.v1.Echo"),
                                       pb.HealthCheckResponse)
        expect(next(stream).status == pb.SERVING_STATUS_SERVING)
        stream.close()  # cancels the call
        unknown = conn.server_streaming("retain.v1.Health/Watch", pb.HealthCheckRequest(service="retain.v1.Nope"),
                                        pb.HealthCheckResponse)
        expect(next(unknown).status == pb.SERVING_STATUS_SERVICE_UNKNOWN)
        unknown.close()
    finally:
        conn.close()


@check
def reflection_list_services(env: Env):
    pb = env.pb.reflection
    listing = env.conn.unary("retain.v1.Reflection/ListServices", pb.ListServicesRequest(),
                             pb.ListServicesResponse)
    names = [service.name for service in listing.services]
    expect(names == sorted(names), f"services not sorted: {names}")
    for name in ["retain.v1.Echo", "retain.v1.Health", "retain.v1.Reflection"]:
        expect(name in names, f"{name} missing from {names}")
    echo = next(service for service in listing.services if service.name == "retain.v1.Echo")
    expect({"Echo", "Expand", "Fail", "Sleep"} <= {m.name for m in echo.methods}, f"{echo.methods}")
    for method in echo.methods:
        expect(method.path == f"retain.v1.Echo/{method.name}", method.path)
        expect(method.server_streaming == (method.name == "Expand"), f"{method.name} streaming flag")
    expand = next(m for m in echo.methods if m.name == "Expand")
    expect(expand.input_type == "retain.v1.ExpandRequest" and expand.output_type == "retain.v1.EchoResponse",
           f"{expand}")


@check
def reflection_descriptor_set(env: Env):
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pb = env.pb.reflection
    answer = env.conn.unary("retain.v1.Reflection/GetDescriptorSet", pb.GetDescriptorSetRequest(),
                            pb.GetDescriptorSetResponse)
    files = descriptor_pb2.FileDescriptorSet.FromString(answer.file_descriptor_set)
    names = [f.name for f in files.file]
    for name in ["retain/v1/rpc.proto", "retain/v1/echo.proto", "retain/v1/health.proto",
                 "retain/v1/reflection.proto", "retain/v1/common.proto"]:
        expect(name in names, f"{name} missing from {names}")
    for index, file in enumerate(files.file):
        for dependency in file.dependency:
            expect(dependency in names[:index], f"{file.name} comes before its import {dependency}")
    # A generic client: build the schemas from the set alone and call Echo with them.
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    service = pool.FindServiceByName("retain.v1.Echo")
    expect({"Echo", "Expand", "Fail", "Sleep"} <= {m.name for m in service.methods})
    method = service.methods_by_name["Echo"]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    echoed = env.conn.unary(f"{service.full_name}/{method.name}", request_class(text="dynamic"), response_class)
    expect(echoed.text == "dynamic")


# ---------------------------------------------------------------------------------------------
# Connection errors: GOAWAY with a code, then the server closes the connection

def expect_goaway(env: Env, data: bytes, code: int, contains: str = ""):
    frames, ending = exchange_raw(env.host, env.port, data)
    expect(frames and frames[-1].type == GOAWAY, f"expected GOAWAY, got {frames} ({ending})")
    goaway = env.pb.rpc.GoAway.FromString(frames[-1].payload)
    expect(goaway.code == code, f"GOAWAY code {goaway.code}, expected {code}: {goaway.message}")
    expect(contains in goaway.message, f"message {goaway.message!r}")
    expect(ending == "eof", f"the server should close the connection, stream ended with {ending}")
    return frames, goaway


@check
def goaway_unsupported_version(env: Env):
    bad = struct.pack(">IBBBBI", 0, 2, PING, 0, 0, 0)
    expect_goaway(env, bad, Code.UNIMPLEMENTED, "version")


@check
def goaway_oversized_frame(env: Env):
    # Only the header: the server must refuse from the header, without waiting for the body.
    header = struct.pack(">IBBBBI", (4 << 20) + 1, 1, REQUEST, 0, 0, 1)
    expect_goaway(env, header, Code.RESOURCE_EXHAUSTED, "exceeds the maximum")


@check
def goaway_unknown_type_flags_and_garbage(env: Env):
    expect_goaway(env, struct.pack(">IBBBBI", 0, 1, 99, 0, 0, 0), Code.INVALID_ARGUMENT, "type")
    expect_goaway(env, struct.pack(">IBBBBI", 0, 1, PING, 0x80, 0, 0), Code.INVALID_ARGUMENT, "flags")
    expect_goaway(env, encode_frame(MESSAGE, 3, b"\x0a\x00"), Code.INVALID_ARGUMENT, "MESSAGE")
    frames, ending = exchange_raw(env.host, env.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(frames and frames[-1].type == GOAWAY and ending == "eof", f"{frames} {ending}")


@check
def goaway_duplicate_request_id(env: Env):
    pb = env.pb.echo
    sleep = pb.SleepRequest(duration_ms=2000).SerializeToString()
    first = encode_request(env.pb, 7, SLEEP, sleep)
    frames, goaway = expect_goaway(env, first + first, Code.INVALID_ARGUMENT, "7")
    expect(goaway.last_request_id == 7, f"last_request_id {goaway.last_request_id}")
    # The call already accepted is not answered once the connection is gone.
    expect([f.type for f in frames] == [GOAWAY], f"frames {frames}")


@check
def cancel_for_unknown_id_is_ignored(env: Env):
    pb = env.pb.echo
    data = encode_frame(CANCEL, 424242) + encode_request(env.pb, 1, ECHO, pb.EchoRequest(text="x").SerializeToString())
    frames, _ = exchange_raw(env.host, env.port, data, frames_wanted=1)
    expect([(f.type, f.request_id) for f in frames] == [(MESSAGE, 1)], f"frames {frames}")


@check
def server_still_serving(env: Env):
    pb = env.pb.echo
    expect(env.conn.unary(ECHO, pb.EchoRequest(text="alive"), pb.EchoResponse).text == "alive")
    expect(env.conn.closed_reason is None and env.conn.goaway is None,
           f"main connection: {env.conn.closed_reason} {env.conn.goaway}")


# ---------------------------------------------------------------------------------------------
# Authentication (docs/SECURITY.md), against a server started with a service secret

AUTH_CHECKS = []


def auth_check(function):
    AUTH_CHECKS.append(function)
    return function


@auth_check
def call_without_token_is_unauthenticated(env: Env, secret: str):
    pb = env.pb.echo
    expect_error(Code.UNAUTHENTICATED, env.conn.unary, ECHO, pb.EchoRequest(text="x"), pb.EchoResponse)
    health = env.conn.unary("retain.v1.Health/Check", env.pb.health.HealthCheckRequest(),
                            env.pb.health.HealthCheckResponse)
    expect(health.status == env.pb.health.SERVING_STATUS_SERVING, f"health {health}")


@auth_check
def token_minted_from_the_document_is_accepted(env: Env, secret: str):
    pb = env.pb.echo
    token = mint_service_token(secret, ["echo:read"])
    answer = env.conn.unary("retain.v1.Echo/Inspect", pb.InspectRequest(text="signed"), pb.InspectResponse,
                            authorization="Bearer " + token)
    expect(answer.text == "signed", f"{answer}")
    expect(answer.metadata.get("x-retain-caller") == "python/interop echo:read", f"{dict(answer.metadata)}")
    wrong_scope = mint_service_token(secret, ["profile:read"])
    expect_error(Code.PERMISSION_DENIED, env.conn.unary, ECHO, pb.EchoRequest(text="x"), pb.EchoResponse,
                 authorization="Bearer " + wrong_scope)
    expired = mint_service_token(secret, ["echo:read"], lifetime_ms=-120_000)
    expect_error(Code.UNAUTHENTICATED, env.conn.unary, ECHO, pb.EchoRequest(text="x"), pb.EchoResponse,
                 authorization="Bearer " + expired)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--proto-root", default=None, help="the repository's proto/ directory")
    parser.add_argument("-k", dest="only", default=None, help="run only checks whose name contains this")
    parser.add_argument("--secured-port", type=int, default=None,
                        help="a retain-echo started with $RETAIN_SERVICE_SECRET: checks tokens minted from docs/SECURITY.md")
    args = parser.parse_args()

    # The protocol's own messages and the services this test calls (none of them imports another).
    pb = load_protos(args.proto_root, names=["rpc", "echo", "health", "reflection"])
    env = Env(args.host, args.port, pb)
    passed = failed = 0
    for function in CHECKS:
        if args.only and args.only not in function.__name__:
            continue
        started = time.monotonic()
        try:
            function(env)
        except Exception as error:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {function.__name__}: {error}")
            if not isinstance(error, Failure):
                traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {function.__name__} ({(time.monotonic() - started) * 1000:.0f} ms)")
        sys.stdout.flush()
    env.conn.close()
    if args.secured_port is not None:
        secured = Env(args.host, args.secured_port, pb)
        for function in AUTH_CHECKS:
            started = time.monotonic()
            try:
                function(secured, os.environ["RETAIN_SERVICE_SECRET"])
            except Exception as error:  # noqa: BLE001
                failed += 1
                print(f"FAIL {function.__name__}: {error}")
                if not isinstance(error, Failure):
                    traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                print(f"ok   {function.__name__} ({(time.monotonic() - started) * 1000:.0f} ms)")
        secured.conn.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

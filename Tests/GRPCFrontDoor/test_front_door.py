"""Every service through the gateway's gRPC front door, called with grpcio and stubs generated
from proto/: unary and streaming calls, status codes and their details, deadlines, cancellation,
credentials, metadata, unknown methods, and server reflection (what `grpcurl list` asks)."""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid

import grpc
import pytest
from google.protobuf import descriptor_pb2

from conftest import Suite


def admin(suite: Suite, **extra: str):
    return [("authorization", f"ApiKey {suite.admin_key}"), *extra.items()]


def test_every_service_answers_through_the_front_door(suite: Suite, pb) -> None:
    channel = suite.channel()
    creds = admin(suite)
    echo_pb2, echo_grpc = pb["echo"]
    assert echo_grpc.EchoStub(channel).Echo(echo_pb2.EchoRequest(text="hi", payload=b"\x00\xff"), metadata=creds,
                                           timeout=10) == echo_pb2.EchoResponse(text="hi", payload=b"\x00\xff")

    gateway_pb2, gateway_grpc = pb["gateway"]
    event = f"grpc-{uuid.uuid4().hex}"
    onboarded = gateway_grpc.GatewayStub(channel).Onboard(
        gateway_pb2.OnboardRequest(event_id=event, channel="organic"), metadata=creds, timeout=10)
    user = onboarded.profile.user_id
    assert user.startswith("u_")
    backends = gateway_grpc.GatewayStub(channel).ListBackends(gateway_pb2.ListBackendsRequest(), metadata=creds, timeout=10)
    assert {b.service for b in backends.backends} >= {"retain.v1.Profile", "retain.v1.Growth", "retain.v1.Ledger",
                                                      "retain.v1.Feedback", "retain.v1.Echo"}

    profile_pb2, profile_grpc = pb["profile"]
    profile = profile_grpc.ProfileStub(channel).GetProfile(profile_pb2.GetProfileRequest(user_id=user), metadata=creds, timeout=10)
    assert profile.profile.user_id == user and profile.profile.channel == "organic"

    growth_pb2, growth_grpc = pb["growth"]
    view = growth_grpc.GrowthStub(channel).GetGrowthView(growth_pb2.GetGrowthViewRequest(user_id=user), metadata=creds, timeout=10)
    assert view.ByteSize() > 0

    ledger_pb2, ledger_grpc = pb["ledger"]
    audit = ledger_grpc.LedgerStub(channel).Audit(ledger_pb2.AuditRequest(), metadata=creds, timeout=10)
    assert audit.ByteSize() > 0

    feedback_pb2, feedback_grpc = pb["feedback"]
    stats = feedback_grpc.FeedbackStub(channel).GetFeedbackStats(feedback_pb2.GetFeedbackStatsRequest(), metadata=creds, timeout=10)
    assert stats.open_total == 0

    health_pb2, health_grpc = pb["health"]
    checked = health_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="retain.v1.Ledger"), timeout=10)
    assert checked.status == health_pb2.SERVING_STATUS_SERVING

    reflection_pb2, reflection_grpc = pb["reflection"]
    listing = reflection_grpc.ReflectionStub(channel).ListServices(reflection_pb2.ListServicesRequest(), metadata=creds, timeout=10)
    assert "retain.v1.Gateway" in [s.name for s in listing.services]


def test_server_streaming_passes_each_answer_then_the_status(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    answers = list(echo_grpc.EchoStub(suite.channel()).Expand(echo_pb2.ExpandRequest(text="x", count=5),
                                                             metadata=admin(suite), timeout=10))
    assert [a.index for a in answers] == [0, 1, 2, 3, 4]
    assert all(a.text == "x" for a in answers)

    health_pb2, health_grpc = pb["health"]
    watch = health_grpc.HealthStub(suite.channel()).Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    first = next(watch)
    assert first.status == 1
    watch.cancel()


def test_status_code_message_and_details_map_one_to_one(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    stub = echo_grpc.EchoStub(suite.channel())
    for code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE,
                 grpc.StatusCode.DATA_LOSS):
        with pytest.raises(grpc.RpcError) as failed:
            stub.Fail(echo_pb2.FailRequest(code=code.value[0], message="nope"), metadata=admin(suite), timeout=10)
        assert failed.value.code() == code
        assert failed.value.details() == "nope"
    # A validation error's `field` detail arrives as trailing metadata.
    gateway_pb2, gateway_grpc = pb["gateway"]
    with pytest.raises(grpc.RpcError) as invalid:
        gateway_grpc.GatewayStub(suite.channel()).LocateUser(gateway_pb2.LocateUserRequest(user_id="u1"),
                                                             metadata=admin(suite), timeout=10)
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert ("retain-detail-field", "service") in tuple(invalid.value.trailing_metadata())


def test_metadata_trace_id_and_idempotency_key_reach_the_backend(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    answer = echo_grpc.EchoStub(suite.channel()).Inspect(
        echo_pb2.InspectRequest(user_id="u1", text="meta"), timeout=5,
        metadata=admin(suite, **{"tenant": "acme", "trace-id": "trace-123", "idempotency-key": "idem-9"}))
    assert answer.metadata["tenant"] == "acme"
    assert answer.trace_id == "trace-123"
    assert answer.idempotency_key == "idem-9"
    # The backend sees the gateway's token for the caller, as on the native port.
    assert answer.metadata["x-retain-caller"] == "gateway/grpc-admin admin"
    # grpc-timeout becomes the native deadline: what is left of 5 s, less the hops (grpcio rounds
    # the timeout it sends up to its encoding's precision, so a little over 5 s can arrive).
    assert 3_000_000 < answer.deadline_remaining_us <= 5_100_000


def test_deadline_exceeded(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as late:
        echo_grpc.EchoStub(suite.channel()).Sleep(echo_pb2.SleepRequest(duration_ms=3000), metadata=admin(suite), timeout=0.3)
    assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2.5


def metric(suite: Suite, process, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{process.ops_port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_cancelling_a_call_cancels_it_on_the_backend(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    method = "retain.v1.Echo/Sleep"
    before = metric(suite, suite.echo, "rpc_server_handled_total", method=method)
    future = echo_grpc.EchoStub(suite.channel()).Sleep.future(echo_pb2.SleepRequest(duration_ms=20_000),
                                                             metadata=admin(suite), timeout=60)
    time.sleep(0.5)
    assert future.cancel()
    with pytest.raises(grpc.FutureCancelledError):
        future.result()
    # The echo's handler ended long before its 20 s: the cancellation went through the gateway.
    deadline = time.monotonic() + 5
    while metric(suite, suite.echo, "rpc_server_handled_total", method=method) <= before:
        assert time.monotonic() < deadline, "the backend's Sleep was not cancelled"
        time.sleep(0.1)


def test_credentials_are_checked_as_on_the_native_port(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    stub = echo_grpc.EchoStub(suite.channel())
    request = echo_pb2.EchoRequest(text="who")
    with pytest.raises(grpc.RpcError) as missing:
        stub.Echo(request, timeout=10)
    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as unknown:
        stub.Echo(request, metadata=[("authorization", "ApiKey rk_" + "A" * 43)], timeout=10)
    assert unknown.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as malformed:
        stub.Echo(request, metadata=[("authorization", "Basic dXNlcjpwYXNz")], timeout=10)
    assert malformed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # A key with echo:read calls Echo but not the gateway's ListBackends.
    assert stub.Echo(request, metadata=[("authorization", f"ApiKey {suite.echo_key}")], timeout=10).text == "who"
    gateway_pb2, gateway_grpc = pb["gateway"]
    with pytest.raises(grpc.RpcError) as denied:
        gateway_grpc.GatewayStub(suite.channel()).ListBackends(gateway_pb2.ListBackendsRequest(),
                                                               metadata=[("authorization", f"ApiKey {suite.echo_key}")], timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_unknown_method_and_service_are_unimplemented(suite: Suite, pb) -> None:
    channel = suite.channel()
    for path in ("/retain.v1.Echo/NoSuchMethod", "/retain.v1.NoSuchService/Echo", "/retain.v1.Echo/Echo/extra"):
        call = channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as unknown:
            call(b"", metadata=admin(suite), timeout=10)
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED, path


def test_many_concurrent_calls_share_the_front_door(suite: Suite, pb) -> None:
    echo_pb2, echo_grpc = pb["echo"]
    stub = echo_grpc.EchoStub(suite.channel())
    futures = [stub.Echo.future(echo_pb2.EchoRequest(text=f"c{i}"), metadata=admin(suite), timeout=20) for i in range(200)]
    assert [f.result().text for f in futures] == [f"c{i}" for i in range(200)]


def reflect(suite: Suite, package: str, request):
    from grpc_reflection.v1alpha import reflection_pb2 as r

    call = suite.channel().stream_stream(f"/{package}.ServerReflection/ServerReflectionInfo",
                                         request_serializer=r.ServerReflectionRequest.SerializeToString,
                                         response_deserializer=r.ServerReflectionResponse.FromString)
    return next(iter(call(iter([request]), timeout=10)))


@pytest.mark.parametrize("package", ["grpc.reflection.v1", "grpc.reflection.v1alpha"])
def test_server_reflection_lists_and_describes_the_services(suite: Suite, package: str) -> None:
    from grpc_reflection.v1alpha import reflection_pb2 as r

    listed = reflect(suite, package, r.ServerReflectionRequest(list_services=""))
    names = [s.name for s in listed.list_services_response.service]
    for service in ("retain.v1.Echo", "retain.v1.Feedback", "retain.v1.Gateway", "retain.v1.Growth", "retain.v1.Health",
                    "retain.v1.Ledger", "retain.v1.Profile", "retain.v1.Reflection"):
        assert service in names
    assert "retain.v1.Replication" not in names

    found = reflect(suite, package, r.ServerReflectionRequest(file_containing_symbol="retain.v1.Ledger"))
    files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in found.file_descriptor_response.file_descriptor_proto]
    assert files[0].name == "retain/v1/ledger.proto"
    assert "retain/v1/common.proto" in [f.name for f in files]
    assert "CreateTransfers" in [m.name for m in files[0].service[0].method]

    nested = reflect(suite, package, r.ServerReflectionRequest(file_containing_symbol="retain.v1.UserProfile.AttributesEntry"))
    assert nested.file_descriptor_response.file_descriptor_proto

    missing = reflect(suite, package, r.ServerReflectionRequest(file_containing_symbol="retain.v1.NoSuch"))
    assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


def test_reflection_client_resolves_a_method_without_proto_files(suite: Suite) -> None:
    """What grpcurl does: services from reflection, then a method's types from its descriptors."""
    from google.protobuf import descriptor_pool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    database = ProtoReflectionDescriptorDatabase(suite.channel())
    assert "retain.v1.Profile" in database.get_services()
    pool = descriptor_pool.DescriptorPool(database)
    method = pool.FindServiceByName("retain.v1.Profile").FindMethodByName("GetProfile")
    assert method.input_type.full_name == "retain.v1.GetProfileRequest"


def test_a_drain_lets_running_calls_finish_then_the_gateway_exits(suite: Suite, pb, tmp_path) -> None:
    """SIGTERM: the front door stops taking calls but answers the running ones, as the native port does."""
    import json
    import signal

    from conftest import grpc_address
    from servers import ServerProcess

    echo_pb2, echo_grpc = pb["echo"]
    echo = ServerProcess("retain-echo")  # this gateway and its echo check no credentials
    topology = tmp_path / "topology.json"
    topology.write_text(json.dumps({"services": {"retain.v1.Echo": [echo.address]}}))
    gateway = ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--grpc-port", "0"])
    try:
        stub = echo_grpc.EchoStub(grpc.insecure_channel(grpc_address(gateway)))
        running = stub.Sleep.future(echo_pb2.SleepRequest(duration_ms=1500, text="late"), timeout=30)
        time.sleep(0.5)
        stopped = time.monotonic()
        gateway.process.send_signal(signal.SIGTERM)
        assert running.result().text == "late"
        assert gateway.process.wait(15) == 0
        assert time.monotonic() - stopped < 10
    finally:
        gateway.kill()
        echo.kill()


def test_calls_are_handed_to_the_native_server_in_process(pb, tmp_path) -> None:
    """The front door opens no connection to the gateway's own native port: each call runs the
    native server's handler in process (and counts in its metrics), with no loopback hop."""
    import json
    import socket

    from conftest import grpc_address
    from servers import ServerProcess

    echo_pb2, echo_grpc = pb["echo"]
    echo = ServerProcess("retain-echo")  # this gateway and its echo check no credentials
    topology = tmp_path / "topology.json"
    topology.write_text(json.dumps({"services": {"retain.v1.Echo": [echo.address]}}))
    gateway = ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--grpc-port", "0"])
    try:
        stub = echo_grpc.EchoStub(grpc.insecure_channel(grpc_address(gateway)))
        calls = [stub.Echo.future(echo_pb2.EchoRequest(text=f"in-process {i}"), timeout=10) for i in range(32)]
        assert [call.result().text for call in calls] == [f"in-process {i}" for i in range(32)]
        assert stub.Echo(echo_pb2.EchoRequest(text="one more"), timeout=10).text == "one more"
        assert gateway.wait_handled("retain.v1.Echo/Echo", "OK", 33) == 33
        assert gateway.metrics().get("rpc_server_connections", 0.0) == 0.0

        # The gauge does count connections to the native port: one opened now shows.
        with socket.create_connection((gateway.host, gateway.port), timeout=5):
            deadline = time.monotonic() + 5
            while gateway.metrics().get("rpc_server_connections", 0.0) < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert gateway.metrics().get("rpc_server_connections", 0.0) == 1.0
    finally:
        gateway.kill()
        echo.kill()

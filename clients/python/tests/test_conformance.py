"""The documented behaviour every Retain process shares (docs/PROTOCOL.md §7, §8, §16, §17),
checked with this package against each executable: Health, Reflection's order and descriptor
set, byte-for-byte method names, and the credential every call but Health needs."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path
from typing import Iterator, List

import pytest
from google.protobuf import descriptor_pb2

import retain
from retain import RPCError, StatusCode
from retain.pb import health_pb2, reflection_pb2, rpc_pb2

from servers import ServerProcess

EXECUTABLES = ["retain-echo", "retain-profile", "retain-growth", "retain-ledger", "retain-feedback", "retain-gateway"]


@pytest.fixture(scope="module", params=EXECUTABLES)
def process(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            service_secret: str) -> Iterator[ServerProcess]:
    name: str = request.param
    directory = tmp_path_factory.mktemp(name)
    if name == "retain-echo":
        arguments: List[str] = []
    elif name == "retain-gateway":
        topology = Path(directory, "topology.json")
        topology.write_text(json.dumps({"services": {}}))
        arguments = ["serve", "--topology", str(topology)]
    else:
        arguments = ["serve", "--data-dir", str(directory / "data")]
    with ServerProcess(name, arguments, secret=service_secret) as server:
        yield server


def admin(secret: str) -> str:
    return retain.bearer(retain.mint_service_token(secret, ["admin"]))


def test_health_needs_no_credential_and_everything_else_does(process: ServerProcess, service_secret: str) -> None:
    with retain.Connection(process.host, process.port) as conn:
        answer = conn.unary("retain.v1.Health/Check", health_pb2.HealthCheckRequest(service=""), health_pb2.HealthCheckResponse,
                            timeout=10)
        assert answer.status == health_pb2.SERVING_STATUS_SERVING
        with pytest.raises(RPCError) as missing:
            conn.unary("retain.v1.Reflection/ListServices", reflection_pb2.ListServicesRequest(),
                       reflection_pb2.ListServicesResponse, timeout=10)
        assert missing.value.code == StatusCode.UNAUTHENTICATED
        # The method is looked up before the credential: at a service an unknown one is
        # UNIMPLEMENTED even without it; the gateway, which forwards names it does not know,
        # asks for the credential first (its fallback needs admin for an unknown name).
        with pytest.raises(RPCError) as unknown:
            conn.unary("retain.v1.NoSuch/Method", b"", reflection_pb2.ListServicesResponse, timeout=10)
        expected = StatusCode.UNAUTHENTICATED if process.name == "retain-gateway" else StatusCode.UNIMPLEMENTED
        assert unknown.value.code == expected


def test_reflection_lists_services_by_name_and_methods_by_path(process: ServerProcess, service_secret: str) -> None:
    with retain.Connection(process.host, process.port, authorization=admin(service_secret)) as conn:
        listing = conn.unary("retain.v1.Reflection/ListServices", reflection_pb2.ListServicesRequest(),
                             reflection_pb2.ListServicesResponse, timeout=10)
        names = [service.name for service in listing.services]
        assert names == sorted(names)
        assert {"retain.v1.Health", "retain.v1.Reflection"} <= set(names)
        for service in listing.services:
            paths = [method.path for method in service.methods]
            assert paths == sorted(paths), service.name
            assert all(path == f"{service.name}/{method.name}" for path, method in zip(paths, service.methods))
        descriptors = conn.unary("retain.v1.Reflection/GetDescriptorSet", reflection_pb2.GetDescriptorSetRequest(),
                                 reflection_pb2.GetDescriptorSetResponse, timeout=10)
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptors.file_descriptor_set).file
        seen: set = set()
        for file in files:
            assert set(file.dependency) <= seen, f"{file.name} comes before its imports"
            seen.add(file.name)
        assert "retain/v1/rpc.proto" in seen


@pytest.mark.parametrize("name, code", [
    ("retain.v1.Health/Check ", StatusCode.UNIMPLEMENTED),
    ("retain.v1.Health/Check/extra", StatusCode.UNIMPLEMENTED),
    ("retain.v1.health/Check", StatusCode.UNIMPLEMENTED),
    ("retain.v1.Health/Check\x00", StatusCode.INVALID_ARGUMENT),
    ("retain.v1.Health/Check\x00junk", StatusCode.INVALID_ARGUMENT),
])
def test_method_names_are_compared_byte_for_byte(process: ServerProcess, service_secret: str, name: str,
                                                  code: StatusCode) -> None:
    # Raw frames: this package itself refuses to send a name with a NUL.
    header = rpc_pb2.CallHeader(method=name, authorization=admin(service_secret)).SerializeToString()
    payload = struct.pack(">I", len(header)) + header
    with socket.create_connection((process.host, process.port), timeout=10) as sock:
        sock.sendall(struct.pack(">IBBBBI", len(payload), 1, 1, 0, 0, 7) + payload)
        answer = b""
        while len(answer) < 12 or len(answer) < 12 + struct.unpack(">I", answer[:4])[0]:
            chunk = sock.recv(65536)
            assert chunk, "connection closed before the answer"
            answer += chunk
    length, _version, kind, _flags, _reserved, request_id = struct.unpack(">IBBBBI", answer[:12])
    assert (kind, request_id) == (3, 7), "a STATUS frame for the call"
    assert rpc_pb2.CallStatus.FromString(answer[12:12 + length]).code == code

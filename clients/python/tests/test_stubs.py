"""The generated code: up to date with proto/, and in agreement with what real servers serve."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import List

import pytest
from google.protobuf import descriptor_pb2
from servers import REPO_ROOT, ServerProcess

import retain
from retain import pb
from retain.pb import reflection_pb2

GENERATOR = Path(__file__).resolve().parents[1] / "generate.py"
PROTO_DIR = REPO_ROOT / "proto"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("retain_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def normalized(file: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """`file` without what does not change the schema: source info and json names (which some
    compilers fill in and others leave to the runtime)."""
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("source_code_info")

    def strip(messages: "list[descriptor_pb2.DescriptorProto]") -> None:
        for message in messages:
            for field in list(message.field) + list(message.extension):
                field.ClearField("json_name")
            strip(list(message.nested_type))

    strip(list(copy.message_type))
    for extension in copy.extension:
        extension.ClearField("json_name")
    return copy


def own_descriptor(module_name: str) -> descriptor_pb2.FileDescriptorProto:
    """The schema compiled into one of the package's generated modules."""
    module = getattr(pb, module_name)
    return normalized(descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb))


@pytest.mark.skipif(shutil.which("protoc") is None or not PROTO_DIR.is_dir(), reason="needs protoc and proto/")
def test_generated_code_matches_the_proto_files() -> None:
    generator = load_generator()
    with tempfile.TemporaryDirectory() as out:
        descriptors = generator.run_protoc("protoc", PROTO_DIR, Path(out))
    services_source = generator.render_services(generator.collect_services(descriptors))
    names = set()
    for file in descriptors.file:
        name = Path(file.name).stem + "_pb2"
        names.add(name)
        assert own_descriptor(name) == normalized(file), f"retain/_generated/{name}.py is stale: run generate.py"
    assert set(pb.__all__) == names, "proto files added or removed: run generate.py"
    installed = Path(retain.__file__).parent / "_generated" / "services.py"
    assert installed.read_text() == services_source, "retain/_generated/services.py is stale: run generate.py"


def test_stub_classes_cover_every_service_method() -> None:
    for path, info in retain.METHODS.items():
        service, method = path.split("/")
        client = getattr(retain, service.split(".")[-1] + "Client")
        async_client = getattr(retain, "Async" + service.split(".")[-1] + "Client")
        assert client.SERVICE == service == async_client.SERVICE
        snake = "".join("_" + c.lower() if c.isupper() else c for c in method).lstrip("_")
        assert callable(getattr(client, snake)) and callable(getattr(async_client, snake)), path
        assert info.path == path and info.request_type.DESCRIPTOR.full_name.startswith("retain.v1.")
    assert retain.METHODS["retain.v1.Ledger/CreateTransfers"].response_type is pb.ledger_pb2.CreateTransfersResponse
    assert retain.METHODS["retain.v1.Echo/Expand"].server_streaming


@pytest.mark.parametrize("server_name, arguments", [("retain-echo", []), ("retain-ledger", ["serve"])])
def test_stubs_agree_with_server_reflection(server_name: str, arguments: List[str], tmp_path: Path) -> None:
    if server_name == "retain-ledger":
        arguments = arguments + ["--data-dir", str(tmp_path)]
    with ServerProcess(server_name, arguments) as server, retain.Connection(server.host, server.port) as conn:
        reflection = retain.ReflectionClient(conn)
        listing = reflection.list_services(reflection_pb2.ListServicesRequest())
        served = {method.path: method for service in listing.services for method in service.methods}
        assert served, "the server lists no methods"
        for path, method in served.items():
            info = retain.METHODS[path]
            assert info.server_streaming == method.server_streaming, path
            assert info.request_type.DESCRIPTOR.full_name == method.input_type, path
            assert info.response_type.DESCRIPTOR.full_name == method.output_type, path
        # The schemas the server was built with are the ones these stubs were generated from.
        answer = reflection.get_descriptor_set(reflection_pb2.GetDescriptorSetRequest())
        files = descriptor_pb2.FileDescriptorSet.FromString(answer.file_descriptor_set).file
        assert files
        for file in files:
            assert own_descriptor(Path(file.name).stem + "_pb2") == normalized(file), file.name

"""Fixtures: a whole suite (the four services, retain-echo and a gateway with its gRPC front door),
checking credentials, and gRPC stubs generated from proto/ by grpcio-tools for this run."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import grpc
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python" / "tests"))

from servers import ServerProcess, executable  # noqa: E402


@pytest.fixture(scope="session")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generates `retain/v1/*_pb2.py` and `*_pb2_grpc.py` from proto/ and puts them first on sys.path."""
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("stubs")
    protos = sorted(str(p.relative_to(REPO / "proto")) for p in (REPO / "proto").rglob("*.proto"))
    status = protoc.main(["grpc_tools.protoc", f"-I{REPO / 'proto'}", f"--python_out={out}", f"--grpc_python_out={out}", *protos])
    assert status == 0, f"protoc failed ({status})"
    for package in (out / "retain", out / "retain" / "v1"):
        (package / "__init__.py").touch()
    sys.path.insert(0, str(out))
    return out


@pytest.fixture(scope="session")
def pb(stubs):
    """The generated modules, by service."""
    import importlib

    names = ["echo", "profile", "growth", "ledger", "feedback", "gateway", "health", "reflection"]
    return {name: (importlib.import_module(f"retain.v1.{name}_pb2"), importlib.import_module(f"retain.v1.{name}_pb2_grpc"))
            for name in names}


def make_key(key_id: str, scopes: str) -> tuple[str, dict]:
    """An API key and its entry for the gateway's key file (`retain-gateway make-key`)."""
    made = subprocess.run([str(executable("retain-gateway")), "make-key", "--id", key_id, "--scopes", scopes],
                          capture_output=True, text=True, check=True).stdout
    key = re.search(r"^(rk_\S+)$", made, re.MULTILINE)
    entry = re.search(r"^(\{.*\"sha256\".*\})$", made, re.MULTILINE)
    assert key and entry, made
    return key.group(1), json.loads(entry.group(1))


@dataclass
class Suite:
    gateway: ServerProcess
    echo: ServerProcess
    grpc_address: str
    admin_key: str
    echo_key: str

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.grpc_address)


def grpc_address(gateway: ServerProcess, timeout: float = 30.0) -> str:
    """The front door's address, from the gateway's `retain-gateway grpc listening on HOST:PORT` line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(gateway.stdout):
            found = re.search(r" grpc listening on (\S+):(\d+)\s*$", line)
            if found:
                return f"{found.group(1)}:{found.group(2)}"
        time.sleep(0.05)
    raise RuntimeError(f"the gateway did not report its gRPC port.\nstdout: {''.join(gateway.stdout)}\nstderr: {gateway.log}")


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    secret = secrets.token_urlsafe(32)
    root = tmp_path_factory.mktemp("suite")
    processes: list[ServerProcess] = []
    try:
        addresses = {}
        for name in ("profile", "growth", "ledger", "feedback"):
            process = ServerProcess(f"retain-{name}", ["serve", "--data-dir", str(root / name)], secret=secret)
            processes.append(process)
            addresses[f"retain.v1.{name.capitalize()}"] = [process.address]
        echo = ServerProcess("retain-echo", secret=secret)
        processes.append(echo)
        addresses["retain.v1.Echo"] = [echo.address]
        admin_key, admin_entry = make_key("grpc-admin", "admin")
        echo_key, echo_entry = make_key("grpc-echo", "echo:read")
        keys = root / "keys.json"
        keys.write_text(json.dumps({"keys": [admin_entry, echo_entry]}))
        topology = root / "topology.json"
        topology.write_text(json.dumps({"services": addresses}))
        gateway = ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--api-keys-file", str(keys),
                                                   "--grpc-port", "0"], secret=secret)
        processes.append(gateway)
        yield Suite(gateway=gateway, echo=echo, grpc_address=grpc_address(gateway),
                    admin_key=admin_key, echo_key=echo_key)
    finally:
        for process in reversed(processes):
            process.kill()

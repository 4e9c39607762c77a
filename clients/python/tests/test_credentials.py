"""Credentials (PROTOCOL.md §8 "Authentication", docs/SECURITY.md) against servers that check them:
service tokens at a service, API keys at the gateway."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from servers import ServerProcess, executable

import retain
from retain import RPCError, StatusCode
from retain.pb import echo_pb2, health_pb2


def echo_text(conn: retain.Connection, text: str = "x", **options: object) -> str:
    return retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text=text), **options).text  # type: ignore[arg-type]


def test_call_without_credential_is_unauthenticated(secured_echo: ServerProcess) -> None:
    with retain.Connection(secured_echo.host, secured_echo.port) as conn:
        with pytest.raises(RPCError) as caught:
            echo_text(conn)
        assert caught.value.code == StatusCode.UNAUTHENTICATED and not caught.value.local
        assert caught.value.attempts == 1  # refusals are answers, never retried
        # Health needs no credential; the connection stays open after a refusal.
        health = retain.HealthClient(conn).check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.SERVING_STATUS_SERVING


@pytest.mark.parametrize("credential", [
    "Bearer not-a-token",
    "Bearer v1.python.tests.echo:read.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "ApiKey rk_unknown",
])
def test_bad_credential_is_unauthenticated(secured_echo: ServerProcess, credential: str) -> None:
    with retain.Connection(secured_echo.host, secured_echo.port, authorization=credential) as conn:
        with pytest.raises(RPCError) as caught:
            echo_text(conn)
        assert caught.value.code == StatusCode.UNAUTHENTICATED


def test_token_from_retain_gateway_mint_token_is_accepted(secured_echo: ServerProcess, service_secret: str) -> None:
    minted = subprocess.run(
        [str(executable("retain-gateway")), "mint-token", "--scopes", "echo:read", "--subject", "cli"],
        env={"RETAIN_SERVICE_SECRET": service_secret, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True).stdout.strip()
    assert minted.startswith("Bearer v1.")
    with retain.Connection(secured_echo.host, secured_echo.port, authorization=minted) as conn:
        answer = retain.EchoClient(conn).inspect(echo_pb2.InspectRequest(text="signed"))
        assert answer.text == "signed"
        assert answer.metadata["x-retain-caller"] == "operator/cli echo:read"


def test_token_minted_in_python_is_accepted(secured_echo: ServerProcess, service_secret: str) -> None:
    token = retain.mint_service_token(service_secret, ["echo:read"], issuer="python", subject="tests")
    with retain.Connection(secured_echo.host, secured_echo.port, authorization=retain.bearer(token)) as conn:
        answer = retain.EchoClient(conn).inspect(echo_pb2.InspectRequest(text="signed"))
        assert answer.metadata["x-retain-caller"] == "python/tests echo:read"
        # A call's own credential overrides the connection's.
        wrong_scope = retain.bearer(retain.mint_service_token(service_secret, ["profile:read"]))
        with pytest.raises(RPCError) as denied:
            echo_text(conn, authorization=wrong_scope)
        assert denied.value.code == StatusCode.PERMISSION_DENIED
        assert denied.value.details.get("required_scope") == "echo:read"
        expired = retain.bearer(retain.mint_service_token(service_secret, ["echo:read"], ttl_seconds=-120))
        with pytest.raises(RPCError) as caught:
            echo_text(conn, authorization=expired)
        assert caught.value.code == StatusCode.UNAUTHENTICATED and "expired" in caught.value.message
        other_secret = retain.bearer(retain.mint_service_token("x" * 40, ["echo:read"]))
        with pytest.raises(RPCError) as forged:
            echo_text(conn, authorization=other_secret)
        assert forged.value.code == StatusCode.UNAUTHENTICATED
        assert echo_text(conn, "still fine") == "still fine"


@pytest.fixture(scope="module")
def gateway(secured_echo: ServerProcess, service_secret: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[ServerProcess, str]]:
    """A retain-gateway in front of the secured echo, with one API key (scope echo:read)."""
    made = subprocess.run([str(executable("retain-gateway")), "make-key", "--id", "tests", "--scopes", "echo:read"],
                          capture_output=True, text=True, check=True).stdout
    key = re.search(r"^(rk_\S+)$", made, re.MULTILINE)
    entry = re.search(r"^(\{.*\"sha256\".*\})$", made, re.MULTILINE)
    assert key and entry, made
    directory = tmp_path_factory.mktemp("gateway")
    keys = Path(directory, "keys.json")
    keys.write_text(json.dumps({"keys": [json.loads(entry.group(1))]}))
    topology = Path(directory, "topology.json")
    topology.write_text(json.dumps({"services": {"retain.v1.Echo": [secured_echo.address]}}))
    with ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--api-keys-file", str(keys),
                                          "--data-dir", str(directory / "data")], secret=service_secret) as server:
        yield server, key.group(1)


def test_api_key_at_the_gateway(gateway: Tuple[ServerProcess, str]) -> None:
    server, key = gateway
    with retain.Connection(server.host, server.port, authorization=retain.api_key(key)) as conn:
        answer = retain.EchoClient(conn).inspect(echo_pb2.InspectRequest(user_id="u1", text="through"), timeout=5)
        assert answer.text == "through"
        assert answer.metadata["x-retain-caller"] == "gateway/tests echo:read"
        with pytest.raises(RPCError) as unknown:
            echo_text(conn, authorization=retain.api_key("rk_" + "A" * 43))
        assert unknown.value.code == StatusCode.UNAUTHENTICATED
        with pytest.raises(RPCError) as scope:
            retain.GatewayClient(conn).list_backends(retain.pb.gateway_pb2.ListBackendsRequest())
        assert scope.value.code == StatusCode.PERMISSION_DENIED

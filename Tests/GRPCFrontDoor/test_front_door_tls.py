"""The front door serves TLS and mutual TLS as the native port does, from the same certificate
files: a client that trusts the CA is served, a plaintext client or an untrusting one is not, and
with a client CA a client without a certificate from it is refused. Its certificates rotate
without a restart (SIGHUP or a file change), as the native port's do."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from conftest import grpc_address
from servers import ServerProcess


def openssl(*arguments: str) -> None:
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def issue(directory: Path, ca: str, name: str, *, server: bool) -> tuple[Path, Path]:
    """A key and a certificate for `name`, signed by the CA `ca` (files ca.key, ca.pem in `directory`)."""
    key, request, certificate = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.pem"
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}")
    extensions = directory / f"{name}.ext"
    usage = "serverAuth" if server else "clientAuth"
    extensions.write_text(f"subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={usage}\n")
    openssl("x509", "-req", "-in", str(request), "-CA", str(directory / f"{ca}.pem"), "-CAkey", str(directory / f"{ca}.key"),
            "-CAcreateserial", "-days", "2", "-out", str(certificate), "-extfile", str(extensions))
    return key, certificate


def authority(directory: Path, name: str) -> Path:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(directory / f"{name}.key"), "-out", str(directory / f"{name}.pem"),
            "-days", "2", "-subj", f"/CN={name}")
    return directory / f"{name}.pem"


@pytest.fixture()
def certificates(tmp_path: Path) -> dict[str, Path]:
    ca = authority(tmp_path, "ca")
    other = authority(tmp_path, "other-ca")
    server_key, server_cert = issue(tmp_path, "ca", "gateway", server=True)
    client_key, client_cert = issue(tmp_path, "ca", "client", server=False)
    return {"ca": ca, "other_ca": other, "server_key": server_key, "server_cert": server_cert,
            "client_key": client_key, "client_cert": client_cert, "dir": tmp_path}


def start_gateway(certificates: dict[str, Path], *, mutual: bool) -> tuple[ServerProcess, ServerProcess]:
    # The peer TLS flags say how the gateway reaches every native port it calls (its backends
    # and its own, behind the front door), so the echo serves TLS from the same CA too. This
    # gateway and its echo check no credentials.
    echo = ServerProcess("retain-echo", ["--tls-cert-file", str(certificates["server_cert"]),
                                         "--tls-key-file", str(certificates["server_key"])])
    topology = certificates["dir"] / "topology.json"
    topology.write_text(json.dumps({"services": {"retain.v1.Echo": [echo.address]}}))
    arguments = ["serve", "--topology", str(topology), "--grpc-port", "0",
                 "--tls-cert-file", str(certificates["server_cert"]), "--tls-key-file", str(certificates["server_key"]),
                 # The front door calls the gateway's own native port: it trusts the same CA.
                 "--peer-tls-ca-file", str(certificates["ca"])]
    if mutual:
        arguments += ["--tls-client-ca-file", str(certificates["ca"]),
                      "--peer-tls-cert-file", str(certificates["client_cert"]),
                      "--peer-tls-key-file", str(certificates["client_key"])]
    try:
        return echo, ServerProcess("retain-gateway", arguments)
    except Exception:
        echo.kill()
        raise


def call(channel: grpc.Channel, pb) -> str:
    echo_pb2, echo_grpc = pb["echo"]
    return echo_grpc.EchoStub(channel).Echo(echo_pb2.EchoRequest(text="over tls"), timeout=10).text


def test_tls_serves_a_client_that_trusts_the_ca_and_no_other(certificates, pb) -> None:
    echo, gateway = start_gateway(certificates, mutual=False)
    try:
        address = grpc_address(gateway)
        trusted = grpc.ssl_channel_credentials(root_certificates=certificates["ca"].read_bytes())
        assert call(grpc.secure_channel(address, trusted), pb) == "over tls"
        untrusting = grpc.ssl_channel_credentials(root_certificates=certificates["other_ca"].read_bytes())
        with pytest.raises(grpc.RpcError) as refused:
            call(grpc.secure_channel(address, untrusting), pb)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as plaintext:
            call(grpc.insecure_channel(address), pb)
        assert plaintext.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        gateway.kill()
        echo.kill()


def test_mutual_tls_refuses_a_client_without_a_certificate_from_the_client_ca(certificates, pb) -> None:
    echo, gateway = start_gateway(certificates, mutual=True)
    try:
        address = grpc_address(gateway)
        ca = certificates["ca"].read_bytes()
        with_certificate = grpc.ssl_channel_credentials(
            root_certificates=ca, private_key=certificates["client_key"].read_bytes(),
            certificate_chain=certificates["client_cert"].read_bytes())
        assert call(grpc.secure_channel(address, with_certificate), pb) == "over tls"
        without = grpc.ssl_channel_credentials(root_certificates=ca)
        with pytest.raises(grpc.RpcError) as refused:
            call(grpc.secure_channel(address, without), pb)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        gateway.kill()
        echo.kill()


def test_certificates_rotate_without_a_restart(certificates, pb) -> None:
    """The listener's files are replaced by a certificate from another CA and the gateway gets
    SIGHUP: new connections are served with the new certificate (a client trusting only the old CA
    is refused), a connection opened before keeps working, and a broken file keeps the certificate
    in force."""
    directory = certificates["dir"]
    rotated_key, rotated_cert = issue(directory, "other-ca", "rotated", server=True)
    live_cert, live_key = directory / "live.pem", directory / "live.key"
    shutil.copy(certificates["server_cert"], live_cert)
    shutil.copy(certificates["server_key"], live_key)
    # The front door's hop to the gateway's own native port (which rotates too) trusts both CAs,
    # as a fleet does while it rotates.
    bundle = directory / "bundle.pem"
    bundle.write_bytes(certificates["ca"].read_bytes() + certificates["other_ca"].read_bytes())
    echo = ServerProcess("retain-echo", ["--tls-cert-file", str(certificates["server_cert"]),
                                         "--tls-key-file", str(certificates["server_key"])])
    topology = directory / "topology.json"
    topology.write_text(json.dumps({"services": {"retain.v1.Echo": [echo.address]}}))
    gateway = ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--grpc-port", "0",
                                               "--tls-cert-file", str(live_cert), "--tls-key-file", str(live_key),
                                               "--peer-tls-ca-file", str(bundle)])
    # A channel per check, never sharing a connection with another channel.
    options = [("grpc.use_local_subchannel_pool", 1)]

    def channel(ca: Path) -> grpc.Channel:
        return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=ca.read_bytes()), options=options)

    try:
        address = grpc_address(gateway)
        before = channel(certificates["ca"])
        assert call(before, pb) == "over tls"
        with pytest.raises(grpc.RpcError):
            call(channel(certificates["other_ca"]), pb)

        shutil.copy(rotated_cert, live_cert)
        shutil.copy(rotated_key, live_key)
        gateway.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while True:
            try:
                assert call(channel(certificates["other_ca"]), pb) == "over tls"
                break
            except grpc.RpcError:
                assert time.monotonic() < deadline, "the rotated certificate was not served within 15 s"
                time.sleep(0.2)
        with pytest.raises(grpc.RpcError) as old_ca:
            call(channel(certificates["ca"]), pb)
        assert old_ca.value.code() == grpc.StatusCode.UNAVAILABLE
        assert call(before, pb) == "over tls", "a connection opened before keeps its handshake"

        # A broken certificate file is refused; the rotated certificate stays in force.
        live_cert.write_text("not a certificate")
        gateway.process.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert call(channel(certificates["other_ca"]), pb) == "over tls"
    finally:
        gateway.kill()
        echo.kill()

"""TLS and mutual TLS (PROTOCOL.md §1, docs/TLS.md) with certificates made by openssl."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Dict, Iterator

import pytest
from servers import ServerProcess

import retain
from retain import RPCError, StatusCode
from retain.pb import echo_pb2

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def openssl(*arguments: str, cwd: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, both from the CA."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=retain-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{name}.ext").write_text(extension + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=retain-{name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return {name: d / name for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


@pytest.fixture(scope="module")
def tls_echo(pki: Dict[str, Path]) -> Iterator[ServerProcess]:
    with ServerProcess("retain-echo", ["--tls-cert-file", str(pki["server.crt"]),
                                       "--tls-key-file", str(pki["server.key"])]) as server:
        yield server


def test_calls_over_tls(tls_echo: ServerProcess, pki: Dict[str, Path]) -> None:
    context = ssl.create_default_context(cafile=str(pki["ca.crt"]))
    with retain.Connection(tls_echo.host, tls_echo.port, ssl=context) as conn:
        echo = retain.EchoClient(conn)
        assert echo.echo(echo_pb2.EchoRequest(text="secret")).text == "secret"
        assert [a.index for a in echo.expand(echo_pb2.ExpandRequest(count=5))] == list(range(5))
        transport = conn.asynchronous.transport
        assert transport is not None and transport.in_flight == 0


def test_untrusted_server_certificate_is_not_processed(tls_echo: ServerProcess) -> None:
    with retain.Connection(tls_echo.host, tls_echo.port, ssl=ssl.create_default_context(),
                           retry=retain.NO_RETRY) as conn:
        with pytest.raises(RPCError) as caught:
            retain.EchoClient(conn).echo(echo_pb2.EchoRequest())
    assert caught.value.code == StatusCode.UNAVAILABLE and caught.value.not_processed
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message


def test_plain_tcp_to_a_tls_port_is_unavailable(tls_echo: ServerProcess) -> None:
    with retain.Connection(tls_echo.host, tls_echo.port, retry=retain.NO_RETRY) as conn:
        with pytest.raises(RPCError) as caught:
            retain.EchoClient(conn).echo(echo_pb2.EchoRequest(), timeout=5)
    assert caught.value.code == StatusCode.UNAVAILABLE


def test_mutual_tls(pki: Dict[str, Path]) -> None:
    with ServerProcess("retain-echo", ["--tls-cert-file", str(pki["server.crt"]), "--tls-key-file",
                                       str(pki["server.key"]), "--tls-client-ca-file", str(pki["ca.crt"])]) as server:
        anonymous = ssl.create_default_context(cafile=str(pki["ca.crt"]))
        with retain.Connection(server.host, server.port, ssl=anonymous, retry=retain.NO_RETRY) as conn:
            with pytest.raises(RPCError) as refused:
                retain.EchoClient(conn).echo(echo_pb2.EchoRequest(), timeout=5)
            assert refused.value.code == StatusCode.UNAVAILABLE
        identified = ssl.create_default_context(cafile=str(pki["ca.crt"]))
        identified.load_cert_chain(str(pki["client.crt"]), str(pki["client.key"]))
        with retain.Connection(server.host, server.port, ssl=identified) as conn:
            assert retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text="mutual")).text == "mutual"

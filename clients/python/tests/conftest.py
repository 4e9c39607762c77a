"""Fixtures: real Retain servers (see servers.py) and connections to them."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ServerProcess, bin_dir  # noqa: E402

import retain  # noqa: E402


def pytest_report_header() -> str:
    return f"retain {retain.__version__} from {Path(retain.__file__).parent}; RETAIN_BIN_DIR={bin_dir()}"


@pytest.fixture(scope="session")
def echo_server() -> Iterator[ServerProcess]:
    """A retain-echo without credential checks, shared by the tests that do not stop it."""
    with ServerProcess("retain-echo") as server:
        yield server


@pytest.fixture
def fresh_echo() -> Iterator[ServerProcess]:
    """A retain-echo of the test's own, for tests that stop, pause or count on it."""
    with ServerProcess("retain-echo") as server:
        yield server


@pytest.fixture
def conn(echo_server: ServerProcess) -> Iterator[retain.Connection]:
    """A sync connection to the shared echo server, with a generous grace before local deadlines
    fire so that deadline tests see the server's own DEADLINE_EXCEEDED."""
    with retain.Connection(echo_server.host, echo_server.port, deadline_grace=1.0) as connection:
        yield connection


@pytest.fixture(scope="session")
def service_secret() -> str:
    """The shared secret of the servers that check credentials (at least 32 bytes)."""
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def secured_echo(service_secret: str) -> Iterator[ServerProcess]:
    """A retain-echo that checks every call's credential."""
    with ServerProcess("retain-echo", secret=service_secret) as server:
        yield server


@pytest.fixture(scope="session")
def ledger_server(tmp_path_factory: pytest.TempPathFactory, service_secret: str) -> Iterator[ServerProcess]:
    """A retain-ledger with its own data directory, checking credentials."""
    data = tmp_path_factory.mktemp("ledger-data")
    with ServerProcess("retain-ledger", ["serve", "--data-dir", str(data)], secret=service_secret) as server:
        yield server

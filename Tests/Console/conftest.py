"""Fixtures: a whole suite of real executables checking credentials, seeded by `retain demo`
through the gateway, `retain-console` in front of it, and headless Chromium driven by selenium."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python" / "tests"))

from servers import ServerProcess, executable  # noqa: E402

DEMO_USERS = 300


def make_key(key_id: str, scopes: str, *extra: str) -> tuple[str, dict]:
    """An API key and its entry for the key file (`retain-gateway make-key`)."""
    made = subprocess.run([str(executable("retain-gateway")), "make-key", "--id", key_id, "--scopes", scopes, *extra],
                          capture_output=True, text=True, check=True).stdout
    key = re.search(r"^(rk_\S+)$", made, re.MULTILINE)
    entry = re.search(r"^(\{.*\"sha256\".*\})$", made, re.MULTILINE)
    assert key and entry, made
    return key.group(1), json.loads(entry.group(1))


@dataclass
class Suite:
    gateway: ServerProcess
    console: ServerProcess
    admin_key: str
    viewer_key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.console.port}"

    def call(self, method: str, request: dict) -> dict:
        """A call through the gateway with `retain call` (JSON in, JSON out), as the admin."""
        done = subprocess.run([str(executable("retain")), "call", self.gateway.address, method, json.dumps(request),
                               "--authorization", f"ApiKey {self.admin_key}"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{method}: {done.stdout}\n{done.stderr}"
        return json.loads(done.stdout)


def settle(suite: Suite, quiet_polls: int = 3, timeout: float = 120.0) -> None:
    """Waits until the ledger stops moving: the gateway's followers (level rewards from Growth's
    level-change stream, the campaign runner) pay after the demo's own calls return, and the
    pages compare figures read at different moments."""
    last, quiet = None, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        audit = suite.call("retain.v1.Ledger/Audit", {"assets": ["points"]})
        now = json.dumps(audit.get("assets", []), sort_keys=True)
        quiet = quiet + 1 if now == last else 0
        if quiet >= quiet_polls:
            return
        last = now
        time.sleep(1)
    raise AssertionError(f"the ledger was still changing {timeout} s after the demo")


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    secret = secrets.token_urlsafe(32)
    root = tmp_path_factory.mktemp("suite")
    processes: list[ServerProcess] = []
    try:
        addresses = {}
        for name in ("profile", "growth", "ledger", "feedback"):
            arguments = ["serve", "--data-dir", str(root / name), "--ops-port=-1", "--log-level", "warning"]
            if name == "growth":
                arguments.append("--allow-client-times")  # the demo simulates past weeks
            process = ServerProcess(f"retain-{name}", arguments, secret=secret)
            processes.append(process)
            addresses[f"retain.v1.{name.capitalize()}"] = [process.address]
        # The demo seeds through the admin key: a limit above the gateway's default 200 calls/s.
        admin_key, admin_entry = make_key("console-admin", "admin", "--rate", "100000", "--burst", "200000")
        viewer_key, viewer_entry = make_key(
            "console-viewer", "profile:read,growth:read,ledger:read,feedback:read,gateway:read")
        keys = root / "keys.json"
        keys.write_text(json.dumps({"keys": [admin_entry, viewer_entry]}))
        topology = root / "topology.json"
        topology.write_text(json.dumps({"services": addresses}))
        gateway = ServerProcess("retain-gateway", ["serve", "--topology", str(topology), "--api-keys-file", str(keys),
                                                   "--ops-port=-1", "--log-level", "warning"], secret=secret)
        processes.append(gateway)
        demo = subprocess.run([str(executable("retain")), "demo", "--gateway", gateway.address, "--users", str(DEMO_USERS),
                               "--weeks", "6", "--concurrency", "16", "--authorization", f"ApiKey {admin_key}"],
                              capture_output=True, text=True, timeout=600)
        assert demo.returncode == 0, f"demo failed:\n{demo.stdout}\n{demo.stderr}"
        console = ServerProcess("retain-console", ["serve", "--gateway", gateway.address, "--api-keys-file", str(keys),
                                                   "--ops-port=-1", "--log-level", "warning"], secret=None)
        processes.append(console)
        suite = Suite(gateway=gateway, console=console, admin_key=admin_key, viewer_key=viewer_key)
        settle(suite)
        yield suite
    finally:
        for process in reversed(processes):
            process.kill()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    directory = Path(os.environ.get("CONSOLE_SCREENSHOT_DIR") or REPO / "docs" / "console")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def make_browser(language: str = "en-US") -> webdriver.Chrome:
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000",
                     f"--lang={language}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    driver = make_browser()
    try:
        yield driver
    finally:
        driver.quit()

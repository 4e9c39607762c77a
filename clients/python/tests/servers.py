"""Real Retain server processes for the tests, started as Shared/RetainProcess/ServerProcess.swift
does: `--port 0` (or a given port), the port read from the `<name> listening on HOST:PORT` line
on standard output, credential checks off (`RETAIN_INSECURE_NO_AUTH=1`) unless a secret is
given (`RETAIN_SERVICE_SECRET`).

Executables come from `$RETAIN_BIN_DIR`, default `<repo>/.build/debug`.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[3]
_LISTENING = re.compile(r" listening on (\S+):(\d+)\s*$")


def bin_dir() -> Path:
    """Where the Retain executables are: `$RETAIN_BIN_DIR`, default `<repo>/.build/debug`."""
    return Path(os.environ.get("RETAIN_BIN_DIR") or REPO_ROOT / ".build" / "debug")


def executable(name: str) -> Path:
    """The path of a built executable; raises FileNotFoundError with a hint when missing."""
    path = bin_dir() / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"executable not found: {path} (build with `swift build` or set RETAIN_BIN_DIR)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A Retain executable running on loopback; `stop()` (SIGTERM, graceful drain), `kill()`
    (SIGKILL), `pause()`/`resume()` (SIGSTOP/SIGCONT), `metrics()` from its ops port."""

    def __init__(self, name: str, arguments: Sequence[str] = (), *, port: int = 0, secret: Optional[str] = None,
                 environment: Optional[Mapping[str, str]] = None, timeout: float = 30.0) -> None:
        self.name = name
        env = {key: value for key, value in os.environ.items()
               if key not in ("RETAIN_SERVICE_SECRET", "RETAIN_INSECURE_NO_AUTH")}
        if secret is not None:
            env["RETAIN_SERVICE_SECRET"] = secret
        else:
            env["RETAIN_INSECURE_NO_AUTH"] = "1"
        env.update(environment or {})
        self._log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [str(executable(name)), *arguments, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, env=env, text=True)
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.stdout: List[str] = []
        threading.Thread(target=self._pump, name=f"{name}-stdout", daemon=True).start()
        self.host = "127.0.0.1"
        self.port = 0
        self.ops_port: Optional[int] = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            match = _LISTENING.search(line)
            if match is None:
                continue
            if " ops listening on " in line:
                self.ops_port = int(match.group(2))
            else:
                self.host, self.port = match.group(1), int(match.group(2))
                return
        message = f"{name} did not report its port.\nstdout: {''.join(self.stdout)}\nstderr: {self.log}"
        self.kill()
        raise RuntimeError(message)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log(self) -> str:
        """What the server wrote to standard error (until `kill()`)."""
        path = Path(self._log.name)
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (a graceful drain) and wait; returns the exit status."""
        self.resume()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def terminate(self) -> None:
        """SIGTERM without waiting: the server starts draining."""
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash, as far as clients can tell. Removes the log file."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def pause(self) -> None:
        """SIGSTOP: the server stops answering, the connection stays open. Returns once every
        thread of the process has stopped (signal delivery is asynchronous)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.process.pid}/task")
        deadline = time.monotonic() + 5
        while tasks.is_dir() and time.monotonic() < deadline:
            states = []
            for task in tasks.iterdir():
                try:
                    states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
                except (OSError, IndexError):
                    continue
            if states and all(state in ("T", "t") for state in states):
                return
            time.sleep(0.005)
        time.sleep(0.1)  # no /proc: give the signal a moment

    def resume(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def metrics(self) -> Dict[str, float]:
        """Its Prometheus metrics (`/metrics` on the ops port), by series: `name{labels}`."""
        if self.ops_port is None:
            raise RuntimeError(f"{self.name} has no ops port")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        series: Dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                series[key] = float(value)
        return series

    def handled(self, method: str, code: str) -> float:
        """How many calls of `method` the server ended with status `code` (a name, e.g. "OK")."""
        return self.metrics().get(f'rpc_server_handled_total{{method="{method}",code="{code}"}}', 0.0)

    def wait_handled(self, method: str, code: str, at_least: float, timeout: float = 5.0) -> float:
        """Polls `handled` until it reaches `at_least` (the metric is updated when the handler
        ends, a moment after the client saw the outcome); returns the last value."""
        deadline = time.monotonic() + timeout
        value = self.handled(method, code)
        while value < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
            value = self.handled(method, code)
        return value

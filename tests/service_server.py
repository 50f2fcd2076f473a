"""A real covkb server on 127.0.0.1 for the service tests and the benchmark:
started on a free port, waited for, and stopped (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str, workers: int = 2, today: str | None = "2025-06-01", start_timeout: float = 120,
                 pyapi: Path | None = None) -> None:
        """pyapi: the source tree to serve (another checkout's, for an A/B benchmark)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(pyapi or REPO / "pyapi") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "covkb.service.app", "--port", str(self.port), "--workers", str(workers), *args]
        if today:
            cmd += ["--today", today]
        self.log = open(os.devnull, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.PIPE)
        deadline = time.monotonic() + start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=1)
                if r.status_code == 200 and all(s["serving"] for s in r.json()["pool"].get("servers", ())):
                    break  # every server process serving (inline), or the front (pool)
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start in time")
            time.sleep(0.2)

    def health(self) -> dict:
        return httpx.get(f"{self.url}/healthz", timeout=5).json()

    def worker_pids(self) -> list[int]:
        """The engine workers' pids (pool mode), or the serving server processes' (inline)."""
        pool = self.health()["pool"]
        if "servers" in pool:
            return [s["pid"] for s in pool["servers"] if s["serving"]]
        return [w["pid"] for w in pool["workers"]]

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

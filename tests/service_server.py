"""A real covkb server on 127.0.0.1 for the service tests and the benchmark:
started on a free port, waited for, and stopped (SIGTERM, then SIGKILL).

A server is started ``--no-auth`` (loopback only) unless ``auth=True``; an
``Issuer`` is a CDS client of the tests' own making: its key, a
trusted-issuers file naming it, and a signed JWT for each call."""

from __future__ import annotations

import json
import threading
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str, workers: int = 2, today: str | None = "2025-06-01", start_timeout: float = 120,
                 pyapi: Path | None = None, auth: bool = False, env: dict[str, str] | None = None) -> None:
        """pyapi: the source tree to serve (another checkout's, for an A/B benchmark); auth: callers
        authenticated (else --no-auth, where the tree knows it); env: more environment (COVKB_STATE ...)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tree = pyapi or REPO / "pyapi"
        env = dict(os.environ, **(env or {}), PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "covkb.service.app", "--port", str(self.port), "--workers", str(workers), *args]
        if not auth and "--no-auth" in (tree / "covkb" / "service" / "app.py").read_text(encoding="utf-8"):
            cmd.append("--no-auth")
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


class Issuer:
    """A CDS client trusted by a server: a key pair of its own (made here),
    the trusted-issuers file that names it, and a fresh JWT per call."""

    def __init__(self, directory: Path, iss: str = "https://ehr.example.org", alg: str = "ES384",
                 jku: tuple[str, ...] = (), inline: bool = True) -> None:
        from joserfc.jwk import ECKey, RSAKey

        self.iss, self.alg = iss, alg
        self.key = (ECKey.generate_key("P-384" if alg == "ES384" else "P-256", auto_kid=True) if alg.startswith("ES")
                    else RSAKey.generate_key(2048, auto_kid=True))
        self.jwks = {"keys": [self.key.as_dict(private=False)]}
        self.path = directory / f"trusted-{uuid.uuid4().hex[:8]}.json"
        entry: dict[str, Any] = {"jku": list(jku)}
        if inline:
            entry["jwks"] = self.jwks
        self.path.write_text(json.dumps({"issuers": {iss: entry}}), encoding="utf-8")

    def token(self, aud: str, header: dict[str, Any] | None = None, **claims: Any) -> str:
        """A signed JWT for a call to aud (the endpoint's URL); header and claims override (None: left out)."""
        from joserfc import jwt

        now = int(time.time())
        body = {"iss": self.iss, "sub": "ehr-client", "aud": aud, "iat": now, "exp": now + 300,
                "jti": uuid.uuid4().hex, **claims}
        head = {"alg": self.alg, "kid": self.key.kid, "typ": "JWT", **(header or {})}
        return jwt.encode({k: v for k, v in head.items() if v is not None},
                          {k: v for k, v in body.items() if v is not None}, self.key, algorithms=[head["alg"]])

    def headers(self, aud: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(aud)}"}


class JwksHost:
    """A JWKS server on 127.0.0.1 that counts the connections made to it;
    /moved.json answers a redirect to ``moved_to``."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.connections = 0
        self.moved_to = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/moved.json":
                    self.send_response(302)
                    self.send_header("Location", host.moved_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(host.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Counting(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                host.connections += 1
                return True

        self.httpd = Counting(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

"""covkb serve's default mode: N server processes, each with the engines
inside it, under a supervisor.

A determination or CDS call is decided in the process that read its HTTP
request: no hand-over to another process and back, which on two cores cost
about a quarter of the service's throughput (README, Load and faults).
This module is the supervisor and the board; a server process is
``server_process.py``.

    supervisor (covkb serve)      binds the socket, starts N server processes,
      |                           replaces one that exits or stops beating
      +-- server process 0..N-1   uvicorn + FastAPI, the engines loaded once;
            |                     accepts connections from the shared socket
            +-- engine worker     batch, check, diff, compare, pictures: work
                                  too long for the event loop (started when
                                  first needed; ``workers.Pool`` of one)

The processes share a board (a small shared-memory table, one row each):
its pid, whether it is serving, its heartbeat, its open connections and how
many determinations it has answered.  A server process accepts a connection
only while it holds no more than any other live one, so keep-alive clients
spread evenly (a socket shared by plain ``accept`` gives one process most
of a burst).  Its event loop beats every tenth of a second; a process whose
heartbeat is older than the timeout (an engine that hangs) is killed and
replaced, as is one that exits.  The price of deciding in-process: the
requests in flight on a process that is killed are lost (their clients see
the connection close), where ``--mode pool`` sends them to another worker.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import mmap
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

MAX_SERVERS = 64
START_TIMEOUT = 120.0   # seconds for a server process to load its engines and serve
GRACE = 70.0            # seconds a stopping server process has (uvicorn's own grace is 60)
STALE = 1.0             # seconds without a heartbeat after which a server process is passed over
RESPAWN_PAUSE = 1.0     # seconds at least between starts of a server process that dies starting
POLL_MIN, POLL_MAX = 0.0005, 0.05  # seconds between looks at the board while another process is behind


class _Row(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_int64), ("ready", ctypes.c_int64), ("heartbeat", ctypes.c_double),
                ("connections", ctypes.c_int64), ("served", ctypes.c_int64)]


class _Table(ctypes.Structure):
    _fields_ = [("size", ctypes.c_int64), ("started", ctypes.c_int64), ("replaced", ctypes.c_int64),
                ("hung", ctypes.c_int64), ("rows", _Row * MAX_SERVERS)]


class Board:
    """The shared table.  Each field has one writer (a row's counters its
    server process; pids and totals the supervisor); aligned 8-byte stores
    are whole on every platform covkb serves on."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, ctypes.sizeof(_Table))
        self.table = _Table.from_buffer(self._map)

    @classmethod
    def create(cls, size: int) -> Board:
        """A new table for size server processes, in a file only its fd
        names (inherited by the server processes: pass_fds)."""
        if hasattr(os, "memfd_create"):  # Linux
            fd = os.memfd_create("covkb-board", 0)
        else:
            import tempfile

            with tempfile.TemporaryFile() as f:  # unlinked already; the duplicate keeps it
                fd = os.dup(f.fileno())
        os.set_inheritable(fd, False)  # pass_fds makes it inheritable in the children only
        os.ftruncate(fd, ctypes.sizeof(_Table))
        board = cls(fd)
        board.table.size = size
        return board

    def row(self, i: int) -> _Row:
        return self.table.rows[i]

    def may_accept(self, i: int) -> bool:
        """Row i holds no more connections than any other serving row whose
        heartbeat is fresh (one that has not beaten for a second, busy or
        hung, must not hold up the connections waiting to be accepted)."""
        t = self.table
        mine = t.rows[i].connections
        stale = time.monotonic() - STALE
        return all(j == i or not t.rows[j].ready or t.rows[j].heartbeat < stale or t.rows[j].connections >= mine
                   for j in range(t.size))

    def status(self) -> dict[str, Any]:
        t = self.table
        return {"servers": [{"pid": r.pid, "serving": bool(r.ready), "connections": r.connections, "served": r.served}
                            for r in t.rows[:t.size]],
                "servers_started": t.started, "servers_replaced": t.replaced, "servers_hung": t.hung}


# -- the supervisor --------------------------------------------------------------------

def supervise(host: str, port: int, settings: Any, log_level: str = "warning") -> int:
    """Run N server processes on host:port until SIGTERM or SIGINT; the exit
    status (0, or 1 when the servers could not start)."""
    from ..policy import Policy

    Policy(policy=settings.policy)  # an unknown policy is the caller's one-line error, before anything starts
    n = max(1, min(settings.workers, MAX_SERVERS))
    try:
        listen = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                      backlog=2048)
    except OSError as exc:
        print(f"covkb: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    listen.setblocking(False)
    if settings.public_url is None:  # the port bound (0: the one chosen)
        from .http_rules import origin

        settings.public_url = origin(host, listen.getsockname()[1])
    board = Board.create(n)
    stopping: list[int] = []

    def on_signal(sig: int, _frame: Any) -> None:
        stopping.append(sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    spec = {"settings": dataclasses.asdict(settings), "listen_fd": listen.fileno(), "board_fd": board.fd,
            "log_level": log_level, "supervisor": os.getpid()}
    procs: list[subprocess.Popen[bytes]] = []
    born: list[float] = []

    def spawn(i: int) -> subprocess.Popen[bytes]:
        r = board.row(i)
        r.ready = r.connections = r.served = 0
        env = dict(os.environ, COVKB_SERVER=json.dumps({**spec, "row": i}))
        p = subprocess.Popen([sys.executable, "-m", "covkb.service.server_process"], env=env,
                             pass_fds=(listen.fileno(), board.fd), start_new_session=True)
        r.pid = p.pid
        board.table.started += 1
        return p

    for i in range(n):
        procs.append(spawn(i))
        born.append(time.monotonic())
    bound_host, bound_port = listen.getsockname()[:2]  # port 0: the one chosen
    ready = f"covkb serve: listening on http://{bound_host}:{bound_port} ({n} process{'es' if n != 1 else ''}, inline)"
    served = [False] * n   # its current process has served
    status = 0
    while not stopping:
        time.sleep(0.05)
        now = time.monotonic()
        for i, p in enumerate(procs):
            r = board.row(i)
            served[i] = served[i] or bool(r.ready)
            if p.poll() is not None:
                r.ready = 0
                if board.table.replaced == 0 and not any(served):  # none could start (a broken policy, say)
                    print(f"covkb: error: a server process exited while starting (status {p.returncode})",
                          file=sys.stderr)
                    stopping.append(0)
                    status = 1
                    break
                if not served[i] and now - born[i] < RESPAWN_PAUSE:  # it died starting: no tight loop
                    continue
                board.table.replaced += 1
                procs[i], born[i], served[i] = spawn(i), now, False
            elif r.ready and now - r.heartbeat > settings.timeout:  # its engine hangs: kill, replace next pass
                board.table.hung += 1
                r.ready = 0
                p.kill()
            elif not r.ready and not served[i] and now - born[i] > START_TIMEOUT:
                p.kill()
        if ready and all(served):  # once, when every process serves: where to send requests
            print(ready, file=sys.stderr, flush=True)
            ready = ""
    # every server process answers what it has accepted, then exits; a second signal cuts that short
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    listen.close()
    deadline, signals = time.monotonic() + GRACE, len(stopping)
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline and len(stopping) == signals:
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    return status

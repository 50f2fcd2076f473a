"""covkb serve's default mode: N server processes, each with the engines
inside it, under a supervisor.

A determination or CDS call is decided in the process that read its HTTP
request: no hand-over to another process and back, which on two cores cost
about a quarter of the service's throughput (README, Load and faults).

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

import asyncio
import ctypes
import dataclasses
import functools
import json
import mmap
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from .workers import QUICK_OPS, Answer, Pool

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


# -- in a server process ---------------------------------------------------------------

class InlineEngines:
    """The pool interface of ``workers.Pool`` for a server process: quick
    operations (a determination, a CDS call, an explanation) decided here,
    in the event loop; anything else, and a CDS call that would read a FHIR
    server (the read would hold up every connection of this process), sent
    to an engine worker of its own, started when first needed."""

    def __init__(self, config: dict[str, Any], board: Board, row: int) -> None:
        self.config = config
        self.board, self.index = board, row
        self.slow = Pool(1, config)
        self.size = self.slow.size
        self._slow_start: asyncio.Task[None] | None = None
        self._closing = False
        self.worker: Any = None

    async def start(self) -> None:
        from .ops import Worker

        self.worker = Worker(self.config)
        self.worker.defer_fhir_reads = True

    async def call(self, op: str, args: dict[str, Any], body: bytes = b"", *, timeout: float = 30.0,
                   retries: int = 1) -> Answer:
        from .ops import Deferred
        from .problems import EngineUnavailable

        if self._closing:
            raise EngineUnavailable("the service is shutting down")
        if op in QUICK_OPS:
            try:
                status, media, out = self.worker.handle({"op": op, "args": args}, body)
            except Deferred:
                pass
            else:
                self.board.row(self.index).served += 1
                return Answer(status, media, out, self.worker.volatile)
        if self._slow_start is None or (self._slow_start.done() and self._slow_start.exception() is not None):
            self._slow_start = asyncio.get_running_loop().create_task(self.slow.start())
        try:
            await asyncio.shield(self._slow_start)
        except RuntimeError as exc:
            raise EngineUnavailable(str(exc)) from None
        return await self.slow.call(op, args, body, timeout=timeout, retries=retries)

    def status(self) -> dict[str, Any]:
        return {**self.board.status(), "this_server": os.getpid(), **self.slow.status()}

    async def close(self, grace: float = 10.0) -> None:
        self._closing = True
        if self._slow_start is not None:
            await asyncio.gather(self._slow_start, return_exceptions=True)
        await self.slow.close(grace)


def _server_class() -> Any:
    import uvicorn

    class BalancedServer(uvicorn.Server):
        """uvicorn's server, taking its connections from the shared socket
        while the board says it holds no more than the others, and beating."""

        def __init__(self, config: Any, listen: socket.socket, board: Board, row: int) -> None:
            super().__init__(config)
            self.listen, self.board, self.index = listen, board, row
            self._accepting: asyncio.Task[None] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])
            if self.should_exit or not self.started:
                return
            factory = functools.partial(self.config.http_protocol_class, config=self.config,
                                        server_state=self.server_state, app_state=self.lifespan.state)
            self._accepting = asyncio.get_running_loop().create_task(self._accept(factory))
            row = self.board.row(self.index)
            row.heartbeat = time.monotonic()
            row.ready = 1

        async def _accept(self, factory: Any) -> None:
            loop = asyncio.get_running_loop()
            row = self.board.row(self.index)
            pause = POLL_MIN
            while True:
                if not self.board.may_accept(self.index):
                    # ahead of another process: look again soon while connections are coming in
                    # (a burst is shared out in turns), less often the longer nothing changes
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, POLL_MAX)
                    continue
                try:
                    conn, _ = await loop.sock_accept(self.listen)
                except OSError:  # out of descriptors, say: the others accept meanwhile
                    await asyncio.sleep(0.1)
                    continue
                pause = POLL_MIN
                row.connections += 1  # given back when the connection is lost
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # uvloop sets it; asyncio does not
                try:
                    await loop.connect_accepted_socket(factory, conn)
                except OSError:
                    row.connections -= 1
                    conn.close()

        async def on_tick(self, counter: int) -> bool:
            self.board.row(self.index).heartbeat = time.monotonic()
            return bool(await super().on_tick(counter))

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            self.board.row(self.index).ready = 0
            if self._accepting is not None:
                self._accepting.cancel()
            self.listen.close()
            await super().shutdown(sockets=[])

    return BalancedServer


def server_main() -> None:
    """One server process (``python -m covkb.service.servers``), as the
    supervisor started it: its settings, row, socket and board in the
    environment."""
    import uvicorn

    from .app import Settings, _http_protocol, create_app, settings_from_json

    spec = json.loads(os.environ.pop("COVKB_SERVER"))
    settings: Settings = settings_from_json(spec["settings"])
    board, row = Board(spec["board_fd"]), spec["row"]
    listen = socket.socket(fileno=spec["listen_fd"])
    listen.setblocking(False)

    def engines(config: dict[str, Any]) -> InlineEngines:
        return InlineEngines(config, board, row)

    def closed() -> None:  # a connection this process accepted (counted up in _accept)
        board.row(row).connections -= 1

    try:
        app = create_app(settings, engines=engines)
    except Exception as exc:  # one line for the supervisor's stderr, never a traceback
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        print(f"covkb: error: server process {row}: {message}".splitlines()[0], file=sys.stderr)
        sys.exit(3)
    config = uvicorn.Config(app, log_level=spec["log_level"], access_log=False, timeout_graceful_shutdown=60,
                            http=_http_protocol(on_close=closed), lifespan="on")
    _server_class()(config, listen, board, row).run(sockets=[])


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
    board = Board.create(n)
    stopping: list[int] = []

    def on_signal(sig: int, _frame: Any) -> None:
        stopping.append(sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    spec = {"settings": dataclasses.asdict(settings), "listen_fd": listen.fileno(), "board_fd": board.fd,
            "log_level": log_level}
    procs: list[subprocess.Popen[bytes]] = []
    born: list[float] = []

    def spawn(i: int) -> subprocess.Popen[bytes]:
        r = board.row(i)
        r.ready = r.connections = r.served = 0
        env = dict(os.environ, COVKB_SERVER=json.dumps({**spec, "row": i}))
        p = subprocess.Popen([sys.executable, "-m", "covkb.service.servers"], env=env,
                             pass_fds=(listen.fileno(), board.fd), start_new_session=True)
        r.pid = p.pid
        board.table.started += 1
        return p

    for i in range(n):
        procs.append(spawn(i))
        born.append(time.monotonic())
    if log_level in ("info", "debug", "trace"):  # as uvicorn says where it runs (port 0: the one chosen)
        bound_host, bound_port = listen.getsockname()[:2]
        print(f"covkb serve: {n} server process{'es' if n != 1 else ''} on http://{bound_host}:{bound_port} (inline)", file=sys.stderr)
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


if __name__ == "__main__":
    server_main()

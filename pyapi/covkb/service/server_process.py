"""One server process of covkb serve's inline mode, as the supervisor
(``servers.supervise``) starts it: uvicorn and the app, the engines loaded
in the process, taking its connections from the shared socket while the
board says it holds no more than the others, and beating.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import sys
import time
from typing import Any

from .lifeline import die_with_parent
from .servers import POLL_MAX, POLL_MIN, Board
from .workers import QUICK_OPS, Answer, Pool

# decided here, in the event loop, as a CDS call is: a PAS $submit (a determination as an order-sign's,
# its Claim validated, one store INSERT; about 3 times an order-sign's time).  Through the process's one
# engine worker, two processes' submissions were decided two at a time behind a pipe each way.
INLINE_OPS = QUICK_OPS | {"pas_submit"}


class InlineEngines:
    """The pool interface of ``workers.Pool`` for a server process: quick
    operations (a determination, a CDS call, an explanation) and a PAS
    ``$submit`` decided here,
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
        if op in INLINE_OPS:
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

    from .app import Settings, create_app, settings_from_json
    from .http_protocol import http_protocol

    spec = json.loads(os.environ.pop("COVKB_SERVER"))
    die_with_parent(spec["supervisor"])  # killing the supervisor leaves no server holding the port
    # the engine worker this process may start inherits neither the socket nor the board
    os.set_inheritable(spec["listen_fd"], False)
    os.set_inheritable(spec["board_fd"], False)
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
    config = uvicorn.Config(app, log_level=spec["log_level"], http=http_protocol(settings.limits(), on_close=closed),
                            lifespan="on", **settings.uvicorn_options())
    _server_class()(config, listen, board, row).run(sockets=[])


if __name__ == "__main__":
    server_main()

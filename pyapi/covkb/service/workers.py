"""Engine worker processes, and the pool the HTTP front dispatches to.

SWI-Prolog under pyswip is one per process and not thread-safe, so every
determination runs in a worker process (``python -m covkb.service.workers``)
that loads the knowledge base once and answers one request at a time.  The
asyncio front talks to each worker over its stdin/stdout with length-
prefixed frames: a one-line JSON header, a newline, then the body bytes as
they came (the front never parses a request body).

A worker that dies (a crash, SIGKILL, out of memory) is seen at once (its
pipe closes) and replaced; the request it held is sent again to another
worker, once, since every operation only reads.  A worker that takes longer
than the operation's timeout is killed and replaced, and its request gets a
503: never a hang.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

_HEAD = struct.Struct(">I")
MAX_FRAME = 1 << 30


def pack(header: dict[str, Any], body: bytes = b"") -> bytes:
    payload = json.dumps(header, separators=(",", ":")).encode() + b"\n" + body
    return _HEAD.pack(len(payload)) + payload


def unpack(payload: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = payload.partition(b"\n")
    return json.loads(head), body


# -- the worker process ------------------------------------------------------------

def _read_exact(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def worker_main() -> None:
    """Serve frames on stdin/stdout until stdin closes."""
    # Frames go to a private copy of stdout; anything else printed (Python or
    # SWI-Prolog writing to fd 1) goes to stderr and cannot corrupt a frame.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the front decides when workers stop
    from .ops import Worker

    w = Worker(json.loads(os.environ.get("COVKB_WORKER_CONFIG", "{}")))
    _write_all(out_fd, pack({"ready": True, "pid": os.getpid(), "seconds": w.startup_seconds}))
    in_fd = 0
    while True:
        head = _read_exact(in_fd, _HEAD.size)
        if head is None:
            return
        (n,) = _HEAD.unpack(head)
        payload = _read_exact(in_fd, n)
        if payload is None:
            return
        header, body = unpack(payload)
        status, media, out = w.handle(header, body)
        _write_all(out_fd, pack({"status": status, "media": media, "volatile": w.volatile}, out))


# -- the pool (in the front process) ------------------------------------------------

class WorkerDied(Exception):
    pass


class Answer(NamedTuple):
    """A worker's answer: HTTP status, media type, body; volatile when it
    rests on something outside the knowledge base (a FHIR server read), so
    it must not be remembered."""

    status: int
    media: str
    body: bytes
    volatile: bool = False


@dataclass(eq=False)
class _Proc:
    proc: asyncio.subprocess.Process
    started: float
    busy: bool = False
    dead: bool = False
    ready: bool = False
    served: int = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def read_frame(self) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdout is not None
        try:
            head = await self.proc.stdout.readexactly(_HEAD.size)
            (n,) = _HEAD.unpack(head)
            if n > MAX_FRAME:
                raise WorkerDied(f"worker {self.pid} sent a frame of {n} bytes")
            return unpack(await self.proc.stdout.readexactly(n))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorkerDied(f"worker {self.pid} died") from exc

    async def call(self, header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(pack(header, body))
            await self.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise WorkerDied(f"worker {self.pid} died") from exc
        return await self.read_frame()

    def kill(self) -> None:
        self.dead = True
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass


@dataclass
class PoolStats:
    started: int = 0
    replaced: int = 0
    retried: int = 0
    timeouts: int = 0
    failed: int = 0


class Pool:
    """N engine workers; ``call`` sends one operation to an idle one."""

    def __init__(self, size: int, config: dict[str, Any] | None = None, *, start_timeout: float = 120.0) -> None:
        self.size = max(1, size)
        self.config = config or {}
        self.start_timeout = start_timeout
        self.procs: list[_Proc] = []
        self.stats = PoolStats()
        # Free workers, and the requests waiting for one in order of arrival: a
        # worker that comes free goes straight to the longest waiting request,
        # so a request that has just arrived never overtakes one that waits.
        self._free: collections.deque[_Proc] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[_Proc]] = collections.deque()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()   # watchers
        self._calls: set[asyncio.Task[Any]] = set()   # exchanges under way

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def _spawn(self) -> None:
        env = dict(os.environ, COVKB_WORKER_CONFIG=json.dumps(self.config))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "covkb.service.workers",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            start_new_session=True,  # a terminal's Ctrl-C reaches the front only; it stops workers in order
            limit=MAX_FRAME,
        )
        p = _Proc(proc, time.monotonic())
        self.procs.append(p)
        self.stats.started += 1
        try:
            header, _ = await asyncio.wait_for(p.read_frame(), self.start_timeout)
            if not header.get("ready"):
                raise WorkerDied(f"worker {p.pid} did not start")
        except (WorkerDied, asyncio.TimeoutError) as exc:
            p.kill()
            self.procs.remove(p)
            raise RuntimeError(f"an engine worker failed to start: {exc}") from exc
        p.ready = True
        watcher = asyncio.get_running_loop().create_task(self._watch(p))
        self._tasks.add(watcher)
        watcher.add_done_callback(self._tasks.discard)
        self._release(p)

    async def _watch(self, p: _Proc) -> None:
        """Replace a worker as soon as it exits, unless the pool is closing."""
        await p.proc.wait()
        p.dead = True
        if p in self.procs:
            self.procs.remove(p)
        if self._closing:
            return
        self.stats.replaced += 1
        while not self._closing:
            try:
                await self._spawn()
                return
            except RuntimeError:
                await asyncio.sleep(1.0)

    def _release(self, p: _Proc) -> None:
        """A worker is free: to the longest waiting request, else to the free list."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(p)
                return
        self._free.append(p)

    async def _acquire(self, timeout: float) -> _Proc:
        """A live worker, first come first served; TimeoutError after timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        first = True
        while True:
            while self._free and not self._waiters:
                p = self._free.popleft()
                if not p.dead and p.proc.returncode is None:
                    return p
            waiter: asyncio.Future[_Proc] = loop.create_future()
            # one that was handed a worker that died at once keeps its place
            (self._waiters.append if first else self._waiters.appendleft)(waiter)
            first = False
            try:
                async with asyncio.timeout_at(deadline):
                    p = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release(waiter.result())  # handed a worker as it gave up: pass it on
                else:
                    waiter.cancel()
                raise
            if not p.dead and p.proc.returncode is None:
                return p

    async def call(self, op: str, args: dict[str, Any], body: bytes = b"", *, timeout: float = 30.0,
                   retries: int = 1) -> Answer:
        """The answer to one operation; raises EngineUnavailable.

        The exchange with the worker runs as its own task: a client that goes
        away does not cut it short (its answer would otherwise be read by the
        next caller), and the worker goes back to the pool when it answers."""
        from .problems import EngineUnavailable

        if self._closing:
            raise EngineUnavailable("the service is shutting down")
        task = asyncio.get_running_loop().create_task(self._exchange(op, args, body, timeout, retries))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return await asyncio.shield(task)

    async def _exchange(self, op: str, args: dict[str, Any], body: bytes, timeout: float,
                        retries: int) -> Answer:
        from .problems import EngineUnavailable

        attempt = 0
        while True:
            try:  # no worker free (all busy, or none can start): a 503, never a hang
                p = await self._acquire(timeout)
            except TimeoutError:
                self.stats.failed += 1
                raise EngineUnavailable(f"no engine worker was free within {timeout:g} s") from None
            p.busy = True
            try:
                async with asyncio.timeout(timeout):
                    header, out = await p.call({"op": op, "args": args}, body)
            except TimeoutError:
                self.stats.timeouts += 1
                self.stats.failed += 1
                p.kill()
                raise EngineUnavailable(f"the engine took longer than {timeout:g} s; the worker was replaced") from None
            except WorkerDied as exc:
                p.dead = True
                attempt += 1
                if attempt > retries:
                    self.stats.failed += 1
                    raise EngineUnavailable(f"{exc}; no worker answered") from None
                self.stats.retried += 1
                continue
            finally:
                p.busy = False
            p.served += 1
            self._release(p)
            return Answer(header["status"], header["media"], out, bool(header.get("volatile")))

    def status(self) -> dict[str, Any]:
        return {"workers": [{"pid": p.pid, "busy": p.busy, "served": p.served} for p in self.procs
                            if not p.dead and p.ready],
                "size": self.size, "started": self.stats.started, "replaced": self.stats.replaced,
                "retried": self.stats.retried, "timeouts": self.stats.timeouts, "failed": self.stats.failed}

    async def close(self, grace: float = 10.0) -> None:
        """Stop every worker: close its stdin (it exits after its current
        request), then kill what is left after the grace period."""
        self._closing = True
        if self._calls:  # every accepted request gets its answer first
            await asyncio.wait(list(self._calls), timeout=grace)
        for p in list(self.procs):
            if p.proc.stdin is not None:
                p.proc.stdin.close()
        deadline = time.monotonic() + grace
        for p in list(self.procs):
            try:
                await asyncio.wait_for(p.proc.wait(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                p.kill()
                await p.proc.wait()
        for t in list(self._tasks):
            t.cancel()


if __name__ == "__main__":
    worker_main()

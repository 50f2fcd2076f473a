"""Engine worker processes, and the pool that dispatches to them: every
operation in ``covkb serve --mode pool``, the long ones (batch, check, diff)
of a server process in ``--mode inline``.

SWI-Prolog under pyswip is one per process and not thread-safe, so every
such operation runs in a worker process (``python -m covkb.service.workers``)
that loads the knowledge base once and answers one request at a time.  The
asyncio front talks to each worker over its stdin/stdout with length-
prefixed frames: a one-line JSON header, a newline, then the body bytes as
they came (the front never parses a request body).

The pool serves requests first come, first served: a worker that comes free
goes to the longest waiting request, never to one that has just arrived.
A quick operation (a determination, a CDS Hooks call) may be sent to a
worker that is still answering another quick one (at most ``depth``, 2, at
a time), so the worker finds its next request waiting instead of idling
while the front hands it over; nothing queues behind a batch, a diff or a
check.  The price: a request sent behind a CDS call that reads a FHIR
server waits for that read, though the other worker may come free first.

A worker that dies (a crash, SIGKILL, out of memory) is seen at once (its
pipe closes) and replaced; the requests it held are sent again to another
worker, once, since every operation only reads.  A worker that takes longer
than the operation's timeout is killed and replaced, and its request gets a
503 (a request queued behind it is sent elsewhere): never a hang.
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

import orjson

_HEAD = struct.Struct(">I")
MAX_FRAME = 1 << 30


def pack(header: dict[str, Any], body: bytes = b"") -> bytes:
    try:  # one line either way: neither writes a newline
        head = orjson.dumps(header)
    except TypeError:  # what orjson cannot write (an integer beyond 64 bits)
        head = json.dumps(header, separators=(",", ":")).encode()
    payload = head + b"\n" + body
    return _HEAD.pack(len(payload)) + payload


def unpack(payload: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = payload.partition(b"\n")
    return orjson.loads(head), body


# -- the worker process ------------------------------------------------------------

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
    from .lifeline import die_with_parent
    from .ops import Worker

    die_with_parent(os.getppid())  # a worker busy with a long job stops when its front is killed

    w = Worker(json.loads(os.environ.get("COVKB_WORKER_CONFIG", "{}")))
    _write_all(out_fd, pack({"ready": True, "pid": os.getpid(), "seconds": w.startup_seconds}))
    # buffered: a frame's length and its payload usually come in one read
    inp = os.fdopen(0, "rb", buffering=1 << 16)
    while True:
        head = inp.read(_HEAD.size)
        if len(head) < _HEAD.size:
            return
        (n,) = _HEAD.unpack(head)
        payload = inp.read(n)
        if len(payload) < n:
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


# Operations a worker answers in about a millisecond: one of them may be sent
# to a worker still busy with another (pipelined), so that the worker finds
# its next request waiting when it answers, never idle while the front hands
# it over.  Any other operation (a batch chunk, a diff, the fault tests'
# sleep) waits for a worker of its own, and nothing queues behind it.
QUICK_OPS = frozenset({"determine", "cds", "explain", "ping"})


@dataclass(eq=False)
class _Proc:
    proc: asyncio.subprocess.Process
    started: float
    dead: bool = False
    ready: bool = False
    served: int = 0
    load: int = 0            # operations handed to it and not yet answered
    exclusive: bool = False  # it holds an operation nothing may queue behind
    pending: collections.deque[asyncio.Future[tuple[dict[str, Any], bytes]]] = field(
        default_factory=collections.deque)  # answers awaited, in the order sent

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.ready and not self.dead and self.proc.returncode is None

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

    async def read_answers(self) -> None:
        """The one reader of this worker's answers: each goes to the oldest
        request awaiting one (a worker answers in the order it is asked).
        When the worker dies, every request awaiting it is told so."""
        try:
            while True:
                answer = await self.read_frame()
                if not self.pending:
                    raise WorkerDied(f"worker {self.pid} answered what it was not asked")
                waiter = self.pending.popleft()
                if not waiter.done():  # else given up on (a timeout): its answer is dropped
                    waiter.set_result(answer)
        except WorkerDied as exc:
            self.kill()
            while self.pending:
                waiter = self.pending.popleft()
                if not waiter.done():
                    waiter.set_exception(WorkerDied(str(exc)))

    async def call(self, header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdin is not None
        if self.dead:
            raise WorkerDied(f"worker {self.pid} died")
        waiter: asyncio.Future[tuple[dict[str, Any], bytes]] = asyncio.get_running_loop().create_future()
        try:
            self.proc.stdin.write(pack(header, body))
            self.pending.append(waiter)
            await self.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            waiter.cancel()  # its answer, if any, is dropped by the reader
            raise WorkerDied(f"worker {self.pid} died") from exc
        return await waiter

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
    """N engine workers; ``call`` sends one operation to a worker.

    Requests are served first come, first served: a request goes to an idle
    worker if there is one, else (a quick operation) to a worker with fewer
    than ``depth`` quick operations under way, else it waits its turn."""

    def __init__(self, size: int, config: dict[str, Any] | None = None, *, start_timeout: float = 120.0,
                 depth: int = 2) -> None:
        self.size = max(1, size)
        self.depth = max(1, depth)
        self.config = config or {}
        self.start_timeout = start_timeout
        self.procs: list[_Proc] = []
        self.stats = PoolStats()
        # the requests waiting for a worker, in order of arrival (quick or not)
        self._waiters: collections.deque[tuple[asyncio.Future[_Proc], bool]] = collections.deque()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()   # watchers and answer readers
        self._calls: set[asyncio.Task[Any]] = set()   # exchanges under way

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    def _task(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        self._task(self._watch(p))
        self._task(p.read_answers())
        self._dispatch()

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

    def _pick(self, quick: bool) -> _Proc | None:
        """An idle worker; for a quick operation, else the least loaded one
        with room behind a quick operation; None if there is none."""
        best: _Proc | None = None
        for p in self.procs:
            if not p.alive:
                continue
            if p.load == 0:
                return p
            if quick and not p.exclusive and p.load < self.depth and (best is None or p.load < best.load):
                best = p
        return best

    def _dispatch(self) -> None:
        """Hand workers to the waiting requests, oldest first; the oldest that
        cannot be placed yet keeps every later one waiting (no overtaking)."""
        while self._waiters:
            waiter, quick = self._waiters[0]
            if waiter.done():  # gave up (a timeout, a cancelled call)
                self._waiters.popleft()
                continue
            p = self._pick(quick)
            if p is None:
                return
            self._waiters.popleft()
            p.load += 1
            p.exclusive = not quick
            waiter.set_result(p)

    def _done_with(self, p: _Proc) -> None:
        p.load -= 1
        if p.load == 0:
            p.exclusive = False
        self._dispatch()

    async def _acquire(self, timeout: float, quick: bool = True) -> _Proc:
        """A worker for one operation, in order of arrival; TimeoutError
        after timeout.  The caller gives it back with _done_with."""
        waiter: asyncio.Future[_Proc] = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, quick))
        self._dispatch()
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._done_with(waiter.result())  # handed a worker as it gave up: give it back
            else:
                waiter.cancel()
            raise

    async def call(self, op: str, args: dict[str, Any], body: bytes = b"", *, timeout: float = 30.0,
                   retries: int = 1) -> Answer:
        """The answer to one operation; raises EngineUnavailable.

        The exchange with the worker runs as its own task: a client that goes
        away does not cut it short (the worker answers it all the same, and
        its answer must be read in turn)."""
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

        quick = op in QUICK_OPS
        attempt = 0
        while True:
            try:  # no worker free (all busy, or none can start): a 503, never a hang
                p = await self._acquire(timeout, quick)
            except TimeoutError:
                self.stats.failed += 1
                raise EngineUnavailable(f"no engine worker was free within {timeout:g} s") from None
            try:
                async with asyncio.timeout(timeout):
                    header, out = await p.call({"op": op, "args": args}, body)
            except TimeoutError:
                self.stats.timeouts += 1
                self.stats.failed += 1
                p.kill()  # what it holds after this one is told it died, and sent elsewhere
                raise EngineUnavailable(f"the engine took longer than {timeout:g} s; the worker was replaced") from None
            except WorkerDied as exc:
                p.kill()  # dead already, or its pipe is broken: of no more use
                attempt += 1
                if attempt > retries:
                    self.stats.failed += 1
                    raise EngineUnavailable(f"{exc}; no worker answered") from None
                self.stats.retried += 1
                continue
            finally:
                self._done_with(p)
            p.served += 1
            return Answer(header["status"], header["media"], out, bool(header.get("volatile")))

    def status(self) -> dict[str, Any]:
        return {"workers": [{"pid": p.pid, "busy": p.load > 0, "served": p.served} for p in self.procs
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

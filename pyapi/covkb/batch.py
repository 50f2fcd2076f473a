"""Batch determinations: JSON Lines or CSV in, one record per line out.

Streams: lines are read, decided and written in bounded chunks, so memory
does not grow with the input.  Lines in == lines out, always: every input
line after a CSV header becomes exactly one record carrying its line number
(CSV records also carry their row), whatever the line holds: bytes that are
not UTF-8, a line over the size limit, broken CSV quoting, a blank line.
With ``workers > 1`` the work runs in processes (pyswip is one SWI-Prolog per
process and not thread-safe), each loading the KB once; a worker that dies
is replaced and its chunk decided again (a few times, then the run fails).

Nothing is lost: the output is written to ``OUT.partial`` beside OUT, with a
resume point in ``OUT.partial.json`` after every chunk, and renamed to OUT
only when every line is decided.  An interrupted run (SIGINT, SIGTERM)
stops with ``BatchInterrupted`` and leaves the partial file (or nothing,
when no line was done); ``resume=True`` continues it.  An output that is the
input (the same file, through a link or not) is refused before anything is
written.

Identical request lines get identical determinations, and so do requests
that differ only in findings the engine says cannot matter for their service
(``KnowledgeBase.decision_key``): each worker keeps bounded memos of both.

A line may name its policy and version (covkb.routing); ``policy`` is the
default for lines naming none, and ``keep`` copies named columns into every
record.  The parts: covkb.batch_read reads lines, covkb.batch_lines decides
one (as Spark and the REST batch do), covkb.batch_write writes records and
the resume point; this module runs them, in chunks, over worker processes.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from .batch_lines import CSV_LIST_FIELDS, LineDecider, check_keep, csv_request  # noqa: F401
from .batch_read import (UNTERMINATED, BadLine, Item, Raw, _text, csv_raw, is_csv,  # noqa: F401
                         physical_lines, read_csv_header, read_csv_rows, read_jsonl)
from .batch_write import (CSV_OUT_FIELDS, CsvWriter, JsonlWriter, Target, _input_stamp, out_fields,  # noqa: F401
                          _interrupted, _kept, _load_resume_point, _open_output, _output_target, _same_file,
                          _save_resume_point)
from .errors import CovkbError, EngineError, InvalidRequest, OutputFailed

CHUNK = 2048          # lines in a chunk; a few chunks are in flight at once
CHUNK_BYTES = 8 << 20  # and at most this much line text in a chunk: bounds memory with long lines
MEMO_LIMIT = 50_000   # distinct lines remembered (by the reader, and per worker)
MEMO_KEY_MAX = 1024   # a line longer than this is decided again rather than remembered
MAX_WORKERS = 64
WORKER_RESTARTS = 3   # a run whose workers die more often than this fails
# A decided line: (line number, record body, the body as JSON without its "{", offset past it)
Decided = tuple[int, dict[str, Any], str, int]


@dataclass
class BatchSummary:
    lines: int = 0
    errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    resumed_after: int = 0  # records already in the partial output a resumed run continued
    worker_restarts: int = 0

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "errors": self.errors, "outcomes": dict(self.outcomes),
                "error_codes": dict(self.error_codes), "seconds": round(self.seconds, 3),
                "lines_per_second": round(self.lines_per_second, 1), "resumed_after": self.resumed_after,
                "worker_restarts": self.worker_restarts}


# -- deciding (in a worker: one LineDecider a process) ------------------------------

_decider: LineDecider | None = None


def _init_worker(engine: str, citations: bool = False, policy: str | None = None, in_worker: bool = False,
                 keep: tuple[str, ...] = ()) -> None:
    global _decider
    if in_worker:  # the parent handles ^C for the whole run
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _decider is not None:
        _decider.close()
    _decider = LineDecider(engine, citations, policy, keep)


def _decide_raw(raw: Raw) -> tuple[dict[str, Any], str]:
    """One line's record (covkb.batch_lines), by this process's decider; never raises."""
    assert _decider is not None
    return _decider.decide(raw)


def _decide_raws(raws: list[Raw]) -> list[tuple[dict[str, Any], str]]:
    """Records for distinct raw lines (runs in a worker); never raises."""
    assert _decider is not None
    return [_decider.decide(r) for r in raws]


def _worker_pid() -> int:
    return os.getpid()


# -- the run ----------------------------------------------------------------------

class _Terminated(BaseException):
    """SIGTERM, raised where the run is, like KeyboardInterrupt for SIGINT."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def run_batch(
    input_path: str,
    output_path: str,
    *,
    engine: str = "prolog",
    workers: int = 1,
    citations: bool = False,
    progress: Callable[[int], None] | None = None,
    policy: str | None = None,
    resume: bool = False,
    keep: tuple[str, ...] | list[str] = (),
) -> BatchSummary:
    """Decide every line of input_path into output_path; return the summary.

    Raises InvalidRequest before writing anything when the input cannot be
    read, the output is the input, or a CSV header is wrong; raises
    BatchInterrupted on SIGINT or SIGTERM (the partial output is kept for
    ``resume=True``) and EngineError when workers keep dying.

    Each line may name its policy and version (covkb.routing); ``policy``
    answers the lines that name none.  ``keep`` names the columns copied
    into each record unchanged."""
    keep = check_keep(keep)
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidRequest(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    summary = BatchSummary()
    start = time.perf_counter()
    csv_in, csv_out = is_csv(input_path), is_csv(output_path)
    from_stdin = input_path == "-"
    target = _output_target(input_path, output_path, resume)
    try:
        src: BinaryIO = sys.stdin.buffer if from_stdin else open(input_path, "rb")
    except OSError as exc:
        raise InvalidRequest(f"cannot read {input_path}: {exc.strerror}") from exc
    settings = {"engine": engine, "citations": citations, "policy": policy, "csv_output": csv_out, "keep": list(keep),
                **({} if from_stdin else _input_stamp(input_path))}
    with src:
        # The policy is read here, before any worker starts or anything is
        # written, so that a bad --policy or --engine is one clean error.
        if workers <= 1:  # decided here: load the KB once
            _init_worker(engine, citations, policy, keep=keep)
            folder = _decider.kb.policy.folder  # type: ignore[union-attr]
        else:
            folder = _vocabulary(engine, policy)
        header, offset = read_csv_header(src, csv_columns(folder, keep)) if csv_in else ((), 0)
        first = 2 if csv_in else 1
        point: dict[str, Any] | None = None
        if resume:
            assert target is not None
            point = _load_resume_point(target, settings)
            src.seek(point["input_offset"])
            offset, first, summary.resumed_after = point["input_offset"], point["next_line"], point["records"]
        items = read_csv_rows(src, header, first, offset) if csv_in else read_jsonl(src, first, offset)
        dst, raw_out = _open_output(target, output_path, point, csv_out)
        done = {"records": point["records"] if point else 0, "next_line": first, "input_offset": offset}
        old_term = _install_sigterm()
        stopped: int | None = None
        chunks = _decided_chunks(items, workers, (engine, citations, policy, keep), summary)
        try:
            with dst:
                writer = (CsvWriter if csv_out else JsonlWriter)(dst, csv_in, header=point is None, keep=keep)
                _write_chunks(chunks, writer, (dst, raw_out, target), settings, done, summary, progress)
        except KeyboardInterrupt:
            stopped = 130
        except _Terminated:
            stopped = 143
        except CovkbError as err:
            err.args = (err.message + _kept(target, done["records"]),)
            raise
        except OSError as exc:
            # a full disk or a failing device: the lines done are kept, never lost
            raise OutputFailed(f"the run stopped: {exc.strerror or exc} ({exc.filename or output_path})"
                               + _kept(target, done["records"])) from None
        finally:
            chunks.close()
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
    if stopped is not None:
        raise _interrupted(stopped, target, done["records"], output_path)
    if target is not None:
        os.replace(target.partial, target.final)
        target.resume.unlink(missing_ok=True)
    summary.errors = sum(summary.error_codes.values())
    summary.seconds = time.perf_counter() - start
    return summary


def _write_chunks(chunks: Iterator[list[Decided]], writer: JsonlWriter | CsvWriter,
                  out: tuple[io.TextIOWrapper, BinaryIO, Target | None], settings: dict[str, Any],
                  done: dict[str, Any], summary: BatchSummary, progress: Callable[[int], None] | None) -> None:
    """Write each chunk of decided lines, count its outcomes and errors, and
    move the resume point past it (``done``, updated in place: an
    interrupted run reports how far it got)."""
    dst, raw_out, target = out
    if target is not None:
        dst.flush()
        _save_resume_point(target, {**settings, **done, "bytes": raw_out.tell()})
    for records in chunks:
        for n, body, body_json, _ in records:
            writer.write(n, body, body_json)
            err = body.get("error")
            if err:
                summary.error_codes[err["code"]] += 1
            else:
                summary.outcomes[body["outcome"]] += 1
        summary.lines += len(records)
        done.update(records=done["records"] + len(records), next_line=records[-1][0] + 1,
                    input_offset=records[-1][3])
        dst.flush()
        if target is not None:
            _save_resume_point(target, {**settings, **done, "bytes": raw_out.tell()})
        if progress:
            progress(len(records))


def _vocabulary(engine: str, policy: str | None) -> Path:
    """The default policy's folder; one clean error for a bad --policy or --engine."""
    from .engines import ENGINES
    from .policy import Policy

    if engine not in ENGINES:
        raise InvalidRequest(f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
    return Policy(policy=policy).folder


def csv_columns(default: Path, keep: tuple[str, ...]) -> list[str]:
    """The columns a CSV header (or a Parquet input) may hold: the request
    fields of the default policy and of every installed one (a mixed file's
    header holds them all; covkb.batch_lines refuses a row's cell its own
    policy does not read), the routing fields, and the kept columns."""
    from .routing import installed, union_fields

    return [*union_fields([default, *sorted(set(installed().values()) - {default})]), *keep]


def _install_sigterm() -> Any:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _decided_chunks(
    items: Iterator[Item], workers: int, job: tuple[Any, ...], summary: BatchSummary | None = None,
) -> Iterator[list[Decided]]:
    """Chunks of decided lines, in input order.

    The reading process remembers every distinct line it has seen decided
    and sends only new ones out; a repeated line costs a dictionary lookup.
    """
    chunks = _chunks(items)
    if workers <= 1:
        if _decider is None:
            _init_worker(*job[:3], keep=job[3])
        yield from _with_line_memo(chunks, _run_here, 0)
        return
    # Processes, not threads (pyswip is one SWI-Prolog per process); each loads the KB once.
    pool = WorkerPool(workers, (*job[:3], True, job[3]))
    finished = False
    try:
        yield from _with_line_memo(chunks, pool.submit, workers)
        finished = True
    finally:
        if summary is not None:
            summary.worker_restarts = pool.restarts
        pool.stop(abort=not finished)


def _size(raw: Raw) -> int:
    if isinstance(raw, str):
        return len(raw)
    if isinstance(raw, BadLine):
        return len(raw.message)
    return sum(len(k) + len(c) for k, c in raw)


def _chunks(items: Iterator[Item]) -> Iterator[list[Item]]:
    """Items in chunks of at most CHUNK lines and CHUNK_BYTES of line text."""
    chunk: list[Item] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += _size(item[1])
        if len(chunk) >= CHUNK or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _run_here(batches: list[list[Raw]]) -> Callable[[], list[list[tuple[dict[str, Any], str]]]]:
    done = [_decide_raws(b) for b in batches]
    return lambda: done


class WorkerPool:
    """Worker processes that decide batches of lines.  A worker that dies
    (killed, crashed) breaks the pool: it is started again and every batch
    not yet back is sent again (deciding is pure), at most WORKER_RESTARTS
    times; then EngineError.  Never waits on a dead worker."""

    def __init__(self, workers: int, initargs: tuple[Any, ...], initializer: Callable[..., None] = _init_worker,
                 task: Callable[[list[Any]], list[Any]] = _decide_raws) -> None:
        # initializer and task: another pure job in the same pool (covkb.score_decide's scenarios)
        self.workers, self.initargs, self.restarts = workers, initargs, 0
        self.initializer, self.task = initializer, task
        self.outstanding: list[list[Any]] = []  # [batch, future] of every batch not yet collected
        self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self.ex = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=self.initializer,
                                      initargs=self.initargs)

    def pids(self) -> list[int]:
        return [p.pid for p in (getattr(self.ex, "_processes", None) or {}).values()]

    def submit(self, batches: list[list[Raw]]) -> Callable[[], list[list[tuple[dict[str, Any], str]]]]:
        from concurrent.futures.process import BrokenProcessPool

        entries = []
        for b in batches:
            entry: list[Any] = [b, None]
            self.outstanding.append(entry)
            entries.append(entry)
            try:
                entry[1] = self.ex.submit(self.task, b)
            except BrokenProcessPool:  # a worker died since the last batch was collected
                self._restart()  # sends this batch again too
        return lambda: self._collect(entries)

    def _collect(self, entries: list[list[Any]]) -> list[list[tuple[dict[str, Any], str]]]:
        from concurrent.futures.process import BrokenProcessPool

        out = []
        for entry in entries:
            while True:
                try:
                    out.append(entry[1].result())
                    break
                except BrokenProcessPool:
                    self._restart()
        ids = {id(e) for e in entries}
        self.outstanding = [e for e in self.outstanding if id(e) not in ids]
        return out

    def _restart(self) -> None:
        self.restarts += 1
        self.stop()
        if self.restarts > WORKER_RESTARTS:
            raise EngineError(f"a batch worker process died {self.restarts} times (killed or crashed); "
                              f"stopping the run")
        print(f"covkb: warning: a batch worker process died; starting the workers again "
              f"({self.restarts} of at most {WORKER_RESTARTS})", file=sys.stderr)
        self._start()
        for entry in self.outstanding:
            f = entry[1]
            if f is None or not (f.done() and not f.cancelled() and f.exception() is None):
                entry[1] = self.ex.submit(self.task, entry[0])

    def stop(self, abort: bool = True) -> None:
        """End the workers; on abort now, without waiting for a batch in progress."""
        if abort:
            for p in list((getattr(self.ex, "_processes", None) or {}).values()):
                if p.is_alive():
                    p.terminate()
        self.ex.shutdown(wait=True, cancel_futures=True)


def _with_line_memo(
    chunks: Iterator[list[Item]],
    submit: Callable[[list[list[Raw]]], Callable[[], list[list[tuple[dict[str, Any], str]]]]],
    workers: int,
) -> Iterator[list[Decided]]:
    """Decide chunks with a few in flight; repeated lines are looked up.

    A line already decided, or being decided for an earlier chunk, is not
    sent again.  The memo stops growing at MEMO_LIMIT (lines past it are
    simply decided again), so no remembered line ever disappears while a
    later chunk still needs it; a line a later chunk awaits from an earlier
    one is carried over from that chunk's answers whether or not the memo
    has room (``carry``, at most the lines of the chunks in flight).
    """
    memo: dict[Raw, tuple[dict[str, Any], str]] = {}
    pending: dict[Raw, None] = {}  # keys sent out, not yet back
    awaited: Counter[Raw] = Counter()  # keys chunks in flight await from an earlier chunk
    carry: dict[Raw, tuple[dict[str, Any], str]] = {}  # their answers, until the last one is collected
    in_flight: deque[tuple[list[Item], list[Raw], list[Raw], Callable[[], Any]]] = deque()

    def finish() -> list[Decided]:
        chunk, sent, waits, result = in_flight.popleft()
        decided = [rec for part in result() for rec in part]
        local = dict(zip(sent, decided))
        for k in sent:
            pending.pop(k, None)
            if awaited[k]:
                carry[k] = local[k]
        room = MEMO_LIMIT - len(memo)
        if room > 0:
            memo.update(islice(((k, v) for k, v in local.items() if _size(k) <= MEMO_KEY_MAX), room))
        out = [(n, *(local.get(k) or memo.get(k) or carry[k]), end) for n, k, end in chunk]
        for k in waits:
            awaited[k] -= 1
            if not awaited[k]:
                del awaited[k]
                carry.pop(k, None)
        return out

    for chunk in chunks:
        new: dict[Raw, None] = {}
        waits: dict[Raw, None] = {}
        for _, k, _ in chunk:
            if k in memo or k in new:
                continue
            if k in pending:
                waits[k] = None
            else:
                new[k] = None
        raws = list(new)
        for k in waits:
            awaited[k] += 1
        step = max(1, -(-len(raws) // (max(workers, 1) * 2)))
        in_flight.append((chunk, raws, list(waits), submit([raws[i : i + step] for i in range(0, len(raws), step)])))
        pending.update(new)
        if len(in_flight) > workers:
            yield finish()
    while in_flight:
        yield finish()

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
"""

from __future__ import annotations

import csv
import io
import json
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

from .errors import BatchInterrupted, CovkbError, EngineError, InvalidRequest, OutputFailed
from .request import MAX_REQUEST_BYTES, decode_text, field_names, request_json

CSV_LIST_FIELDS = ("findings", "unknown_findings", "absent_findings")  # and the policy's code-list fields
CSV_OUT_FIELDS = (
    "line", "row", "outcome", "statement", "criteria_met", "missing", "possible_outcomes",
    "referral", "version", "unlisted_findings", "warnings", "error_code", "error_message",
)
CHUNK = 2048          # lines in a chunk; a few chunks are in flight at once
CHUNK_BYTES = 8 << 20  # and at most this much line text in a chunk: bounds memory with long lines
MEMO_LIMIT = 50_000   # distinct lines remembered (by the reader, and per worker)
MEMO_KEY_MAX = 1024   # a line longer than this is decided again rather than remembered
MAX_WORKERS = 64
WORKER_RESTARTS = 3   # a run whose workers die more often than this fails


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that cannot be read as a request at all (its record is an error)."""

    message: str


# What a line is, once read: JSON text, a CSV row as (column, cell) pairs, or a BadLine.
Raw = str | tuple[tuple[str, str], ...] | BadLine
Item = tuple[int, Raw, int]  # (line number, raw, input byte offset just past the line)
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


# -- reading ----------------------------------------------------------------

def is_csv(path: str) -> bool:
    return path.lower().endswith(".csv")


def physical_lines(src: BinaryIO, first: int = 1, offset: int = 0) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, bytes without the line end, offset past the line); None
    for a line longer than MAX_REQUEST_BYTES, which is skipped unread in
    bounded pieces.  A last line without a line end is a line."""
    n = first - 1
    while True:
        line = src.readline(MAX_REQUEST_BYTES + 2)
        if not line:
            return
        n += 1
        offset += len(line)
        if len(line) > MAX_REQUEST_BYTES + 1 or (len(line) == MAX_REQUEST_BYTES + 1 and not line.endswith(b"\n")):
            while not line.endswith(b"\n"):
                line = src.readline(1 << 16)
                if not line:
                    break
                offset += len(line)
            yield n, None, offset
            continue
        yield n, line.rstrip(b"\n").removesuffix(b"\r"), offset


def _text(raw: bytes | None) -> str | BadLine:
    if raw is None:
        return BadLine(f"line is longer than {MAX_REQUEST_BYTES:,} bytes")
    try:
        return decode_text(raw, "line")
    except InvalidRequest as err:
        return BadLine(err.message)


def read_jsonl(src: BinaryIO, first: int = 1, offset: int = 0) -> Iterator[Item]:
    start = offset
    for n, raw, end in physical_lines(src, first, offset):
        text = _text(raw)
        if raw is not None and end - start == len(raw) and isinstance(text, str) and not _is_json(text):
            # the input ends inside this line: a file still being written, or cut short
            text = BadLine("the input ends inside this line (no line end, not complete JSON): "
                           "was the file still being written? run again on the finished file")
        start = end
        yield n, text, end


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def read_csv_header(src: BinaryIO, columns: list[str]) -> tuple[tuple[str, ...], int]:
    """The header row (line 1), checked against the request's fields:
    every column known, none twice.  Returns the columns and the offset past it."""
    if csv.field_size_limit() < MAX_REQUEST_BYTES:
        csv.field_size_limit(MAX_REQUEST_BYTES)  # a line is bounded before the csv module sees it
    for _, raw, end in physical_lines(src):
        text = _text(raw)
        if isinstance(text, BadLine):
            raise InvalidRequest(f"CSV header (line 1): {text.message}")
        try:
            rows = list(csv.reader([text], strict=True))
        except csv.Error as exc:
            raise InvalidRequest(f"CSV header (line 1): {exc}") from None
        header = tuple(c.strip() for c in rows[0]) if rows else ()
        if not header or header == ("",):
            raise InvalidRequest("CSV header (line 1) is empty; it names the request fields, e.g. service,cpt")
        from .request import _closest

        seen: set[str] = set()
        for i, name in enumerate(header, 1):
            if not name:
                raise InvalidRequest(f"CSV header: column {i} has no name")
            if name in seen:
                raise InvalidRequest(f"CSV header: column {name!r} appears twice")
            if name not in columns:
                raise InvalidRequest(f"CSV header: unknown column {name[:60]!r}{_closest(name, columns)}; "
                                     f"the columns are request fields ({', '.join(columns)})")
            seen.add(name)
        return header, end
    raise InvalidRequest("the CSV input is empty: it needs a header row naming the request fields")


UNTERMINATED = ("unterminated quote: a quoted cell opens on this line and does not close into a record of the "
                "header's cells; the lines after it are read as records of their own")


def read_csv_rows(src: BinaryIO, header: tuple[str, ...], first: int = 2, offset: int = 0) -> Iterator[Item]:
    """The records after the header, as RFC 4180 reads them: a quoted cell
    may hold line breaks, so a record may span several lines (its number is
    its first line's).  A quote still open at the end of the input, or over
    MAX_REQUEST_BYTES, or that closes into a record without the header's
    cells, loses nothing: its first line is an error record ("unterminated
    quote") and each line after it is read again as a record of its own."""
    lines = physical_lines(src, first, offset)
    pending: list[tuple[int, bytes | None, int]] = []  # lines read ahead and given back
    while True:
        head = pending.pop(0) if pending else next(lines, None)
        if head is None:
            return
        n, raw, end = head
        if raw is None or raw.count(b'"') % 2 == 0:
            yield n, csv_raw(raw, header), end
            continue
        # an open quote: the record goes on on the next lines, up to the one that closes it
        taken: list[tuple[int, bytes | None, int]] = []
        size, quotes, closed = len(raw), raw.count(b'"'), False
        while size <= MAX_REQUEST_BYTES:
            nxt = pending.pop(0) if pending else next(lines, None)
            if nxt is None or nxt[1] is None:
                if nxt is not None:
                    taken.append(nxt)
                break
            taken.append(nxt)
            size += len(nxt[1]) + 1
            quotes += nxt[1].count(b'"')
            if quotes % 2 == 0:
                closed = size <= MAX_REQUEST_BYTES
                break
        record = b"\n".join([raw, *(t[1] for t in taken if t[1] is not None)]) if closed else b""
        whole = csv_raw(record, header) if closed else None
        if isinstance(whole, tuple):  # the header's cells: one record over these lines
            yield n, whole, taken[-1][2]
        else:  # a quote that never closes, or closes into no record: nothing is swallowed
            yield n, BadLine(UNTERMINATED), end
            pending = taken + pending


def csv_raw(raw: bytes | None, header: tuple[str, ...]) -> Raw:
    """One CSV row's bytes (None: too long) as what the line is (also covkb.spark's reader)."""
    text = _text(raw)
    if isinstance(text, BadLine):
        return text
    if not text.strip():
        return BadLine("blank line (a row with no cells)")
    if text.count('"') % 2:
        return BadLine(UNTERMINATED)
    try:
        cells = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return BadLine(f"broken CSV quoting: {exc}")
    if len(cells) != len(header):
        return BadLine(f"row has {len(cells)} cells; the header has {len(header)}")
    return tuple(zip(header, cells))


def csv_request(row: tuple[tuple[str, str], ...] | dict[str, Any], vocabulary: Any) -> dict[str, Any]:
    """A CSV row as a request: empty cells are absent, lists are ;-separated,
    and each of the policy's own fields is read as its declared kind."""
    fields = vocabulary.fields
    req: dict[str, Any] = {}
    for key, cell in (row.items() if isinstance(row, dict) else row):
        cell = (cell or "").strip()
        if not cell or key is None:
            continue
        f = fields.get(key)
        if key in CSV_LIST_FIELDS or (f is not None and f.kind == "code_list"):
            req[key] = [x.strip() for x in cell.split(";") if x.strip()]
        elif f is not None:
            req[key] = f.parse_text(cell, key)
        else:
            req[key] = cell
    return req


# -- deciding (in a worker) -----------------------------------------------------

_kb: Any = None
_citations = False
_decided: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}  # decision key -> record


def _init_worker(engine: str, citations: bool = False, policy: str | None = None, in_worker: bool = False) -> None:
    global _kb, _citations
    from .kb import KnowledgeBase

    if in_worker:  # the parent handles ^C for the whole run
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _kb = KnowledgeBase(engine=engine, policy=policy)
    _citations = citations
    _decided.clear()


def _decide_raws(raws: list[Raw]) -> list[tuple[dict[str, Any], str]]:
    """Records for distinct raw lines (runs in a worker); never raises."""
    return [_decide_raw(r) for r in raws]


def _worker_pid() -> int:
    return os.getpid()


def _decide_raw(raw: Raw) -> tuple[dict[str, Any], str]:
    try:
        if isinstance(raw, BadLine):
            raise InvalidRequest(raw.message)
        req = _kb._read(request_json(raw) if isinstance(raw, str) else csv_request(raw, _kb.vocabulary))
        key = _kb.decision_key(req)
        hit = _decided.get(key)
        if hit is None:
            d = _kb.determine(req, explain=False).to_dict(explanation=False)
            if not _citations:
                del d["citations"]
            hit = _record(d)
            if len(_decided) >= MEMO_LIMIT:
                _decided.clear()
            _decided[key] = hit
        return hit
    except CovkbError as err:
        return _record({"error": err.to_dict()})
    except Exception as exc:  # a batch never stops on one line
        return _record({"error": {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}})


def _record(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return body, json.dumps(body, ensure_ascii=False, separators=(",", ":"))[1:]


# -- writing ----------------------------------------------------------------------

class JsonlWriter:
    def __init__(self, out: io.TextIOBase, csv_input: bool, header: bool = True) -> None:
        self.out = out
        self.rows = csv_input

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        head = f'{{"line":{n},"row":{n - 1}' if self.rows else f'{{"line":{n}'
        self.out.write(f"{head},{body_json}\n" if body else f"{head}}}\n")


class CsvWriter:
    def __init__(self, out: io.TextIOBase, csv_input: bool, header: bool = True) -> None:
        self.w = csv.DictWriter(out, fieldnames=CSV_OUT_FIELDS, extrasaction="ignore")
        self.rows = csv_input
        if header:
            self.w.writeheader()

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        row = {k: (";".join(v) if isinstance(v, list) else v) for k, v in body.items() if k in CSV_OUT_FIELDS}
        row["line"] = n
        if self.rows:
            row["row"] = n - 1
        if "error" in body:
            row["error_code"], row["error_message"] = body["error"]["code"], body["error"]["message"]
        self.w.writerow(row)


# -- where the output goes ----------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """The output file, the partial file it is written as, and its resume point."""

    final: Path
    partial: Path
    resume: Path

    @classmethod
    def of(cls, output: str) -> Target:
        final = Path(os.path.realpath(output))  # a link's target is replaced, the link kept
        return cls(final, final.with_name(final.name + ".partial"), final.with_name(final.name + ".partial.json"))


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _input_stamp(path: str) -> dict[str, Any]:
    st = os.stat(path)
    return {"input": os.path.realpath(path), "input_size": st.st_size, "input_mtime_ns": st.st_mtime_ns}


def _save_resume_point(target: Target, point: dict[str, Any]) -> None:
    tmp = target.resume.with_name(target.resume.name + ".tmp")
    tmp.write_text(json.dumps(point, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, target.resume)


def _load_resume_point(target: Target, expect: dict[str, Any]) -> dict[str, Any]:
    try:
        point = json.loads(target.resume.read_text(encoding="utf-8"))
        size = target.partial.stat().st_size
    except FileNotFoundError:
        raise InvalidRequest(f"nothing to resume: no partial output {target.partial} with its resume point "
                             f"{target.resume.name}") from None
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"cannot resume: {target.resume} is unreadable ({exc})") from None
    for key, want in expect.items():
        if point.get(key) != want:
            raise InvalidRequest(f"cannot resume: {key} is now {want!r}, the partial run had {point.get(key)!r}; "
                                 f"run without --resume to start again")
    if not isinstance(point.get("bytes"), int) or point["bytes"] > size:
        raise InvalidRequest(f"cannot resume: {target.partial} is shorter than its resume point says")
    return point


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
) -> BatchSummary:
    """Decide every line of input_path into output_path; return the summary.

    Raises InvalidRequest before writing anything when the input cannot be
    read, the output is the input, or a CSV header is wrong; raises
    BatchInterrupted on SIGINT or SIGTERM (the partial output is kept for
    ``resume=True``) and EngineError when workers keep dying."""
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
    settings = {"engine": engine, "citations": citations, "policy": policy, "csv_output": csv_out,
                **({} if from_stdin else _input_stamp(input_path))}
    with src:
        # The policy is read here, before any worker starts or anything is
        # written, so that a bad --policy or --engine is one clean error.
        if workers <= 1:  # decided here: load the KB once
            _init_worker(engine, citations, policy)
            vocabulary = _kb.vocabulary
        else:
            vocabulary = _vocabulary(engine, policy)
        columns = field_names(vocabulary) if csv_in else []
        header, offset = read_csv_header(src, columns) if csv_in else ((), 0)
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
        chunks = _decided_chunks(items, engine, workers, citations, policy, summary)
        try:
            with dst:
                writer = (CsvWriter if csv_out else JsonlWriter)(dst, csv_in, header=point is None)
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


def _kept(target: Target | None, records: int) -> str:
    """What a failed run leaves for --resume, as the end of its message."""
    if target is None or not records:
        return ""
    return f"; {records:,} lines done, kept in {target.partial}: the same command with --resume continues it"


def _output_target(input_path: str, output_path: str, resume: bool) -> Target | None:
    """Where the output goes: None when it is written as it is (stdout, a
    device or a pipe: no partial file, no resume).  Refuses a directory, an
    output that is the input, and --resume without files."""
    to_stdout, from_stdin = output_path == "-", input_path == "-"
    if os.path.isdir(output_path):
        raise InvalidRequest(f"the output {output_path} is a directory")
    # a device or a pipe (/dev/null, a FIFO) is written as it is: no partial file, no resume
    direct = to_stdout or (os.path.exists(output_path) and not os.path.isfile(output_path))
    if resume and (direct or from_stdin):
        raise InvalidRequest("--resume needs an input file and an output file (not -, a device or a pipe)")
    target = None if direct else Target.of(output_path)
    if not from_stdin:
        for p in (output_path,) if target is None else (output_path, target.final, target.partial, target.resume):
            if _same_file(input_path, p):
                raise InvalidRequest(f"the output {output_path} is the input {input_path}: refused, "
                                     f"it would destroy the input")
    return target


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


def _vocabulary(engine: str, policy: str | None) -> Any:
    from .engines import ENGINES
    from .policy import Policy

    if engine not in ENGINES:
        raise InvalidRequest(f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
    p = Policy(policy=policy)
    return p.data(p.latest()).vocabulary


def _open_output(target: Target | None, output_path: str, point: dict[str, Any] | None,
                 csv_out: bool) -> tuple[io.TextIOWrapper, BinaryIO]:
    try:
        if target is None and output_path == "-":
            raw: BinaryIO = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
        elif target is None:
            raw = open(output_path, "wb")
        elif point is not None:
            raw = open(target.partial, "r+b")
            raw.truncate(point["bytes"])
            raw.seek(point["bytes"])
        else:
            raw = open(target.partial, "wb")
    except OSError as exc:
        raise InvalidRequest(f"cannot write {output_path}: {exc.strerror}") from exc
    return io.TextIOWrapper(raw, encoding="utf-8", newline="" if csv_out else None), raw


def _install_sigterm() -> Any:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _interrupted(code: int, target: Target | None, records: int, output_path: str) -> BatchInterrupted:
    name = "SIGINT" if code == 130 else "SIGTERM"
    if target is None:
        return BatchInterrupted(f"interrupted by {name} after {records:,} lines; the output is incomplete",
                                exit_code=code)
    if records == 0:  # nothing worth keeping
        target.partial.unlink(missing_ok=True)
        target.resume.unlink(missing_ok=True)
        return BatchInterrupted(f"interrupted by {name} before any line was done; nothing was written",
                                exit_code=code)
    return BatchInterrupted(
        f"interrupted by {name}: {records:,} lines done, kept in {target.partial} (resume point "
        f"{target.resume.name}); the same command with --resume continues it", exit_code=code)


def _decided_chunks(
    items: Iterator[Item], engine: str, workers: int, citations: bool, policy: str | None = None,
    summary: BatchSummary | None = None,
) -> Iterator[list[Decided]]:
    """Chunks of decided lines, in input order.

    The reading process remembers every distinct line it has seen decided
    and sends only new ones out; a repeated line costs a dictionary lookup.
    """
    chunks = _chunks(items)
    if workers <= 1:
        if _kb is None:
            _init_worker(engine, citations, policy)
        yield from _with_line_memo(chunks, _run_here, 0)
        return
    # Processes, not threads (pyswip is one SWI-Prolog per process); each loads the KB once.
    pool = WorkerPool(workers, (engine, citations, policy, True))
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

    def __init__(self, workers: int, initargs: tuple[Any, ...]) -> None:
        self.workers, self.initargs, self.restarts = workers, initargs, 0
        self.outstanding: list[list[Any]] = []  # [batch, future] of every batch not yet collected
        self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self.ex = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_init_worker,
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
                entry[1] = self.ex.submit(_decide_raws, b)
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
                entry[1] = self.ex.submit(_decide_raws, entry[0])

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

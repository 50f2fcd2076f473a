"""Batch determinations: JSON Lines or CSV in, one record per line out.

Streams: lines are read, decided and written in bounded chunks, so memory
does not grow with the input.  Lines in == lines out, always: a line that
cannot be decided becomes an error record carrying its line number.  With
``workers > 1`` the work runs in processes (pyswip is one SWI-Prolog per
process and not thread-safe), each loading the KB once.

Identical request lines get identical determinations, and so do requests
that differ only in findings the engine says cannot matter for their service
(``KnowledgeBase.decision_key``): each worker keeps bounded memos of both.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from .errors import CovkbError, InvalidRequest
from .request import request_json

CSV_LIST_FIELDS = ("findings", "unknown_findings")  # and the policy's code-list fields
CSV_OUT_FIELDS = (
    "line", "outcome", "statement", "criteria_met", "missing", "possible_outcomes",
    "referral", "version", "warnings", "error_code", "error_message",
)
CHUNK = 2048          # lines in flight at once: bounds memory
MEMO_LIMIT = 50_000   # distinct lines remembered per worker

Item = tuple[int, Any]  # (line number, raw JSON text or CSV row dict)
# A decided line: (line number, record body, the body as JSON without its "{")
Decided = tuple[int, dict[str, Any], str]


@dataclass
class BatchSummary:
    lines: int = 0
    errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "errors": self.errors, "outcomes": dict(self.outcomes),
                "error_codes": dict(self.error_codes), "seconds": round(self.seconds, 3),
                "lines_per_second": round(self.lines_per_second, 1)}


# -- reading ----------------------------------------------------------------

def is_csv(path: str) -> bool:
    return path.lower().endswith(".csv")


def read_items(stream: TextIO, csv_input: bool) -> Iterator[Item]:
    if not csv_input:
        for n, line in enumerate(stream, 1):
            yield n, line
        return
    reader = csv.DictReader(stream)
    for row in reader:
        # DictReader puts surplus cells under None; keep them to report the row
        yield reader.line_num, row


def csv_request(row: dict[str | None, Any], vocabulary: Any) -> dict[str, Any]:
    """A CSV row as a request: empty cells are absent, lists are ;-separated,
    and each of the policy's own fields is read as its declared kind."""
    if None in row:
        raise InvalidRequest(f"row has {len(row[None])} more cells than the header")
    fields = vocabulary.fields
    req: dict[str, Any] = {}
    for key, cell in row.items():
        cell = (cell or "").strip()
        if not cell or key is None:
            continue
        f = fields.get(key)
        if key in CSV_LIST_FIELDS or (f is not None and f.kind == "code_list"):
            req[key] = [x.strip() for x in cell.split(";") if x.strip()]
        elif f is not None and f.kind == "boolean":
            if cell.lower() not in ("true", "false", "yes", "no"):
                raise InvalidRequest(f"{key}: {cell!r} is not true or false")
            req[key] = cell.lower() in ("true", "yes")
        elif f is not None and f.numeric:
            if not (cell.isascii() and cell.isdigit()):
                raise InvalidRequest(f"{key}: {cell!r} is not a whole number")
            req[key] = int(cell)
        else:
            req[key] = cell
    return req


# -- deciding (in a worker) -----------------------------------------------------

_kb: Any = None
_citations = False
_decided: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}  # decision key -> record


def _init_worker(engine: str, citations: bool = False, policy: str | None = None) -> None:
    global _kb, _citations
    from .kb import KnowledgeBase

    _kb = KnowledgeBase(engine=engine, policy=policy)
    _citations = citations
    _decided.clear()


def _line_key(raw: Any) -> Any:
    return raw if isinstance(raw, str) else tuple((k, str(v)) for k, v in raw.items())


def _decide_raws(raws: list[Any]) -> list[tuple[dict[str, Any], str]]:
    """Records for distinct raw lines (runs in a worker); never raises."""
    return [_decide_raw(r) for r in raws]


def _decide_raw(raw: Any) -> tuple[dict[str, Any], str]:
    try:
        req = _kb.parse(request_json(raw) if isinstance(raw, str) else csv_request(raw, _kb.vocabulary))
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
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        self.out.write(f'{{"line":{n},{body_json}\n' if body else f'{{"line":{n}}}\n')


class CsvWriter:
    def __init__(self, out: TextIO) -> None:
        self.w = csv.DictWriter(out, fieldnames=CSV_OUT_FIELDS, extrasaction="ignore")
        self.w.writeheader()

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        row = {k: (";".join(v) if isinstance(v, list) else v) for k, v in body.items() if k in CSV_OUT_FIELDS}
        row["line"] = n
        if "error" in body:
            row["error_code"], row["error_message"] = body["error"]["code"], body["error"]["message"]
        self.w.writerow(row)


# -- the run ----------------------------------------------------------------------

def run_batch(
    input_path: str,
    output_path: str,
    *,
    engine: str = "prolog",
    workers: int = 1,
    citations: bool = False,
    progress: Callable[[int], None] | None = None,
    policy: str | None = None,
) -> BatchSummary:
    """Decide every line of input_path into output_path; return the summary."""
    summary = BatchSummary()
    start = time.perf_counter()
    csv_in, csv_out = is_csv(input_path), is_csv(output_path)
    try:
        src = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8", newline="" if csv_in else None)
    except OSError as exc:
        raise InvalidRequest(f"cannot read {input_path}: {exc.strerror}") from exc
    try:
        dst = sys.stdout if output_path == "-" else open(output_path, "w", encoding="utf-8", newline="" if csv_out else None)
    except OSError as exc:
        raise InvalidRequest(f"cannot write {output_path}: {exc.strerror}") from exc
    with src, dst:
        writer = CsvWriter(dst) if csv_out else JsonlWriter(dst)
        items = read_items(src, csv_in)
        for records in _decided_chunks(items, engine, workers, citations, policy):
            for n, body, body_json in records:
                writer.write(n, body, body_json)
                err = body.get("error")
                if err:
                    summary.error_codes[err["code"]] += 1
                else:
                    summary.outcomes[body["outcome"]] += 1
            summary.lines += len(records)
            if progress:
                progress(len(records))
    summary.errors = sum(summary.error_codes.values())
    summary.seconds = time.perf_counter() - start
    return summary


def _decided_chunks(
    items: Iterator[Item], engine: str, workers: int, citations: bool, policy: str | None = None
) -> Iterator[list[Decided]]:
    """Chunks of decided lines, in input order.

    The reading process remembers every distinct line it has seen decided
    and sends only new ones out; a repeated line costs a dictionary lookup.
    """
    chunks = iter(lambda: list(islice(items, CHUNK)), [])
    if workers <= 1:
        _init_worker(engine, citations, policy)
        yield from _with_line_memo(chunks, _run_here, 0)
        return
    # Processes, not threads (pyswip is one SWI-Prolog per process); each loads the KB once.
    with get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(engine, citations, policy)) as pool:
        yield from _with_line_memo(chunks, lambda batches: pool.map_async(_decide_raws, batches).get, workers)


def _run_here(batches: list[list[Any]]) -> Callable[[], list[list[tuple[dict[str, Any], str]]]]:
    done = [_decide_raws(b) for b in batches]
    return lambda: done


def _with_line_memo(
    chunks: Iterator[list[Item]],
    submit: Callable[[list[list[Any]]], Callable[[], list[list[tuple[dict[str, Any], str]]]]],
    workers: int,
) -> Iterator[list[Decided]]:
    """Decide chunks with a few in flight; repeated lines are looked up.

    A line already decided, or being decided for an earlier chunk, is not
    sent again.  The memo stops growing at MEMO_LIMIT (lines past it are
    simply decided again), so no remembered line ever disappears while a
    later chunk still needs it.
    """
    memo: dict[Any, tuple[dict[str, Any], str]] = {}
    pending: dict[Any, None] = {}  # keys sent out, not yet back
    in_flight: deque[tuple[list[Item], list[Any], list[Any], Callable[[], Any]]] = deque()

    def finish() -> list[Decided]:
        chunk, keys, sent, result = in_flight.popleft()
        decided = [rec for part in result() for rec in part]
        local = dict(zip(sent, decided))
        for k in sent:
            pending.pop(k, None)
        room = MEMO_LIMIT - len(memo)
        if room > 0:
            memo.update(islice(local.items(), room))
        return [(n, *(local.get(k) or memo[k])) for (n, _), k in zip(chunk, keys)]

    for chunk in chunks:
        keys = [_line_key(raw) for _, raw in chunk]
        new: dict[Any, Any] = {}
        for k, (_, raw) in zip(keys, chunk):
            if k not in memo and k not in pending and k not in new:
                new[k] = raw
        raws = list(new.values())
        step = max(1, -(-len(raws) // (max(workers, 1) * 2)))
        in_flight.append((chunk, keys, list(new), submit([raws[i : i + step] for i in range(0, len(raws), step)])))
        pending.update(dict.fromkeys(new))
        if len(in_flight) > workers:
            yield finish()
    while in_flight:
        yield finish()

"""Writing a batch's records: JSON Lines or CSV, the partial output and its resume point.

A record is the line number (and, from CSV, the row), the kept columns
(``--keep``) and the determination without its explanation, or an error.
JSON Lines writes it as it is; CSV and Parquet write one column a field
(``out_fields``), lists ;-separated and the citations in their flat form
(``flat_citations``, defined once here: covkb.spark writes Parquet cells
with ``cell``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import BatchInterrupted, InvalidRequest

CSV_OUT_FIELDS = (
    "line", "row", "outcome", "statement", "criteria_met", "missing", "possible_outcomes",
    "referral", "policy", "version", "unlisted_findings", "warnings", "error_code", "error_message", "summary", "citations",
)
# the fields a record has of its own: a kept column may not be one of them
RECORD_FIELDS = frozenset(CSV_OUT_FIELDS) | {"error", "notices", "explanation", "justification", "questions",
                                             "considered"}


def out_fields(keep: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns of a CSV or Parquet output: line and row, the kept columns, then the record's."""
    return (*CSV_OUT_FIELDS[:2], *keep, *CSV_OUT_FIELDS[2:])


def flat_citations(citations: list[dict[str, str]]) -> str:
    """The citations in one cell: each "section: quote", one a line (a
    quote's own line breaks are kept as spaces)."""
    return "\n".join(f"{c['section']}: {' '.join(c['quote'].split())}" for c in citations)


def cell(body: dict[str, Any], f: str) -> Any:
    """A record's value in the column f of a CSV or Parquet output (None: empty)."""
    err = body.get("error")
    if f == "error_code":
        return err["code"] if err else None
    if f == "error_message":
        return err["message"] if err else None
    v = body.get(f)
    if v is None:
        return None
    if f == "citations":
        return flat_citations(v)
    if isinstance(v, list):
        return ";".join(v)
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


class JsonlWriter:
    def __init__(self, out: io.TextIOBase, csv_input: bool, header: bool = True, keep: tuple[str, ...] = ()) -> None:
        self.out = out
        self.rows = csv_input

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        head = f'{{"line":{n},"row":{n - 1}' if self.rows else f'{{"line":{n}'
        self.out.write(f"{head},{body_json}\n" if body else f"{head}}}\n")


class CsvWriter:
    def __init__(self, out: io.TextIOBase, csv_input: bool, header: bool = True, keep: tuple[str, ...] = ()) -> None:
        self.fields = out_fields(keep)
        self.w = csv.writer(out)
        self.rows = csv_input
        if header:
            self.w.writerow(self.fields)

    def write(self, n: int, body: dict[str, Any], body_json: str) -> None:
        row = [cell(body, f) for f in self.fields]
        row[0] = n
        row[1] = n - 1 if self.rows else None
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

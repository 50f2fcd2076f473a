"""Reading a batch input: JSON Lines or CSV, line by line, as untrusted bytes.

Every physical line becomes one item (line number, what the line is, the
offset past it), whatever it holds: bytes that are not UTF-8, a line over
the size limit, broken CSV quoting and a blank line are ``BadLine``s, whose
records are errors.  CSV is read as RFC 4180 says (a quoted cell may hold
line breaks).  covkb.batch runs the reading; covkb.spark reads a line's
bytes with ``csv_raw``/``line_text`` as this module does.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from .errors import InvalidRequest
from .request import MAX_REQUEST_BYTES, decode_text

@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that cannot be read as a request at all (its record is an error)."""

    message: str


# What a line is, once read: JSON text, a CSV row as (column, cell) pairs, or a BadLine.
Raw = str | tuple[tuple[str, str], ...] | BadLine
Item = tuple[int, Raw, int]  # (line number, raw, input byte offset just past the line)
# A decided line: (line number, record body, the body as JSON without its "{", offset past it)
Decided = tuple[int, dict[str, Any], str, int]


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

"""Batch determinations on Apache Spark: the same records as ``covkb batch``.

    covkb batch claims.jsonl -o determinations.jsonl --spark 'local-cluster[2,1,1024]'
    covkb batch claims.parquet -o determinations.parquet --spark yarn

The job reads the input with Spark (JSON Lines and CSV as raw bytes, one
record per ``\\n``-ended line, exactly as the local batch reads them;
Parquet as columns), decides every line on the executors with
``mapInArrow`` and writes the records in line order.  Every line is decided
by the local batch's own per-line function (``covkb.batch._decide_raw``), so
the output equals the local batch's line for line, errors included.

Line numbers are data, never an accident of partitioning: a first, cheap
pass (in the JVM) counts the lines of every split of every input file
(``_metadata.file_block_start``, with the split's first
``monotonically_increasing_id``; for Parquet, rows per file and
``_metadata.row_index``); the driver turns the counts into one offset per
split, joined back, so each line carries its number as a column.  The lines
are then shuffled by content (equal lines meet in one partition and are
decided once in the cluster), decided, and sorted by line number before they
are written.  ``by_content=False`` decides each split where it was read
instead (numbering its lines in Python from the split's offset) and reads
the partitions back without a sort when they follow each other.

Lines may name their policy and version (covkb.routing) and keep columns
(``keep``), exactly as in the local batch.  A local master (``local[…]``,
``local-cluster[…]``) binds 127.0.0.1 only (``LOOPBACK``, and
``SPARK_LOCAL_IP`` for the local cluster's JVMs); progress reaches the
driver through an accumulator (covkb.progress shows it).

Executors: one KnowledgeBase per policy per Python worker process (a module-level
cache; Spark reuses its Python workers, which are processes, so pyswip's
one-SWI-Prolog-per-process rule holds), decisions memoised per worker, by
line and by decision key, across the partitions it decides (bounded).  The covkb code is shipped as a
zip (``addPyFile``) and the kb/ folder as an archive (``addArchive``), so
executors need only covkb's dependencies (SWI-Prolog, pyswip, clingo,
pydantic, pyarrow, pandas), not covkb itself.

Output: a .jsonl or .csv output is one file written by the driver as
``OUT.partial`` and renamed when complete; a .parquet output is a directory
(line, row and the CSV fields, one part file per sorted range) written by
the executors as ``OUT.partial`` and renamed when the job succeeded.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

from . import batch as B
from .errors import EngineError, InvalidRequest
from .paths import kb_dir
from .batch_write import cell
from .request import MAX_REQUEST_BYTES

KB_ARCHIVE = "covkb_kb.zip"  # the kb/ folder as shipped to the executors
OUT_FIELDS = B.CSV_OUT_FIELDS
# A local master (local, local[N], local-cluster[…]) binds the loopback address only: the driver, its
# block manager and UI, and (through SPARK_LOCAL_IP, which the JVM it starts and the executors'
# JVMs inherit) the local cluster's master, workers and executors.  A master that is not local binds
# what the cluster's own configuration says.
LOOPBACK = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


# -- formats ---------------------------------------------------------------------

def input_format(path: str) -> str:
    p = path.rstrip("/").lower()
    if p.endswith(".parquet") or p.endswith(".pq") or (os.path.isdir(path) and not p.endswith((".jsonl", ".csv"))):
        return "parquet"
    return "csv" if p.endswith(".csv") else "jsonl"


def output_format(path: str) -> str:
    p = path.rstrip("/").lower()
    if p.endswith(".parquet") or p.endswith(".pq"):
        return "parquet"
    return "csv" if p.endswith(".csv") else "jsonl"


# -- the session and what the executors need ---------------------------------------

def session(master: str | None = None, app_name: str = "covkb batch", conf: dict[str, str] | None = None,
            log_level: str | None = None) -> Any:
    """A SparkSession (``master`` None: the one spark-submit or spark-defaults.conf
    names) with covkb shipped to its executors."""
    from pyspark.sql import SparkSession

    local = bool(master) and master.startswith("local")
    # Executors start the driver's interpreter unless told otherwise (a local
    # or local-cluster master: the same machine, the same virtualenv).
    if local and "PYSPARK_PYTHON" not in os.environ:
        os.environ["PYSPARK_PYTHON"] = sys.executable
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    b = SparkSession.builder.appName(app_name)
    if master:
        b = b.master(master)
    for k, v in {"spark.ui.showConsoleProgress": "false", **(LOOPBACK if local else {}), **(conf or {})}.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    if log_level:
        spark.sparkContext.setLogLevel(log_level)
    if master and master.startswith("local-cluster"):
        # its workers keep each application's folder (executor logs, shipped files) in SPARK_HOME/work
        import atexit
        import shutil

        home = os.environ.get("SPARK_HOME") or str(Path(spark.sparkContext._jvm.System.getenv("SPARK_HOME") or ""))
        if home:
            atexit.register(shutil.rmtree, str(Path(home) / "work" / spark.sparkContext.applicationId), True)
    ship(spark)
    return spark


_shipped: set[int] = set()


def _scratch(prefix: str) -> str:
    """A temporary folder, removed when this process exits."""
    import atexit
    import shutil

    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


def ship(spark: Any) -> None:
    """Send the covkb package (a zip on the executors' sys.path) and the kb/
    folder (an archive unpacked beside each executor) to the executors, once
    per SparkContext."""
    sc = spark.sparkContext
    if id(sc) in _shipped:
        return
    tmp = Path(_scratch("covkb-spark-"))
    code = tmp / "covkb.zip"
    pkg = Path(__file__).resolve().parent
    with zipfile.ZipFile(code, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(pkg.rglob("*.py")):
            z.write(f, Path("covkb") / f.relative_to(pkg))
    kb = tmp / KB_ARCHIVE
    root = kb_dir()
    with zipfile.ZipFile(kb, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                z.write(f, Path("kb") / f.relative_to(root))
    sc.addPyFile(str(code))
    sc.addArchive(str(kb))
    _shipped.add(id(sc))


# -- on the executors --------------------------------------------------------------

_settings: tuple[Any, ...] | None = None
_lines: dict[B.Raw, tuple[dict[str, Any], str]] = {}  # lines this worker decided (any partition), bounded


def _executor_kb(engine: str, citations: bool, policy: str | None, keep: tuple[str, ...] = ()) -> None:
    """Load the KnowledgeBase once per Python worker process."""
    global _settings
    if _settings == (engine, citations, policy, keep):
        return
    try:
        from pyspark import SparkFiles

        shipped = Path(SparkFiles.get(KB_ARCHIVE)) / "kb"
        if shipped.is_dir():
            os.environ["COVKB_KB"] = str(shipped)
    except Exception:  # not on an executor (a test calling this in the driver): the kb/ of this checkout
        pass
    import csv

    if csv.field_size_limit() < MAX_REQUEST_BYTES:
        csv.field_size_limit(MAX_REQUEST_BYTES)
    B._init_worker(engine, citations, policy, keep=keep)
    _lines.clear()
    _settings = (engine, citations, policy, keep)


def _raw_of_line(value: bytes, header: tuple[str, ...] | None) -> B.Raw:
    """A line's bytes as the local batch reads them (batch.physical_lines):
    longer than MAX_REQUEST_BYTES is a bad line, a CR before the LF is dropped."""
    raw = None if len(value) > MAX_REQUEST_BYTES else value.removesuffix(b"\r")
    return B.csv_raw(raw, header) if header is not None else B._text(raw)


def _raw_of_row(row: dict[str, Any]) -> B.Raw:
    """A Parquet row as a JSON Lines line: its non-null columns, in column order."""
    return json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False, default=str)


def _out_schema(out_fmt: str, keep: tuple[str, ...] = ()) -> Any:
    import pyarrow as pa

    if out_fmt == "parquet":
        return pa.schema([("line", pa.int64()), ("row", pa.int64())]
                         + [(f, pa.string()) for f in B.out_fields(keep)[2:]] + [("kind", pa.string())])
    return pa.schema([("line", pa.int64()), ("text", pa.string()), ("kind", pa.string())])


def spark_schema(out_fmt: str, keep: tuple[str, ...] = ()) -> str:
    if out_fmt == "parquet":
        return ", ".join(["line long", "row long"] + [f"`{f}` string" for f in B.out_fields(keep)[2:]]
                         + ["kind string"])
    return "line long, text string, kind string"


def decide_batches(batches: Iterator[Any], *, in_fmt: str, out_fmt: str, header: tuple[str, ...] | None,
                   bases: dict[tuple[str, int], int], engine: str, citations: bool,
                   policy: str | None, keep: tuple[str, ...] = (), counter: Any = None) -> Iterator[Any]:
    """mapInArrow's function: Arrow batches of input rows in, records out.

    Input rows carry ``file_path`` and ``block`` (a text split's first byte,
    or a Parquet row's index in its file); ``bases`` gives the line number
    before each split (or file), so line numbers do not depend on how Spark
    partitioned the input.  A CSV file's line 1 (its header, checked by the
    driver) yields no record."""
    import pyarrow as pa

    _executor_kb(engine, citations, policy, keep)
    schema = _out_schema(out_fmt, keep)
    csv_in = in_fmt == "csv"
    buf = io.StringIO()
    writer = (B.CsvWriter(buf, csv_in, header=False, keep=keep) if out_fmt == "csv" else B.JsonlWriter(buf, csv_in))
    fields = B.out_fields(keep)[2:]
    memo = _lines  # lines this worker already decided, in this partition or an earlier one
    seen: Counter[tuple[str, int]] = Counter()
    for batch in batches:
        cols = batch.to_pydict()
        numbered = cols.pop("line", None)  # numbered in the JVM already (the input was shuffled by content)
        paths, blocks = (numbered, numbered) if numbered is not None else (cols.pop("file_path"), cols.pop("block"))
        out: dict[str, list[Any]] = {name: [] for name in schema.names}
        for i, (path, block) in enumerate(zip(paths, blocks)):
            if numbered is not None:
                n = numbered[i]
                if csv_in and n == 1:
                    continue
                raw: B.Raw = (_raw_of_row({k: v[i] for k, v in cols.items()}) if in_fmt == "parquet"
                              else _raw_of_line(cols["value"][i], header))
            elif in_fmt == "parquet":
                n = bases[(path, 0)] + block + 1
                raw = _raw_of_row({k: v[i] for k, v in cols.items()})
            else:
                key = (path, block)
                n = bases[key] + seen[key] + 1
                seen[key] += 1
                if csv_in and n == 1:
                    continue
                raw = _raw_of_line(cols["value"][i], header)
            hit = memo.get(raw)
            if hit is None:
                hit = B._decide_raw(raw)
                if B._size(raw) <= B.MEMO_KEY_MAX:
                    if len(memo) >= B.MEMO_LIMIT:
                        memo.clear()
                    memo[raw] = hit
            body, body_json = hit
            err = body.get("error")
            out["kind"].append(f"error:{err['code']}" if err else body["outcome"])
            out["line"].append(n)
            if out_fmt == "parquet":
                out["row"].append(n - 1 if csv_in else None)
                for f in fields:
                    v = cell(body, f)
                    out[f].append(None if v is None else str(v))
            else:
                writer.write(n, body, body_json)
                out["text"].append(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        if counter is not None:  # rows decided, for the driver's progress (reaches it as each task ends)
            counter.add(len(out["line"]))
        yield pa.RecordBatch.from_pydict(out, schema=schema)


# -- on the driver -----------------------------------------------------------------

def _read_head(spark: Any, path: str, limit: int) -> bytes:
    """The first ``limit`` bytes of a file, local or on any Hadoop file system."""
    if "://" not in path or path.startswith("file:"):
        local = path.removeprefix("file://") if path.startswith("file://") else path.removeprefix("file:")
        try:
            with open(local, "rb") as f:
                return f.read(limit)
        except OSError as exc:
            raise InvalidRequest(f"cannot read {path}: {exc.strerror}") from exc
    jvm = spark._jvm
    hp = jvm.org.apache.hadoop.fs.Path(path)
    stream = hp.getFileSystem(spark._jsc.hadoopConfiguration()).open(hp)
    try:
        return bytes(stream.readNBytes(limit))
    finally:
        stream.close()


def _hadoop_fs(spark: Any, path: str) -> tuple[Any, Any]:
    hp = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hp.getFileSystem(spark._jsc.hadoopConfiguration()), hp


def _split_bytes(spark: Any, path: str, partition_bytes: int | None) -> int:
    """Split size: enough splits for every executor core a few times over,
    at most 128 MiB, at least 64 KiB (or as asked)."""
    if partition_bytes:
        return partition_bytes
    try:
        fs, hp = _hadoop_fs(spark, path)
        size = fs.getContentSummary(hp).getLength()
    except Exception:
        return 128 << 20
    cores = max(2, spark.sparkContext.defaultParallelism)
    return int(min(128 << 20, max(64 << 10, size // (cores * 4) + 1)))


def run_spark_batch(
    input_path: str,
    output_path: str,
    *,
    master: str | None = None,
    spark: Any = None,
    engine: str = "prolog",
    citations: bool = False,
    policy: str | None = None,
    partition_bytes: int | None = None,
    by_content: bool = True,
    keep: tuple[str, ...] | list[str] = (),
    progress: Callable[[int], None] | None = None,
) -> B.BatchSummary:
    """Decide every line of input_path into output_path on Spark; return the
    summary.  The records equal ``run_batch``'s line for line.  Refuses like
    run_batch before anything is written (bad input, output = input, a bad
    CSV header); a failed job raises EngineError and leaves no output.

    by_content (the default) numbers the lines in the JVM and shuffles them
    by content, so that equal lines are decided once in the whole cluster,
    then sorts the records; without it each split is decided where it was
    read (no shuffle, equal lines decided once per worker) and read back in
    order without a sort where the partitions follow each other.

    Lines may name their policy (covkb.routing), ``keep`` names the
    columns copied into each record, and ``progress`` is told the rows
    decided as the executors' tasks end (covkb.progress)."""
    keep = B.check_keep(keep)
    summary = B.BatchSummary()
    start = time.perf_counter()
    in_fmt, out_fmt = input_format(input_path), output_format(output_path)
    target = _output_target(input_path, output_path, out_fmt)
    # a bad --policy or --engine: one clean error, nothing started
    columns = B.csv_columns(B._vocabulary(engine, policy), keep)
    spark, own_session = _session(spark, master)
    try:
        header: tuple[str, ...] | None = None
        if in_fmt == "csv":
            head = _read_head(spark, input_path, MAX_REQUEST_BYTES + 2)
            header, _ = B.read_csv_header(io.BytesIO(head), columns)
        # A split size that does not depend on how many executors there are at the time
        # (minPartitionNum fixed), so that both passes below see the same splits.
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(_split_bytes(spark, input_path, partition_bytes)))
        spark.conf.set("spark.sql.files.minPartitionNum", "1")
        df, ranges, counts, bases = _input_rows(spark, input_path, in_fmt, columns, by_content)
        counter = spark.sparkContext.accumulator(0)
        fn = partial(decide_batches, in_fmt=in_fmt, out_fmt=out_fmt, header=header, bases=bases,
                     engine=engine, citations=citations, policy=policy, keep=keep, counter=counter)
        expect = sum(counts_of(counts)) - (in_fmt == "csv")
        with _polled(counter, progress, expect):
            kinds = _decide_and_write(spark, df.mapInArrow(fn, spark_schema(out_fmt, keep)), ranges, output_path,
                                      target, out_fmt, csv_in=in_fmt == "csv", expect=expect, keep=keep)
        for kind, k in kinds.items():
            if kind.startswith("error:"):
                summary.error_codes[kind.removeprefix("error:")] += k
            else:
                summary.outcomes[kind] += k
        summary.lines = sum(kinds.values())
    except InvalidRequest:
        raise
    except Exception as exc:
        if target is not None:
            target.partial.unlink(missing_ok=True)
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise EngineError(f"the Spark job failed: {str(exc).strip().splitlines()[0][:400]}") from exc
        raise
    finally:
        if own_session:
            spark.stop()
    summary.errors = sum(summary.error_codes.values())
    summary.seconds = time.perf_counter() - start
    return summary


def _output_target(input_path: str, output_path: str, out_fmt: str) -> B.Target | None:
    """Where the driver writes the output (None: stdout, or a Parquet folder
    the executors write).  Refuses, before anything starts, what run_batch
    refuses and what only Spark cannot do."""
    if input_path == "-":
        raise InvalidRequest("--spark reads a file or folder that the executors can read, not stdin")
    if output_path == "-" and out_fmt == "parquet":
        raise InvalidRequest("a Parquet output is a folder, not stdout")
    local_in = "://" not in input_path or input_path.startswith("file:")
    if local_in and not os.path.exists(input_path):
        raise InvalidRequest(f"cannot read {input_path}: No such file or directory")
    target = None if output_path == "-" else B.Target.of(output_path) if "://" not in output_path else None
    if out_fmt != "parquet" and output_path != "-" and "://" in output_path:
        raise InvalidRequest("a .jsonl or .csv output is written by the driver: give a local path "
                             "(or a .parquet output, which the executors write anywhere Spark can)")
    if out_fmt != "parquet" and os.path.isdir(output_path):
        raise InvalidRequest(f"the output {output_path} is a directory")
    if target is not None:
        for p in (output_path, target.final, target.partial):
            if B._same_file(input_path, p) or (local_in and os.path.realpath(input_path) == os.path.realpath(p)):
                raise InvalidRequest(f"the output {output_path} is the input {input_path}: refused, "
                                     f"it would destroy the input")
    return target


def _session(spark: Any, master: str | None) -> tuple[Any, bool]:
    """The session to run in, and whether it is this run's own (stopped at its end)."""
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()  # a caller's (a notebook, spark-submit, a test) is used and kept
    if spark is None:
        return session(master, log_level="ERROR"), True
    ship(spark)
    return spark, False


def _input_rows(spark: Any, input_path: str, in_fmt: str, columns: list[str],
                by_content: bool) -> tuple[Any, list[tuple[int, int, int, int]], list[Any], dict[tuple[str, int], int]]:
    """The input's lines as rows to decide, with (pid, first line, last line,
    count) per split where partitions keep the input's order, each split's
    row count, and the line number before each split (``_bases``)."""
    from pyspark.sql import functions as F

    pid = F.spark_partition_id().alias("pid")
    if by_content:
        df, total = _numbered(spark, input_path, in_fmt, columns)
        # equal lines meet in one partition: each is decided once in the cluster, not once per worker
        keys = [c for c in df.columns if c != "line"]
        return df.repartition(max(2, df.rdd.getNumPartitions()), *keys), [], [{"count": total}], {}
    if in_fmt == "parquet":
        df = _parquet_input(spark, input_path, columns)
        df = df.select(*df.columns, F.col("_metadata.file_path").alias("file_path"),
                       F.col("_metadata.row_index").alias("block"))
        counts = df.groupBy("file_path", pid).agg(F.count("*").alias("count"), F.min("block").alias("first"),
                                                  F.max("block").alias("last")).collect()
        per_file: Counter[tuple[str, int]] = Counter()
        for r in counts:
            per_file[(r["file_path"], 0)] += r["count"]
        bases = _bases(dict(per_file))
        ranges = [(r["pid"], bases[(r["file_path"], 0)] + r["first"] + 1, bases[(r["file_path"], 0)] + r["last"] + 1,
                   r["count"]) for r in counts]
        return df, ranges, counts, bases
    df = (spark.read.option("lineSep", "\n").text(input_path)
          .select(F.col("value").cast("binary").alias("value"),
                  F.col("_metadata.file_path").alias("file_path"),
                  F.col("_metadata.file_block_start").alias("block")))
    counts = df.groupBy("file_path", "block", pid).count().collect()
    bases = _bases({(r["file_path"], r["block"]): r["count"] for r in counts})
    ranges = [(r["pid"], bases[(r["file_path"], r["block"])] + 1,
               bases[(r["file_path"], r["block"])] + r["count"], r["count"]) for r in counts]
    return df, ranges, counts, bases


def _decide_and_write(spark: Any, decided: Any, ranges: list[tuple[int, int, int, int]], output_path: str,
                      target: B.Target | None, out_fmt: str, *, csv_in: bool, expect: int,
                      keep: tuple[str, ...] = ()) -> Counter[str]:
    """Decide every line and write the records in line order; the count of
    each outcome (or error:CODE)."""
    # Persisted: every line is decided once, in parallel, then read back in line order: as the
    # partitions are, when each holds one run of lines and they follow each other (one file read
    # in splits); else sorted.
    decided = decided.persist()
    try:
        if ranges and _in_order(ranges):
            decided.count()
            ordered = decided
        else:
            ordered = decided.orderBy("line")
        if out_fmt == "parquet":
            kinds = Counter({r["kind"]: r["count"] for r in decided.groupBy("kind").count().collect()})
            _write_parquet(spark, ordered.drop("kind"), output_path, csv_in=csv_in)
            return kinds
        return _write_text(ordered, output_path, target, out_fmt, expect=expect, keep=keep)
    finally:
        decided.unpersist()


def _parquet_input(spark: Any, input_path: str, columns: list[str]) -> Any:
    """A Parquet input, whose columns must all be request fields (of any installed policy), routing
    fields or kept columns."""
    df = spark.read.parquet(input_path)
    for c in df.columns:
        if c not in columns:
            raise InvalidRequest(f"Parquet input: unknown column {c[:60]!r}{_closest(c, columns)}; "
                                 f"the columns are request fields ({', '.join(columns)})")
    return df


def counts_of(counts: list[Any]) -> list[int]:
    return [r["count"] for r in counts]


def _closest(name: str, columns: list[str]) -> str:
    from .request import _closest as closest

    return closest(name, columns)


def _numbered(spark: Any, input_path: str, in_fmt: str, columns: list[str]) -> tuple[Any, int]:
    """The input as (line, value) rows — (line, request columns…) for Parquet —
    with line numbers computed in the JVM, whatever the partitioning: a first
    pass counts each split's rows and its first monotonically_increasing_id
    (consecutive within a partition, and the same in every pass over the same
    splits); the driver turns those into one offset per split, joined back."""
    from pyspark.sql import functions as F

    if in_fmt == "parquet":
        df = _parquet_input(spark, input_path, columns)
        req_cols = list(df.columns)
        df = df.select(*req_cols, F.col("_metadata.file_path").alias("file_path"),
                       F.col("_metadata.row_index").alias("idx"), F.lit(0).cast("long").alias("block"))
        counts = df.groupBy("file_path", "block").agg(F.count("*").alias("count"), F.lit(0).alias("first")).collect()
        value_cols = req_cols
    else:
        df = (spark.read.option("lineSep", "\n").text(input_path)
              .select(F.col("value").cast("binary").alias("value"),
                      F.col("_metadata.file_path").alias("file_path"),
                      F.col("_metadata.file_block_start").alias("block"),
                      F.monotonically_increasing_id().alias("idx")))
        counts = df.groupBy("file_path", "block").agg(F.count("*").alias("count"),
                                                      F.min("idx").alias("first")).collect()
        value_cols = ["value"]
    bases = _bases({(r["file_path"], r["block"]): r["count"] for r in counts})
    offsets = spark.createDataFrame(
        [(r["file_path"], r["block"], bases[(r["file_path"], r["block"])] + 1 - r["first"]) for r in counts],
        "file_path string, block long, off long")
    numbered = (df.join(F.broadcast(offsets), ["file_path", "block"])
                .select((F.col("idx") + F.col("off")).alias("line"), *value_cols))
    return numbered, sum(r["count"] for r in counts)


@contextmanager
def _polled(counter: Any, progress: Callable[[int], None] | None, total: int) -> Iterator[None]:
    """While the job runs, tell progress the rows the executors decided
    (the accumulator, polled twice a second; a retried task counts once)."""
    if progress is None:
        yield
        return
    stop = threading.Event()
    told = 0

    def tell() -> None:
        nonlocal told
        now = min(counter.value, total)
        if now > told:
            progress(now - told)
            told = now

    def poll() -> None:
        while not stop.wait(0.5):
            tell()
        tell()

    t = threading.Thread(target=poll, name="covkb-spark-progress", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def _in_order(ranges: list[tuple[int, int, int, int]]) -> bool:
    """Whether partitions 0, 1, … hold lines 1…a, a+1…b, … ((pid, first, last, count) per split)."""
    if len({r[0] for r in ranges}) != len(ranges):
        return False  # a partition with more than one split (small files packed together)
    nxt = 1
    for _, first, last, count in sorted(ranges):
        if first != nxt or last - first + 1 != count:
            return False
        nxt = last + 1
    return True


def _bases(counts: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """The line number before each split: files in path order, splits in byte order."""
    bases, n = {}, 0
    for key in sorted(counts):
        bases[key] = n
        n += counts[key]
    return bases


def _write_text(ordered: Any, output_path: str, target: B.Target | None, out_fmt: str, keep: tuple[str, ...],
                expect: int) -> Counter[str]:
    """Stream the sorted records into the output (its .partial, renamed when
    complete); every line number once, in order, or EngineError."""
    raw = os.fdopen(os.dup(sys.stdout.fileno()), "wb") if target is None else open(target.partial, "wb")
    kinds: Counter[str] = Counter()
    last = 0
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as dst:
        if out_fmt == "csv":
            B.CsvWriter(dst, False, header=True, keep=keep)
        for line, text, kind in ordered.toLocalIterator(prefetchPartitions=True):
            if line <= last:
                raise EngineError(f"line {line} came after line {last}: the records are out of order")
            last = line
            dst.write(text)
            kinds[kind] += 1
    if sum(kinds.values()) != expect:
        raise EngineError(f"{sum(kinds.values())} records written, {expect} lines read")
    if target is not None:
        os.replace(target.partial, target.final)
    return kinds


def _write_parquet(spark: Any, ordered: Any, output_path: str, csv_in: bool) -> None:
    if not csv_in:
        ordered = ordered.drop("row")
    fs, final = _hadoop_fs(spark, output_path)
    partial_path = output_path.rstrip("/") + ".partial"
    _, part = _hadoop_fs(spark, partial_path)
    ordered.write.mode("overwrite").parquet(partial_path)
    if fs.exists(final):
        fs.delete(final, True)
    if not fs.rename(part, final):
        raise EngineError(f"cannot rename {partial_path} to {output_path}")


# -- spark-submit ------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``spark-submit covkb/spark.py IN OUT [--engine E] [--policy P] [--citations] [--keep C]``:
    the master and resources come from spark-submit."""
    import argparse

    ap = argparse.ArgumentParser(prog="covkb.spark", description="covkb batch on Spark")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--engine", default="prolog")
    ap.add_argument("--policy")
    ap.add_argument("--citations", action="store_true")
    ap.add_argument("--keep", action="append", default=[], metavar="COLUMN")
    a = ap.parse_args(argv)
    s = run_spark_batch(a.input, a.output, engine=a.engine, policy=a.policy, citations=a.citations, keep=a.keep)
    print(json.dumps(s.to_dict()), file=sys.stderr)
    return 0

"""covkb batch on Spark: on a real local cluster (two executor JVMs, each with
its own Python workers), the output equals the local batch's line for line,
for JSON Lines, CSV and Parquet in, errors, blank lines and repeats included."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None:
    pytest.skip("no Java: Spark needs a JRE (`make test` installs openjdk-17-jre-headless)", allow_module_level=True)

from covkb.batch import run_batch  # noqa: E402
from covkb.errors import InvalidRequest  # noqa: E402
from covkb.spark import _in_order, run_spark_batch, session  # noqa: E402

pytestmark = pytest.mark.slow  # a local Spark cluster: not in make test-fast

D = '"date_of_service": "2025-06-01"'
GOOD = [
    '{"service": "nk_cell_test", "prior_pregnancy_losses": 2, %s}' % D,
    '{"service": "nk_cell_test", "prior_pregnancy_losses": 2, "findings": ["cone_biopsy"], %s}' % D,
    '{"cpt": "59325", "prior_pregnancy_losses": 3, "findings": ["cone_biopsy"], %s}' % D,
    '{"cpt": "59325", "prior_pregnancy_losses": 3, "unknown_findings": ["cone_biopsy"], %s}' % D,
    '{"cpt": "83520", "prior_pregnancy_losses": 2, %s}' % D,
    '{"cpt": "83520", "prior_pregnancy_losses": 2, "analyte": "inhibin_b", %s}' % D,
    '{"cpt": "96365", "substance": "ivig", "diagnoses": ["N96"], %s}' % D,
    '{"service": "transvaginal_cerclage", "pregnant": true, "prior_pregnancy_losses": 2, %s}' % D,
    '{"service": "transabdominal_cerclage", "pregnant": true, "prior_pregnancy_losses": 3, %s}' % D,
]
BAD = ['{"service": "tac"}', '{"cpt": "59325", "pregnant": false}', "not json", "", '["a list"]',
       '{"service": "nk_cell_test", "service": "ivig"}', '{"cpt": "５９３２５"}']


def jsonl_bytes(n: int = 400, long_line: int | None = None) -> bytes:
    """Repeats, errors, blank lines, CRLF, bytes that are not UTF-8, a lone CR
    (and a line over the 1 MiB limit)."""
    pool = [x.encode() for x in GOOD + BAD] + [b'{"service": "nk_cell_test"}\r', b"\xff\xfe{}", b'{"a": 1}\r{"b": 2}']
    lines = [pool[(i * 7 + i // 13) % len(pool)] for i in range(n)]
    if long_line is not None:
        lines[long_line] = b"{" + b" " * (1 << 20) + b"}"
    return b"\n".join(lines) + b"\n"


def csv_text() -> str:
    rows = ["service,cpt,pregnant,prior_pregnancy_losses,findings,analyte,date_of_service"]
    pool = [
        "transabdominal_cerclage,,true,3,cone_biopsy;shortened_cervical_length,,2025-06-01",
        "nk_cell_test,,,two,,,2025-06-01",
        ",83520,,2,,,2025-06-01",
        ",83520,,2,,inhibin_b,2025-06-01",
        "ivig,,maybe,3,,,2025-06-01",
        "nk_cell_test,,,2,,,2025-06-01,surplus",
        "",
        'nk_cell_test,"unterminated,,,,,',
        "tac,,,2,,,2025-06-01",
        "transvaginal_cerclage,,yes,2,,,2025-06-01",
    ]
    rows += [pool[(i * 3 + i // 7) % len(pool)] for i in range(300)]
    return "\r\n".join(rows) + "\r\n"


JVM_LOG: list[Path] = []  # what the module's JVM wrote on its stderr (Spark's warnings)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """One local cluster for the module (a start costs ~30 s); the JVM's stderr kept in a file
    (it inherits the file descriptor when it starts), the UI on as a user has it."""
    import os
    import sys

    log = tmp_path_factory.mktemp("jvm") / "stderr.log"
    JVM_LOG.append(log)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "wb") as f:
        os.dup2(f.fileno(), 2)
        try:
            s = session("local-cluster[2,1,1024]", "covkb tests", conf={
                "spark.sql.shuffle.partitions": "4", "spark.executor.memory": "768m", "spark.driver.memory": "768m"})
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    yield s
    s.stop()


def same_records(tmp_path: Path, spark, src: Path, out_name: str, split: int = 4096,
                 by_content: bool = True) -> tuple[bytes, object]:
    """Splits of a few KiB: many partitions, split boundaries inside lines."""
    local, distributed = tmp_path / f"local-{out_name}", tmp_path / f"spark-{out_name}"
    run_batch(str(src), str(local))
    summary = run_spark_batch(str(src), str(distributed), spark=spark, partition_bytes=split, by_content=by_content)
    want, got = local.read_bytes(), distributed.read_bytes()
    assert got.splitlines() == want.splitlines()
    assert got == want
    assert not Path(str(distributed) + ".partial").exists()
    return got, summary


# Spark shares make test's 2 cores with its JVMs: the variants a mixed-claims test already shows in kind
# (another split, another format) run in the exhaustive tier
@pytest.mark.parametrize("by_content", [True, pytest.param(False, marks=pytest.mark.exhaustive)],
                         ids=["shuffled-by-content", "decided-where-read"])
def test_jsonl_equals_local_batch(tmp_path: Path, spark, by_content: bool) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl_bytes())
    got, summary = same_records(tmp_path, spark, src, "out.jsonl", by_content=by_content)
    recs = [json.loads(x) for x in got.decode().splitlines()]
    assert [r["line"] for r in recs] == list(range(1, 401))
    assert summary.lines == 400 and summary.errors == sum("error" in r for r in recs) > 0
    assert len({json.dumps(r) for r in recs if "outcome" in r}) > 5
    # the executors decided with the covkb shipped to them, not an installed one
    where = spark.sparkContext.parallelize([0, 1], 2).map(lambda _: __import__("covkb").__file__).collect()
    assert all("covkb.zip" in w for w in where), where


@pytest.mark.exhaustive
def test_jsonl_in_csv_out_and_no_final_newline(tmp_path: Path, spark) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl_bytes(150, long_line=140).rstrip(b"\n"))  # a last line without its line end is a line
    got, summary = same_records(tmp_path, spark, src, "out.csv", split=300 << 10)
    rows = list(csv.DictReader(got.decode().splitlines()))
    assert summary.lines == 150 and len(rows) == 150
    assert rows[140]["error_code"] == "invalid_request" and "longer than" in rows[140]["error_message"]


def test_csv_equals_local_batch(tmp_path: Path, spark) -> None:
    src = tmp_path / "in.csv"
    src.write_text(csv_text(), newline="")
    got, _ = same_records(tmp_path, spark, src, "out.jsonl")
    recs = [json.loads(x) for x in got.decode().splitlines()]
    assert [(r["line"], r["row"]) for r in recs] == [(n, n - 1) for n in range(2, 302)]
    got, _ = same_records(tmp_path, spark, src, "out.csv")


@pytest.mark.exhaustive
def test_parquet_in_equals_jsonl_locally(tmp_path: Path, spark) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = ["service", "cpt", "pregnant", "prior_pregnancy_losses", "findings", "analyte", "date_of_service"]
    reqs = [json.loads(x) for x in GOOD] + [{"service": "tac"}, {"cpt": "59325", "pregnant": False},
                                             {"service": "nk_cell_test", "analyte": "nonsense"}]
    rows = [reqs[(i * 5 + i // 11) % len(reqs)] for i in range(250)]
    table = pa.table({c: [r.get(c) for r in rows] for c in cols},
                     schema=pa.schema([("service", pa.string()), ("cpt", pa.string()), ("pregnant", pa.bool_()),
                                       ("prior_pregnancy_losses", pa.int64()), ("findings", pa.list_(pa.string())),
                                       ("analyte", pa.string()), ("date_of_service", pa.string())]))
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=40)
    as_jsonl = tmp_path / "same.jsonl"
    as_jsonl.write_text("".join(json.dumps({c: r[c] for c in cols if c in r}) + "\n" for r in rows))
    run_batch(str(as_jsonl), str(tmp_path / "local.jsonl"))
    run_spark_batch(str(src), str(tmp_path / "spark.jsonl"), spark=spark)
    assert (tmp_path / "spark.jsonl").read_text().splitlines() == (tmp_path / "local.jsonl").read_text().splitlines()
    # a folder of part files, numbered in path order (packed into one partition: the sorted path)
    folder = tmp_path / "parts.parquet"
    folder.mkdir()
    for i, (a, b) in enumerate([(0, 90), (90, 100), (100, 250)]):
        pq.write_table(table.slice(a, b - a), folder / f"part-{i:05d}.parquet", row_group_size=30)
    for by_content in (True, False):  # (decided where read: small files packed in one partition, so sorted)
        run_spark_batch(str(folder), str(tmp_path / "parts.jsonl"), spark=spark, by_content=by_content)
        assert (tmp_path / "parts.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    # and Parquet out: the CSV output's columns, typed line numbers, in order
    run_spark_batch(str(src), str(tmp_path / "out.parquet"), spark=spark)
    back = pq.read_table(tmp_path / "out.parquet").to_pylist()
    local = [json.loads(x) for x in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [r["line"] for r in back] == list(range(1, 251))
    assert [r["outcome"] or r["error_code"] for r in back] == [r.get("outcome") or r["error"]["code"] for r in local]


def test_refused_before_anything_runs(tmp_path: Path, spark) -> None:
    src = tmp_path / "in.csv"
    src.write_text("service,colour\nnk_cell_test,red\n")
    with pytest.raises(InvalidRequest, match="unknown column"):
        run_spark_batch(str(src), str(tmp_path / "out.jsonl"), spark=spark)
    with pytest.raises(InvalidRequest, match="is the input"):
        run_spark_batch(str(src), str(src), spark=spark)
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_batch_spark(tmp_path: Path, spark) -> None:
    """`covkb batch --spark MASTER` (here the module's session, which the command uses and keeps)."""
    from typer.testing import CliRunner

    from covkb.cli import app

    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl_bytes(60))
    run_batch(str(src), str(tmp_path / "local.jsonl"))
    r = CliRunner().invoke(app, ["batch", str(src), "-o", str(tmp_path / "spark.jsonl"), "--spark", "local[2]"])
    assert r.exit_code == 0, r.output
    assert "60 lines" in r.output and "Spark local[2]" in r.output
    assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    r = CliRunner().invoke(app, ["batch", str(src), "-o", str(tmp_path / "x.jsonl"), "--spark", "local[2]", "--resume"])
    assert getattr(r.exception, "code", None) == 2 and "--resume" in r.output


def test_partitions_are_read_in_order_only_when_they_follow_each_other() -> None:
    assert _in_order([(0, 1, 10, 10), (1, 11, 12, 2)])
    assert not _in_order([(1, 1, 10, 10), (0, 11, 12, 2)])  # partition 0 holds the later lines
    assert not _in_order([(0, 1, 10, 10), (0, 11, 12, 2)])  # two splits in one partition
    assert not _in_order([(0, 1, 10, 9)])  # not one run of lines


# -- claims: mixed policies, kept keys, loopback, progress (issue 24) ---------------------------------

MIXED = Path(__file__).resolve().parents[1] / "queries" / "batch" / "mixed_claims.jsonl"


@pytest.mark.parametrize("name", ["mixed_claims.jsonl", "mixed_claims.csv"])
def test_a_mixed_claims_file_with_kept_keys_equals_the_local_batch(tmp_path: Path, spark, name: str) -> None:
    """Cigna and Aetna lines, claim_id kept, errors included; progress told every row."""
    src = MIXED.with_name(name)
    out = "out.csv" if name.endswith(".csv") else "out.jsonl"
    run_batch(str(src), str(tmp_path / f"local-{out}"), keep=["claim_id"])
    told: list[int] = []
    summary = run_spark_batch(str(src), str(tmp_path / f"spark-{out}"), spark=spark, keep=["claim_id"],
                              partition_bytes=2048, progress=told.append)
    assert (tmp_path / f"spark-{out}").read_bytes() == (tmp_path / f"local-{out}").read_bytes()
    assert sum(told) == summary.lines == 24 and summary.errors == 4


def test_parquet_in_and_out_keeps_the_claim_ids(tmp_path: Path, spark) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [json.loads(x) for x in MIXED.read_text().splitlines()]
    src = tmp_path / "claims.parquet"
    cols = list(dict.fromkeys(k for x in lines for k in x))  # every line's fields (from_pylist reads the first's)
    pq.write_table(pa.table({c: [x.get(c) for x in lines] for c in cols}), src, row_group_size=7)
    run_batch(str(MIXED), str(tmp_path / "local.jsonl"), keep=["claim_id"])
    local = [json.loads(x) for x in (tmp_path / "local.jsonl").read_text().splitlines()]
    run_spark_batch(str(src), str(tmp_path / "out.parquet"), spark=spark, keep=["claim_id"], citations=True)
    back = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["claim_id"] for r in back] == [x["claim_id"] for x in lines]
    assert [(r["line"], r["policy"], r["version"], r["outcome"] or r["error_code"]) for r in back] == \
        [(r["line"], r.get("policy"), r.get("version"), r.get("outcome") or r["error"]["code"]) for r in local]
    assert all(r["citations"] for r in back if r["outcome"])


def _listening(pid: int) -> list[str]:
    """The local addresses of the TCP sockets in LISTEN held by pid and its descendants (/proc)."""
    import os

    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    family, todo = set(), [pid]
    while todo:
        p = todo.pop()
        family.add(p)
        todo += [c for c, pp in parent.items() if pp == p and c not in family]
    inodes = set()
    for p in family:
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                link = os.readlink(f"/proc/{p}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            pass
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                out.append(cols[1])
    return out


def _loopback(address: str) -> bool:
    """An address of /proc/net/tcp{,6} (hex, host byte order per 32-bit word) on 127.0.0.0/8 or ::1."""
    host = address.split(":")[0]
    if len(host) == 8:
        return host.endswith("7F")  # 127.x.x.x, little-endian
    if host == "0" * 31 + "1" or host == "00000000000000000000000001000000":  # ::1
        return True
    return host.startswith("0000000000000000FFFF0000") and host.endswith("7F")  # ::ffff:127.x.x.x


def test_a_local_cluster_listens_on_loopback_only(spark) -> None:
    """Driver, block managers, the UI, the cluster's master, workers and executors: 127.0.0.1, and Spark's
    warning that it binds a non-loopback address is absent."""
    import os

    spark.range(40).repartition(4).count()  # executors up
    listening = _listening(os.getpid())
    assert len(listening) >= 4, listening
    assert all(_loopback(a) for a in listening), listening
    log = JVM_LOG[-1].read_text(errors="replace")
    assert "resolves to a loopback address" not in log and "SPARK_LOCAL_IP" not in log, log[-2000:]

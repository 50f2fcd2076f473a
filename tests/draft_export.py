"""A draft's export made a version in a scratch copy of kb/ and queries/:
``covkb check`` passes on it there and its test requests run as named
queries, as expected (for the tests of the workspace, REST and web pages)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def check_export(files: dict[str, str], tmp: Path, policy: str) -> list[str]:
    """Write the exported files (paths from the repository's root: kb/…, queries/…) over a
    scratch copy of kb/ and of the policy's queries; assert `covkb check` of the exported
    version passes and each exported named query runs as expected; the queries' names."""
    shutil.copytree(REPO / "kb", tmp / "kb")
    shutil.copytree(REPO / "queries" / policy, tmp / "queries" / policy)
    for path, text in files.items():
        assert not Path(path).is_absolute() and ".." not in Path(path).parts, path
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_text(text, encoding="utf-8")
    versions = {Path(p).parts[3] for p in files if p.startswith(f"kb/policies/{policy}/")
                and len(Path(p).parts) == 5 and Path(p).parts[3] != "source"}
    queries = sorted(Path(p).stem for p in files if p.startswith("queries/") and p.endswith(".json"))
    assert len(versions) == 1 and queries, sorted(files)
    from typer.testing import CliRunner

    from covkb.commands import app

    # in process (2 s, not 6): CliRunner sets the scratch copy's paths for each call, as a checkout would hold them
    env = {"COVKB_KB": str(tmp / "kb"), "COVKB_QUERIES": str(tmp / "queries")}
    checked = CliRunner().invoke(app, ["check", "--policy", policy, versions.pop()], env=env)
    assert checked.exit_code == 0, checked.output
    for name in queries:
        ran = CliRunner().invoke(app, ["query", name, "--policy", policy, "--format", "json"], env=env)
        assert ran.exit_code == 0 and json.loads(ran.output)["as_expected"], ran.output
    return queries

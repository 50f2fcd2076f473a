"""Every shell and Python example of the README (and of the docs pages a
newcomer copies from: DOCS), run as written in a scratch copy of the
checkout (its tracked files), prints what the page shows.

How a page marks its examples, so that nothing is guessed:

- A ```console block is a shell session: each line starting with ``$ `` is
  a command (a line ending in ``\\`` goes on), the lines after it, up to the
  next ``$ ``, are what it prints (stdout and stderr together, as a terminal
  shows them).  It runs in bash (``-o pipefail``) in the scratch copy, with
  the test's Python first on the PATH.
- A ```python block is run by Python there; the ```text block right after it
  (nothing but blank lines between) is what it prints.
- ``<!-- example: not run: REASON -->`` on the line before a block shows it
  without running it, and says why; every ```sh, ```console and ```python
  block of these pages is either run or marked so (tested).
- ``<!-- example: file PATH -->`` on the line before a block: the block is
  that file (in the scratch copy, before any example runs), as the text
  around it tells a reader to save it.
- ``<!-- example: with a server -->`` before a console block: its commands
  talk to ``localhost:8000``, here a real server (``covkb serve``'s) on a
  free port (slow: not in make test-fast, nor are the docs pages' examples).
- In a shown output, ``…`` stands for any text within its line: only for
  what no option can pin (timings); dates are pinned with ``--date``.

``COVKB_README_UPDATE=1 python -m pytest -p no:xdist tests/test_readme_examples.py``
rewrites the pages' shown outputs with what the examples print now
(a line with ``…`` that still matches is kept as it is).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/determinations.md", "docs/analysts.md", "docs/drafts.md", "docs/batch.md")
UPDATE = os.environ.get("COVKB_README_UPDATE") == "1"
RUNNABLE = ("console", "sh", "shell", "bash", "python", "pycon")
# the programs an example may run besides covkb, each as it shows in a command (make setup installs them)
TOOLS = {"jq": re.compile(r"(^|\|)\s*jq\s"), "curl": re.compile(r"(^|\|)\s*curl\s"), "dot": re.compile(r"--format svg")}
MARK = re.compile(r"<!-- example: (not run: .+|file \S+|with a server) -->")


@dataclass(frozen=True)
class Block:
    """One fenced block: its page, language, text, the marker before it, and
    where its text lies in the page (lines, 0-based, end exclusive)."""

    doc: str
    lang: str
    text: str
    mark: str | None
    start: int
    end: int
    output: "Block | None" = None  # a python block's shown output


def blocks(doc: str) -> list[Block]:
    """A page's fenced blocks, each with the marker on the line before it; a
    python block with the text block right after it as its output."""
    lines = (REPO / doc).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = MARK.fullmatch(before.strip())
        out.append(Block(doc, m.group(1), "\n".join(lines[i + 1:end]), mark.group(1) if mark else None, i + 1, end))
        i = end + 1
    joined = []
    for b in out:
        if joined and b.lang == "text" and joined[-1].lang == "python" and \
                not any(s.strip() for s in lines[joined[-1].end + 1:b.start - 1]):
            joined[-1] = replace(joined[-1], output=b)
            continue
        joined.append(b)
    return joined


def commands(block: Block) -> list[tuple[str, list[str], int, int]]:
    """(command, shown output lines, first and end line of the output in the page) of a console block."""
    lines = block.text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(f"{block.doc}:{block.start + i + 1}: a console block's text starts with `$ `")
        cmd = [lines[i][2:]]
        while cmd[-1].endswith("\\"):
            i += 1
            cmd.append(lines[i])
        i += 1
        first = i
        while i < len(lines) and not lines[i].startswith("$ "):
            i += 1
        out.append(("\n".join(cmd), lines[first:i], block.start + first, block.start + i))
    return out


BLOCKS = [b for doc in DOCS for b in blocks(doc)]
RUN = [b for b in BLOCKS if b.lang in ("console", "python") and not (b.mark or "").startswith(("not run", "file"))]


def test_every_shell_and_python_block_is_run_or_says_why_not() -> None:
    unmarked = [f"{b.doc}:{b.start} ```{b.lang}" for b in BLOCKS if b.lang in RUNNABLE and b not in RUN
                and not (b.mark or "").startswith("not run: ")]
    assert not unmarked, "run it (```console or ```python) or mark it <!-- example: not run: REASON -->"
    assert {b.doc for b in RUN} == set(DOCS)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory):
    """The checkout's tracked files, copied; the pages' file blocks written into it."""
    root = tmp_path_factory.mktemp("checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = REPO / name
        if src.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
    for b in BLOCKS:
        if (b.mark or "").startswith("file "):
            (root / b.mark[5:]).write_text(b.text + "\n", encoding="utf-8")
    updates: dict[tuple[str, int, int], list[str]] = {}
    yield root, updates
    for doc in {doc for doc, _, _ in updates} if UPDATE else ():
        lines = (REPO / doc).read_text(encoding="utf-8").splitlines()
        for (_, start, end), new in sorted(((k, v) for k, v in updates.items() if k[0] == doc), reverse=True):
            lines[start:end] = new
        (REPO / doc).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def server(scratch):
    from service_server import Server

    s = Server(workers=2, today=None, pyapi=scratch[0] / "pyapi")  # as `make serve` runs: today's date
    yield s
    s.stop()


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVKB_KB", "COVKB_QUERIES"))}
    env.update(PYTHONPATH=str(root / "pyapi"), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
               COLUMNS="100", NO_COLOR="1")
    return env


def _matches(shown: list[str], got: list[str]) -> bool:
    """Shown and printed lines are the same, `…` in a shown line standing for any text."""
    return len(shown) == len(got) and all(
        re.fullmatch(".*?".join(map(re.escape, s.split("…"))), g) for s, g in zip(shown, got))


def _kept(shown: list[str], got: list[str]) -> list[str]:
    """The new shown output: each printed line, or the shown line where it has `…` and still matches."""
    if len(shown) != len(got):
        return got
    return [s if "…" in s and _matches([s], [g]) else g for s, g in zip(shown, got)]


def _check(updates: dict, where: tuple[str, int, int], shown: list[str], got: list[str], what: str) -> None:
    while got and not got[-1].strip():
        got.pop()
    if UPDATE:
        if not _matches(shown, got):
            updates[where] = _kept(shown, got)
        return
    assert _matches(shown, got), f"{what}\n--- the page shows:\n" + "\n".join(shown) + "\n--- it prints:\n" + "\n".join(got)


def _params() -> list:
    """One case per run block; the README's in make test-fast, but those
    that need a server, and the docs pages', are slow (make test)."""
    return [pytest.param(b, marks=[pytest.mark.slow] if b.mark == "with a server" or b.doc != DOCS[0] else [],
                         id=f"{b.doc}:{b.start}-{b.lang}") for b in RUN]


@pytest.mark.parametrize("block", _params())
def test_an_example_prints_what_the_page_shows(block: Block, scratch, request: pytest.FixtureRequest) -> None:
    root, updates = scratch
    env = _env(root)
    port = request.getfixturevalue("server").port if block.mark == "with a server" else None
    if block.lang == "python":
        script = root / f"readme_example_{block.start}.py"
        script.write_text(block.text + "\n", encoding="utf-8")
        run = subprocess.run([sys.executable, script.name], cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)
        got = run.stdout.splitlines()
        if block.output is None:  # a block shown without output prints none
            if UPDATE and got:
                updates[(block.doc, block.end + 1, block.end + 1)] = ["", "```text", *got, "```"]
                return
            assert run.returncode == 0 and not got, run.stdout
            return
        out = block.output
        _check(updates, (block.doc, out.start, out.end), out.text.splitlines(), got, f"{block.doc}:{block.start} (exit {run.returncode})")
        return
    for cmd, shown, first, end in commands(block):
        missing = [tool for tool, used in TOOLS.items() if used.search(cmd) and shutil.which(tool) is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} missing (make setup installs them)")
        line = cmd.replace("localhost:8000", f"127.0.0.1:{port}") if port else cmd
        run = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)
        _check(updates, (block.doc, first, end), shown, run.stdout.splitlines(), f"{block.doc}:{first}: $ {cmd} (exit {run.returncode})")

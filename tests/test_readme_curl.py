"""The README's curl examples, run against a real server on 127.0.0.1: each
prints exactly what the README shows (localhost:8000 read as the test
server's address)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from service_server import REPO, Server

pytestmark = pytest.mark.slow  # a real server: not in make test-fast


def readme_examples() -> list[tuple[str, str]]:
    """(command, shown output) for every `$ ` command of the README's console blocks that talks to localhost:8000."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", (REPO / "README.md").read_text(), re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            cmd = [lines[i][2:]]
            while cmd[-1].endswith("\\"):
                i += 1
                cmd.append(lines[i])
            i += 1
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            text = "\n".join(cmd)
            if "localhost:8000" in text:
                out.append((text, "\n".join(shown)))
    return out


EXAMPLES = readme_examples()


def test_the_readme_has_curl_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.fixture(scope="module")
def server():
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (make setup installs it)")
    s = Server(workers=2, today=None)  # as `make serve` runs: today's date
    yield s
    s.stop()


@pytest.mark.parametrize("command, shown", EXAMPLES, ids=[c.split("|")[0][:60] for c, _ in EXAMPLES])
def test_a_readme_curl_example_prints_what_the_readme_shows(server, command: str, shown: str) -> None:
    run = subprocess.run(["bash", "-o", "pipefail", "-c", command.replace("localhost:8000", f"127.0.0.1:{server.port}")],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip("\n") == shown

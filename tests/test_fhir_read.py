"""A missing prefetch is read from an allowed FHIR server without being
turned against anyone: no redirect followed (the token stays with the
allowed server), the whole read bounded in time and size.  Real HTTP
servers on 127.0.0.1 play the FHIR servers, hostile ones included."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from covkb.service import fhir_read
from covkb.service.fhir_map import PrefetchMissing

TOKEN = {"access_token": "t0k3n", "token_type": "Bearer"}
BUNDLE = {"resourceType": "Bundle", "type": "searchset", "entry": []}


class Recorded(ThreadingHTTPServer):
    daemon_threads = True
    behaviour = "bundle"
    target = ""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.asked: list[tuple[str, str | None]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/fhir"


class _Handler(BaseHTTPRequestHandler):
    server: Recorded

    def log_message(self, *_a: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        s = self.server
        s.asked.append((self.path, self.headers.get("Authorization")))
        if s.behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", s.target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif s.behaviour == "trickle":
            body = json.dumps(BUNDLE).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for b in body:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        elif s.behaviour == "huge":
            body = b'{"resourceType": "Bundle", "x": "' + b"x" * 5000 + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif s.behaviour == "error":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            body = json.dumps(BUNDLE).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def servers() -> Iterator[tuple[Recorded, Recorded]]:
    a, b = Recorded(), Recorded()
    yield a, b
    for s in (a, b):
        s.shutdown()
        s.server_close()


def test_an_allowed_server_is_read_with_the_token(servers) -> None:
    a, _ = servers
    assert fhir_read.fetch(a.base, TOKEN, "Condition?patient=p1", "conditions") == BUNDLE
    assert a.asked == [("/fhir/Condition?patient=p1", "Bearer t0k3n")]


def test_a_redirect_is_reported_and_never_followed_with_the_token(servers) -> None:
    a, b = servers
    a.behaviour, a.target = "redirect", b.base + "/stolen"
    with pytest.raises(PrefetchMissing, match="answered a redirect"):
        fhir_read.fetch(a.base, TOKEN, "Condition?patient=p1", "conditions")
    assert len(a.asked) == 1 and b.asked == []


def test_a_server_that_trickles_is_cut_off_at_the_deadline(servers, monkeypatch) -> None:
    a, _ = servers
    a.behaviour = "trickle"
    monkeypatch.setattr(fhir_read, "READ_SECONDS", 1.0)
    start = time.monotonic()
    with pytest.raises(PrefetchMissing, match="did not answer in 1 s"):
        fhir_read.fetch(a.base, TOKEN, "Condition", "conditions")
    assert time.monotonic() - start < 1.5


def test_an_answer_over_the_size_limit_is_refused(servers, monkeypatch) -> None:
    a, _ = servers
    a.behaviour = "huge"
    monkeypatch.setattr(fhir_read, "MAX_FETCH", 1000)
    with pytest.raises(PrefetchMissing, match="over 1000 bytes"):
        fhir_read.fetch(a.base, TOKEN, "Condition", "conditions")


@pytest.mark.parametrize(("behaviour", "words"), [("error", "answered HTTP 500")])
def test_a_failing_server_is_one_line(servers, behaviour: str, words: str) -> None:
    a, _ = servers
    a.behaviour = behaviour
    with pytest.raises(PrefetchMissing, match=words) as exc:
        fhir_read.fetch(a.base, TOKEN, "Condition", "conditions")
    assert "\n" not in exc.value.message


def test_a_closed_port_is_one_line() -> None:
    with pytest.raises(PrefetchMissing, match="could not be read") as exc:
        fhir_read.fetch("http://127.0.0.1:9/fhir", TOKEN, "Condition", "conditions")
    assert "Traceback" not in exc.value.message and "\n" not in exc.value.message

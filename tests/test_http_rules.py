"""The HTTP rules of covkb serve, against a real server on 127.0.0.1 in both
process models: media types (415), Allow on 405, security headers and no
banner, no address taken from Host, and the connection limits (head size,
header count, head and body timeouts, a stalled upload at SIGTERM).  Each
test failed before these rules existed."""

from __future__ import annotations

import json
import re
import signal
import socket
import time

import httpx
import pytest

from service_server import Server

pytestmark = pytest.mark.slow

PUBLIC = "https://covkb.example.org/api"
REQ = {"service": "nk_cell_test", "prior_pregnancy_losses": 3, "date_of_service": "2025-06-01"}


@pytest.fixture(scope="module", params=["inline", "pool"])
def server(request):
    s = Server("--mode", request.param, "--public-url", PUBLIC, "--head-timeout", "1", "--body-timeout", "1",
               workers=1)
    yield s
    s.stop()


def _raw(server: Server, data: bytes, *, wait: float = 5.0) -> bytes:
    """What the server answers to raw bytes, until it closes or `wait` passes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as c:
        c.sendall(data)
        out = b""
        try:
            while chunk := c.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


@pytest.mark.parametrize(("content_type", "status"), [
    ("application/json", 200), ("application/json; charset=utf-8", 200),
    ("text/plain", 415), ("application/x-www-form-urlencoded", 415), (None, 415),
])
def test_a_route_answers_only_the_media_types_it_declares(server, content_type, status) -> None:
    headers = {"content-type": content_type} if content_type else {}
    r = httpx.post(f"{server.url}/v1/determine", content=json.dumps(REQ), headers=headers, timeout=30)
    assert r.status_code == status, r.text
    if status == 415:
        assert r.json()["code"] == "unsupported_media_type" and r.headers["accept-post"] == "application/json"


def test_405_says_which_methods_are_allowed(server) -> None:
    r = httpx.get(f"{server.url}/v1/determine", timeout=10)
    assert r.status_code == 405 and r.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/v1/policies", "/docs", "/determine", "/nowhere"])
def test_every_answer_has_the_security_headers_and_no_banner(server, path) -> None:
    r = httpx.get(f"{server.url}{path}", timeout=30)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp.split(
        "script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "server" not in r.headers


def test_no_address_is_taken_from_the_host_header(server) -> None:
    r = httpx.get(f"{server.url}/v1/policies/", headers={"host": "evil.example"}, timeout=10)
    assert r.status_code == 308 and r.headers["location"] == "/v1/policies"
    from covkb.service.examples import examples

    call = examples()[0][1]["hook_request"]
    r = httpx.post(f"{server.url}/cds-services/covkb-order-sign", json=call, headers={"host": "evil.example"},
                   timeout=60)
    assert r.status_code == 200, r.text
    # every explanation link (in the coverage information, and the card's links and Markdown) at the public URL
    text = json.dumps(r.json())
    origins = re.findall(r'([^\s"(]*)/v1/explanations/', text)
    assert origins and set(origins) == {PUBLIC}
    assert "evil.example" not in r.text


def test_docs_are_served_from_vendored_assets(server) -> None:
    page = httpx.get(f"{server.url}/docs", timeout=10).text
    assets = [p.split('"')[0] for p in page.split('src="')[1:]] + [p.split('"')[0] for p in page.split('href="')[1:]]
    assert assets and all(a.startswith("/docs-assets/") for a in assets)
    assert "<script>" not in page  # no inline script
    for a in assets:
        assert httpx.get(f"{server.url}{a}", timeout=10).status_code == 200


def test_a_head_over_the_limit_is_431(server) -> None:
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (2 << 20) + b"\r\n\r\n"
    assert _raw(server, big).startswith(b"HTTP/1.1 431")
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    assert _raw(server, many).startswith(b"HTTP/1.1 431")


def test_a_head_sent_a_byte_at_a_time_is_cut_off(server) -> None:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        out = b""
        try:
            for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 20:
                c.sendall(bytes([b]))
                time.sleep(0.25)
        except OSError:
            pass
        try:
            while chunk := c.recv(4096):
                out += chunk
        except OSError:
            pass
    assert out.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 8


def test_a_body_that_stalls_is_408(server) -> None:
    head = (b"POST /v1/determine HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"service\"")
    start = time.monotonic()
    assert _raw(server, head, wait=10).split(b"\r\n")[0].startswith(b"HTTP/1.1 408")
    assert time.monotonic() - start < 8


@pytest.mark.parametrize("mode", ["inline", "pool"])
def test_sigterm_does_not_wait_for_a_stalled_upload(mode: str) -> None:
    s = Server("--mode", mode, "--body-timeout", "60", workers=1)
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=20) as c:
            c.sendall(b"POST /v1/determine HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{")
            time.sleep(0.5)
            start = time.monotonic()
            s.proc.send_signal(signal.SIGTERM)
            answer = c.recv(4096)
            assert s.proc.wait(20) in (0, -signal.SIGTERM)
            assert time.monotonic() - start < 10
        assert answer.startswith(b"HTTP/1.1 503") or answer == b""
    finally:
        s.stop()


def _batch(server: Server, pieces) -> tuple[int, list[dict]]:
    with httpx.stream("POST", f"{server.url}/v1/batch", content=pieces,
                      headers={"content-type": "application/x-ndjson"}, timeout=120) as r:
        return r.status_code, [json.loads(x) for x in r.iter_lines() if x]


def test_a_batch_line_with_no_line_end_is_read_in_linear_time(server) -> None:
    """A 63 MiB line used to take 14 s to read (quadratic); now its record comes at once."""
    def pieces():
        yield json.dumps(REQ).encode() + b"\n"
        for _ in range(48):  # 48 MiB in 1 MiB pieces, one line, no line end
            yield b"x" * (1 << 20)
    start = time.monotonic()
    status, records = _batch(server, pieces())
    assert status == 200 and [r["line"] for r in records] == [1, 2]
    assert "outcome" in records[0] and "longer than" in records[1]["error"]["message"]
    assert time.monotonic() - start < 20


def test_a_streamed_batch_over_the_limit_ends_with_an_error_record_not_a_cut(server) -> None:
    """66 MiB streamed used to give 200, 67,840 records, then a reset."""
    line = b"x" * (1100 << 10) + b"\n"  # each line over the line limit: an error record, no engine work
    status, records = _batch(server, (line for _ in range(62)))
    assert status == 200
    *lines, last = records
    assert [r["line"] for r in lines] == list(range(1, len(lines) + 1))
    assert last["error"]["code"] == "too_large" and last["lines_read"] == len(lines)


PYTHON_INTERNALS = re.compile(r"Traceback|File \"|\.py\b|\b[A-Z]\w*(Error|Exception)\b|/work/|site-packages")
CDS = "/cds-services/covkb-order-sign"
# hostile calls of every kind this suite makes, each answered in words only
HOSTILE = [
    ("GET", "/v1/determine", {}, b""),
    ("POST", "/v1/determine", {"content-type": "text/plain"}, b"{}"),
    ("POST", "/v1/determine", {"content-type": "application/json"}, b"[" * 5000 + b"]" * 5000),
    ("POST", "/v1/determine", {"content-type": "application/json"}, b'{"service": "nk_cell_test", "x": 1e999}'),
    ("POST", "/v1/determine", {"content-type": "application/json"}, b"\xff\xfe"),
    ("POST", "/v1/determine?engine=fortran", {"content-type": "application/json"}, b"{}"),
    ("POST", CDS, {"content-type": "application/json"}, b'{"hook": "order-sign", "context": ' + b"[" * 20000),
    ("POST", CDS, {"content-type": "application/json"}, b'{"hook": "order-sign", "context": {"draftOrders": 1}}'),
    ("POST", "/v1/batch", {"content-type": "application/x-ndjson"}, b"[" * 100000 + b"\n{}\n\xff\n"),
    ("GET", "/v1/explanations/" + "A" * 3000, {}, b""),
    ("GET", "/v1/policies/../../etc/passwd", {}, b""),
    ("GET", "/v1/policies/cigna-0284/diff?a=x&b=%00", {}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), HOSTILE, ids=[f"{m} {p[:40]}" for m, p, _, _ in HOSTILE])
def test_no_answer_carries_python_internals(server, method, path, headers, body) -> None:
    r = httpx.request(method, f"{server.url}{path}", headers=headers, content=body, timeout=60)
    assert r.status_code < 500 or r.status_code == 503, r.text[:300]
    assert not PYTHON_INTERNALS.search(r.text), r.text[:300]

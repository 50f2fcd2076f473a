"""The web pages' login (issue 23, item 6), over HTTP against a real server
on 127.0.0.1 with authentication on (its store a temporary SQLite file, its
users added with `covkb users add`, the password on standard input): no
session → a redirect to /login (a page) or 401 (htmx, JSON); a wrong
password; a good login opens the pages; a form without its CSRF token is
403; logout; a removed user's session refused; a role refused (403: a page
in words, a problem document for JSON); failed logins counted, then
refused in one line; a draft names the logged-in user as its author.
The rule table and the cookie's attributes are checked without a server."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from covkb.store import Store
from covkb.service.web_auth import ROLE_GRANTS, WebAuth, _safe_next, needs

REPO = Path(__file__).resolve().parents[1]
COVKB = [sys.executable, "-m", "covkb.cli"]
PASSWORDS = {"alice": ("analyst", "alice-password-1"), "vic": ("viewer", "vic-password-1"),
             "rita": ("reviewer", "rita-password-1"), "bob": ("analyst", "bob-password-1"),
             "eve": ("viewer", "eve-password-1"), "ron": ("viewer", "ron-password-1")}


def covkb(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COVKB, *args], input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from service_server import Server

    store = f"sqlite:///{tmp_path_factory.mktemp('login-store') / 'covkb.db'}"
    r = covkb("users", "add", "alice", "--role", "analyst", "--store", store, stdin=PASSWORDS["alice"][1] + "\n")
    assert r.returncode == 0 and r.stdout.strip() == "user alice (analyst) added", r.stderr
    with Store.open(store) as kept:  # the others as covkb users add keeps them, without a process each
        for name, (role, password) in PASSWORDS.items():
            if name != "alice":
                kept.save_user(name, password, role)
    s = Server("--store", store, workers=1, auth=True)
    s.store = store
    yield s
    assert s.stop() in (0, -15)


@contextlib.contextmanager
def login(server, name: str, next_: str = "/determine") -> Iterator[httpx.Client]:
    """A client logged in through the form (its hidden token and cookie as a browser keeps them)."""
    with httpx.Client(base_url=server.url, timeout=120) as c:
        r = post_login(c, name, PASSWORDS[name][1], next_)
        assert r.status_code == 303 and r.headers["location"] == next_, r.text
        yield c


def post_login(c: httpx.Client, name: str, password: str, next_: str = "/determine") -> httpx.Response:
    form = c.get("/login", params={"next": next_})
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    return c.post("/login", data={"name": name, "password": password, "login_token": token, "next": next_})


def said(r: httpx.Response) -> str:
    """The page's one-line message (its alert)."""
    m = re.search(r'role="alert">([^<]+)<', r.text)
    return m.group(1).replace("&#39;", "'") if m else ""


def csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


# -- without a server -----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "need"), [
    ("GET", "/determine", "read"), ("GET", "/policy/cigna-0284", "read"), ("GET", "/drafts", "read"),
    ("GET", "/drafts/new", "draft"), ("POST", "/drafts/new", "draft"), ("POST", "/drafts/abc/edit", "draft"),
    ("POST", "/revisions/draft", "draft"), ("POST", "/determine", "unlisted"), ("PUT", "/drafts/abc", "unlisted"),
    ("GET", "/reviews", "review"), ("POST", "/reviews/abc", "review")])
def test_each_web_request_needs_what_the_rules_say(method: str, path: str, need: str) -> None:
    assert needs(method, path) == need


@pytest.mark.parametrize(("role", "may"), [("viewer", {"read"}), ("analyst", {"read", "draft"}),
                                           ("reviewer", {"read", "review"})])
def test_each_role_grants_what_it_says(role: str, may: set[str]) -> None:
    assert ROLE_GRANTS[role] == may and "unlisted" not in ROLE_GRANTS[role]


@pytest.mark.parametrize(("given", "goes"), [("/drafts?policy=x", "/drafts?policy=x"), ("//evil.example", "/determine"),
                                             ("https://evil.example/", "/determine"), ("/\\evil", "/determine")])
def test_after_login_the_browser_goes_only_to_a_page_of_this_site(given: str, goes: str) -> None:
    assert _safe_next(given) == goes


@pytest.mark.parametrize(("public_url", "secure"), [(None, False), ("http://covkb.test", False),
                                                    ("https://covkb.example.org", True)])
def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(public_url: str | None, secure: bool) -> None:
    layer = WebAuth(None, SimpleNamespace(auth=True, store=None, public_url=public_url))
    _, value = layer._cookie("covkb_session", "x", 60)
    attrs = value.decode().split("; ")
    assert {"HttpOnly", "SameSite=Lax", "Max-Age=60", "Path=/"} <= set(attrs)
    assert ("Secure" in attrs) is secure


# -- a real server ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/determine?policy=cigna-0284", {"Accept": "text/html"}, 303),
    ("/drafts", {}, 303),
    ("/", {}, 303),
    ("/determine.json?policy=cigna-0284&service=x", {"Accept": "application/json"}, 401),
    ("/determine?policy=cigna-0284", {"HX-Request": "true"}, 401)])
def test_without_a_session_a_page_asks_for_the_login(server, path: str, headers: dict, status: int) -> None:
    r = httpx.get(server.url + path, headers=headers)
    assert r.status_code == status
    if status == 303:
        assert r.headers["location"].startswith("/login?next=%2F")
    else:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "unauthorized" and "/login" in r.json()["detail"]
        assert r.headers["hx-redirect"].startswith("/login?next=")


@pytest.mark.slow
def test_login_static_files_and_the_api_s_open_calls_stay_open(server) -> None:
    assert httpx.get(server.url + "/login").status_code == 200
    assert httpx.get(server.url + "/static/covkb.css").status_code == 200
    assert httpx.get(server.url + "/v1/policies").status_code == 200


@pytest.mark.slow
def test_a_wrong_password_or_an_unknown_name_is_refused_in_words(server) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as c:
        for name, password in (("alice", "not-her-password"), ("nobody", "any-password-1")):
            r = post_login(c, name, password)
            assert r.status_code == 401 and said(r) == "The name or the password is wrong."
            assert "covkb_session" not in r.headers.get("set-cookie", "")


@pytest.mark.slow
def test_a_login_form_without_its_own_token_is_refused(server) -> None:
    r = httpx.post(server.url + "/login", data={"name": "alice", "password": PASSWORDS["alice"][1]})
    assert r.status_code == 403 and said(r) == "The login form had expired: log in again."


@pytest.mark.slow
def test_a_good_login_opens_the_pages_with_an_httponly_lax_cookie(server) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as c:
        r = post_login(c, "vic", PASSWORDS["vic"][1], "/drafts?policy=cigna-0284")
        assert r.status_code == 303 and r.headers["location"] == "/drafts?policy=cigna-0284"
        cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("covkb_session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert 0 < int(re.search(r"Max-Age=(\d+)", cookie).group(1)) <= 8 * 3600
        page = c.get("/determine?policy=cigna-0284")
        assert page.status_code == 200 and "vic (viewer)" in page.text
        assert page.headers["cache-control"] == "no-store"  # a patient's facts kept by no cache


@pytest.mark.slow
def test_a_form_without_the_csrf_token_is_403(server) -> None:
    with login(server, "alice") as c:
        token = csrf(c.get("/drafts/new?policy=cigna-0284"))
        form = {"policy": "cigna-0284", "base": "2025-02-15", "start": "empty", "note": "csrf"}
        for sent in ({}, {"csrf_token": "an-old-token"}):
            r = c.post("/drafts/new", data={**form, **sent})
            assert r.status_code == 403 and "CSRF token" in said(r)
        upload = {"draft": ("d.toml", b'revision_of = "2025-02-15"\n')}
        r = c.post("/revisions/draft", data={"policy": "cigna-0284"}, files=upload)
        assert r.status_code == 403 and "CSRF token" in said(r)
        r = c.post("/drafts/new", data=form, headers={"X-CSRF-Token": token})  # htmx sends it as a header
        assert r.status_code == 303
        big = {"draft": ("d.toml", b"#" * (256 * 1024 + 1))}  # through the check, the route refuses it at once
        r = c.post("/revisions/draft", data={"policy": "cigna-0284", "csrf_token": token}, files=big)
        assert r.status_code == 413 and "at most 256 KiB" in said(r)


@pytest.mark.slow
def test_a_draft_names_the_logged_in_user_as_its_author(server) -> None:
    with login(server, "alice") as c:
        token = csrf(c.get("/drafts/new?policy=cigna-0284"))
        r = c.post("/drafts/new", data={"policy": "cigna-0284", "base": "2025-02-15", "start": "empty",
                                        "author": "someone else", "csrf_token": token})
        with Store.open(server.store) as kept:
            assert kept.draft(r.headers["location"].rsplit("/", 1)[1]).author == "alice"


@pytest.mark.slow
def test_logout_ends_the_session(server) -> None:
    with login(server, "eve") as c:
        page = c.get("/determine")
        assert page.status_code == 200
        kept = dict(c.cookies)
        r = c.post("/logout", data={"csrf_token": csrf(page)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    again = httpx.get(server.url + "/determine", cookies=kept)  # the old cookie, sent again
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


@pytest.mark.slow
def test_a_removed_users_session_is_refused(server) -> None:
    with login(server, "bob") as c:
        assert c.get("/drafts").status_code == 200
        r = covkb("users", "remove", "bob", "--store", server.store)
        assert r.returncode == 0 and r.stdout.strip() == "user bob removed: its sessions are ended"
        r = c.get("/drafts")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.slow
@pytest.mark.parametrize(("who", "accept", "method", "path"), [
    ("vic", "text/html", "GET", "/drafts/new?policy=cigna-0284"),
    ("rita", "text/html", "POST", "/drafts/new"),
    ("vic", "application/json", "POST", "/drafts/new")])
def test_a_role_that_does_not_allow_it_is_403(server, who: str, accept: str, method: str, path: str) -> None:
    with login(server, who) as c:
        token = csrf(c.get("/logout"))  # the logout page's form holds the session's token
        r = c.request(method, path, headers={"Accept": accept, "X-CSRF-Token": token},
                      data={"policy": "cigna-0284"} if method == "POST" else None)
    assert r.status_code == 403
    role = PASSWORDS[who][0]
    why = f"Creating and changing drafts (and checking an uploaded draft) needs the analyst role: {who} is a {role}."
    if accept == "application/json":
        assert r.headers["content-type"] == "application/problem+json" and r.json()["detail"] == why
    else:
        assert r.headers["content-type"].startswith("text/html") and said(r) == why


@pytest.mark.slow
def test_failed_logins_are_counted_then_refused_in_one_line(server) -> None:
    from covkb.store.users import LOGIN_ATTEMPTS

    with httpx.Client(base_url=server.url, timeout=120) as c:
        for _ in range(LOGIN_ATTEMPTS):
            assert post_login(c, "ron", "a-wrong-password").status_code == 401
        r = post_login(c, "ron", PASSWORDS["ron"][1])  # the right password, refused all the same
        assert r.status_code == 429
        assert re.fullmatch(r"too many failed logins for ron: try again after \d\d:\d\d UTC", said(r))
        assert post_login(c, "alice", PASSWORDS["alice"][1]).status_code == 303  # per name: others log in


@pytest.mark.slow
def test_the_start_says_what_is_open(tmp_path) -> None:
    import os
    import signal

    from service_server import free_port

    env = dict(os.environ, COVKB_STATE=str(tmp_path))
    for flags, line in ((["--no-auth"], "the web pages are open without a login"),
                        ([], "no users: every web page asks for a login nobody has (covkb users add NAME)")):
        p = subprocess.Popen([sys.executable, "-m", "covkb.service.app", "--port", str(free_port()), *flags],
                             stderr=subprocess.PIPE, text=True, env=env)
        try:
            seen = [p.stderr.readline() for _ in range(2 if not flags else 1)]
            assert any(line in s for s in seen), seen
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(60)


@pytest.mark.slow
def test_a_reviewer_records_a_decision_on_a_request_pended_for_a_person(server) -> None:
    """/reviews: the requests PAS pended for a person (kept in the server's store by the engine worker's own
    operation, as $submit keeps them), a reviewer's decision recorded in the form, refused to a viewer."""
    from covkb.service.ops import Worker
    from covkb.service.pas import review_of

    example = json.loads((REPO / "queries" / "fhir" / "pas" /
                          "a_service_only_the_lost_aetna_text_could_address_is_pended_for_a_person.json").read_text())
    w = Worker({"policy": example["policy"], "today": "2025-06-01", "store": server.store, "preload_policies": [],
                "preload_engines": []})
    status, _, out = w.op_pas_submit(json.dumps(example["bundle"]).encode(), "http://x", policy=example["policy"])
    assert status == 200
    key = json.loads(out)["entry"][0]["resource"]["preAuthRef"]
    with login(server, "vic") as c:
        r = c.get("/reviews")
        assert r.status_code == 403 and said(r).startswith("Reading the requests pended for a person")
    with login(server, "rita") as c:
        page = c.get("/reviews")
        assert page.status_code == 200 and f'data-review="{key}"' in page.text
        r = c.post(f"/reviews/{key}", data={"action": "deny", "reason": " ", "csrf_token": csrf(page)})
        assert r.status_code == 422 and said(r) == "a review needs its reason in words (1 to 4,000 characters)"
        reason = "The Aetna text of 2024 is not known; the records show the service is needed."
        r = c.post(f"/reviews/{key}", data={"action": "approve", "reason": reason, "csrf_token": csrf(page)})
        assert r.status_code == 303, r.text
        page = c.get(r.headers["location"])
        assert f'data-review="{key}"' not in page.text and f"Your review of {key} is recorded." in page.text
        r = c.post(f"/reviews/{key}", data={"action": "deny", "reason": "again", "csrf_token": csrf(page)})
        assert r.status_code == 409 and "is not pended" in said(r)
    with Store.open(server.store) as kept:
        assert review_of(kept.decision(key)) == {"action": "approve", "reason": reason, "reviewer": "rita"}

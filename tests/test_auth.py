"""Authenticated callers (service/auth.py), against real servers on 127.0.0.1
with keys the tests make: a CDS Hooks call needs a JWT from a trusted issuer
(every way of getting one wrong is 401, a replay too, on another server
process); a FHIR operation needs an access token from covkb's token endpoint
with the operation's scope (401 without one, 403 without the scope);
--no-auth is refused off loopback; CORS answers only configured origins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from covkb.service.examples import examples
from service_server import REPO, Issuer, JwksHost, Server, free_port

pytestmark = pytest.mark.slow  # real servers: not in make test-fast

PUBLIC = "http://covkb.test"  # --public-url: every aud names it
CALL = dict(examples())["pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"]
SERVICE = f"/cds-services/{CALL['service']}"
AUD = PUBLIC + SERVICE
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
APP_ORIGIN = "https://ehr-app.example.org"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Issuers (ES384, RS384, one whose keys are fetched by jku), a stranger,
    a registered token client, and two servers sharing one store and key:
    A (two server processes) and B (one, with a CORS origin)."""
    d = tmp_path_factory.mktemp("auth")
    w = type("World", (), {})()
    env = {"COVKB_STATE": str(d / "state"), "COVKB_STORE_URL": f"sqlite:///{d / 'store.sqlite3'}"}
    jwks_host, w.elsewhere = JwksHost(), JwksHost()
    w.env, w.jwks_host, w.dir = env, jwks_host, d
    w.ehr = Issuer(d, "https://ehr.example.org", "ES384")
    w.rsa = Issuer(d, "https://rsa-ehr.example.org", "RS384")
    w.remote = Issuer(d, "https://remote-ehr.example.org", "ES384", jku=(jwks_host.url + "/jwks.json",), inline=False)
    w.moved = Issuer(d, "https://moved-ehr.example.org", "ES384", jku=(jwks_host.url + "/moved.json",), inline=False)
    w.stranger = Issuer(d, "https://stranger.example.org", "ES384")
    jwks_host.jwks = w.remote.jwks
    jwks_host.moved_to, w.elsewhere.jwks = w.elsewhere.url + "/jwks.json", w.moved.jwks
    trusted = {"issuers": {}}
    for i in (w.ehr, w.rsa, w.remote, w.moved):
        trusted["issuers"].update(json.loads(i.path.read_text())["issuers"])
    (d / "trusted.json").write_text(json.dumps(trusted))
    w.client_key = ECKey.generate_key("P-384", auto_kid=True)
    (d / "client.jwks.json").write_text(json.dumps({"keys": [w.client_key.as_dict(private=False)]}))
    add = subprocess.run([sys.executable, "-m", "covkb.cli", "clients", "add", "app-1", "--jwks", str(d / "client.jwks.json"),
                          "--scope", "system/Claim.write", "--scope", "system/Questionnaire.read",
                          "--scope", "system/ClaimResponse.read", "--scope", "system/ClaimResponse.write",
                          "--scope", "system/Determination.write"],
                         capture_output=True, text=True, env=_env(env), timeout=120)
    assert add.returncode == 0, add.stderr
    args = ("--trusted-issuers", str(d / "trusted.json"), "--public-url", PUBLIC)
    w.a = Server(*args, workers=2, auth=True, env=env)
    w.b = Server(*args, "--cors-origin", APP_ORIGIN, workers=1, auth=True, env=env)
    yield w
    w.a.stop()
    w.b.stop()
    jwks_host.httpd.shutdown()
    w.elsewhere.httpd.shutdown()


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return dict(os.environ, **extra, PYTHONPATH=str(REPO / "pyapi") + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cds(server: Server, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(server.url + SERVICE, json=CALL["hook_request"], headers=headers, timeout=60)


def _hs256_with_public_key(w: Any) -> str:
    now = int(time.time())
    head = unsigned({"alg": "HS256", "kid": w.rsa.key.kid, "typ": "JWT"},
                    {"iss": w.rsa.iss, "sub": "x", "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex})
    secret = w.rsa.key.as_pem(private=False)
    return f"{head}.{b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())}"


def _alg_none(w: Any) -> str:
    now = int(time.time())
    return unsigned({"alg": "none", "kid": w.ehr.key.kid},
                    {"iss": w.ehr.iss, "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}) + "."


def _another_key_same_kid(w: Any) -> str:
    impostor = Issuer(w.dir, w.ehr.iss, "ES384")
    impostor.key = ECKey.import_key({**impostor.key.as_dict(private=True), "kid": w.ehr.key.kid})
    return impostor.token(AUD)


NOW = int(time.time())
# (what is wrong, the token, words of the refusal); every one is 401
REFUSED: list[tuple[str, Callable[[Any], str | None], str]] = [
    ("no token", lambda w: None, "no bearer token"),
    ("not a JWT", lambda w: "not-a-jwt", "not a signed JWT"),
    ("expired", lambda w: w.ehr.token(AUD, iat=int(time.time()) - 900, exp=int(time.time()) - 600), "expired"),
    ("issued in the future", lambda w: w.ehr.token(AUD, iat=int(time.time()) + 900, exp=int(time.time()) + 1000),
     "issued in the future"),
    ("valid for a day", lambda w: w.ehr.token(AUD, exp=int(time.time()) + 86400), "valid for over"),
    ("wrong aud: another service", lambda w: w.ehr.token(PUBLIC + "/cds-services/covkb-order-select"), "aud"),
    ("wrong aud: the Host, not the public URL", lambda w: w.ehr.token("http://127.0.0.1" + SERVICE), "aud"),
    ("unknown iss", lambda w: w.stranger.token(AUD), "is not trusted"),
    ("alg none", _alg_none, "alg 'none' is refused"),
    ("HS256 signed with the public key", _hs256_with_public_key, "alg 'HS256' is refused"),
    ("RS256: not an algorithm this issuer is allowed", lambda w: w.rsa.token(AUD, header={"alg": "RS256"}),
     "alg 'RS256' is refused"),
    ("missing kid", lambda w: w.ehr.token(AUD, header={"kid": None}), "no kid"),
    ("unknown kid", lambda w: w.ehr.token(AUD, header={"kid": "nope"}), "no key 'nope'"),
    ("another key under the issuer's kid", _another_key_same_kid, "signature does not verify"),
    ("no jti", lambda w: w.ehr.token(AUD, jti=None), "no 'jti'"),
    ("no exp", lambda w: w.ehr.token(AUD, exp=None), "no 'exp'"),
    ("exp NaN, signed", lambda w: w.ehr.token(AUD, exp=float("nan")), "numbers of seconds"),
    ("exp a string", lambda w: w.ehr.token(AUD, exp="tomorrow"), "numbers of seconds"),
    ("claims nested past the parser's depth", lambda w: unsigned({"alg": "ES384", "kid": "k"}, {}).split(".")[0]
     + f".{b64(b'[' * 5000 + b']' * 5000)}.c2ln",
     "not a signed JWT"),
]


@pytest.mark.parametrize(("wrong", "make", "words"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_cds_call_without_a_valid_jwt_is_401(world: Any, wrong: str, make: Callable[[Any], str | None],
                                                words: str) -> None:
    r = cds(world.a, make(world))
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_jku_off_the_issuers_list_is_never_fetched(world: Any) -> None:
    before = world.jwks_host.connections
    r = cds(world.a, world.ehr.token(AUD, header={"jku": world.jwks_host.url + "/other.json"}))
    r2 = cds(world.a, world.remote.token(AUD, header={"jku": world.jwks_host.url + "/other.json"}))
    assert (r.status_code, r2.status_code) == (401, 401), (r.text, r2.text)
    assert "is not allowed for issuer" in r.json()["detail"] and "is not allowed" in r2.json()["detail"]
    assert world.jwks_host.connections == before  # no connection was made


def test_a_listed_jku_that_redirects_is_not_followed(world: Any) -> None:
    r = cds(world.a, world.moved.token(AUD))
    assert r.status_code == 401 and "could not be read: HTTP 302" in r.json()["detail"], r.text
    assert world.elsewhere.connections == 0  # the redirect's target was never reached


# (the issuer, the token's header) of the tokens a CDS call is answered with
GOOD = [("ES384, key inline", "ehr", {}), ("RS384, key inline", "rsa", {}),
        ("ES384, key fetched from the jku it names, on its list", "remote", "jku"),
        ("ES384, key from its listed jku, the token naming none", "remote", {})]


@pytest.mark.parametrize(("how", "issuer", "header"), GOOD, ids=[g[0] for g in GOOD])
def test_a_good_jwt_is_answered(world: Any, how: str, issuer: str, header: Any) -> None:
    head = {"jku": world.jwks_host.url + "/jwks.json"} if header == "jku" else header
    for _ in range(3):  # the key from the cache after the first
        r = cds(world.a, getattr(world, issuer).token(AUD, header=head))
        assert r.status_code == 200, r.text
        assert r.json()["cards"]


def test_aud_may_be_a_list_and_discovery_is_open(world: Any) -> None:
    assert cds(world.a, world.ehr.token([AUD, "https://other.example.org"])).status_code == 200
    assert httpx.get(world.a.url + "/cds-services").status_code == 200


def test_a_replayed_jti_is_refused_by_every_server_process(world: Any) -> None:
    token = world.ehr.token(AUD)
    assert cds(world.a, token).status_code == 200
    again = [cds(world.a, token) for _ in range(4)]  # over keep-alive and new connections: both of A's processes
    assert {r.status_code for r in again} == {401}
    assert "replay" in again[0].json()["detail"]
    other = world.ehr.token(AUD)
    assert cds(world.b, other).status_code == 200
    assert "replay" in cds(world.a, other).json()["detail"]  # another server, another process, one store


# -- SMART Backend Services: the token endpoint and access tokens ----------------------------

def assertion(w: Any, key: Any = None, alg: str = "ES384", **claims: Any) -> str:
    key = key or w.client_key
    now = int(time.time())
    body = {"iss": "app-1", "sub": "app-1", "aud": PUBLIC + "/auth/token", "exp": now + 240,
            "jti": uuid.uuid4().hex, **claims}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, {k: v for k, v in body.items() if v is not None},
                      key, algorithms=[alg])


def token_form(w: Any, **over: Any) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(w), "scope": "system/Claim.write"}
    return {k: v for k, v in {**form, **over}.items() if v is not None}


def ask_token(server: Server, form: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + "/auth/token", data=form, timeout=30)


def test_the_token_endpoint_issues_an_access_token(world: Any) -> None:
    r = ask_token(world.a, token_form(world, scope="system/Claim.write system/Questionnaire.read"))
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["token_type"] == "bearer" and t["expires_in"] == 300
    assert t["scope"] == "system/Claim.write system/Questionnaire.read"
    assert r.headers["cache-control"] == "no-store"
    from test_dtr_fhir import _order, _package_input  # DTR's own request for a cerclage order

    package = world.b.url + "/fhir/Questionnaire/$questionnaire-package"  # B: the key is shared
    body = json.dumps(_package_input(_order("59325"))).encode()
    fhir = {"Content-Type": "application/fhir+json"}
    assert httpx.post(package, content=body, headers=fhir, timeout=60).status_code == 401
    r = httpx.post(package, content=body, headers={**fhir, "Authorization": f"Bearer {t['access_token']}"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["resourceType"] == "Parameters"


def _other_key(w: Any) -> Any:
    return ECKey.generate_key("P-384", auto_kid=True)


# (what is wrong, the form, status, OAuth error)
TOKEN_REFUSED: list[tuple[str, Callable[[Any], dict[str, str]], int, str]] = [
    ("another grant type", lambda w: token_form(w, grant_type="password"), 400, "unsupported_grant_type"),
    ("no assertion type", lambda w: token_form(w, client_assertion_type=None), 400, "invalid_request"),
    ("an unregistered client", lambda w: token_form(w, client_assertion=assertion(w, iss="app-9", sub="app-9")),
     401, "invalid_client"),
    ("sub is not the client", lambda w: token_form(w, client_assertion=assertion(w, sub="app-2")), 401, "invalid_client"),
    ("aud is not the token endpoint", lambda w: token_form(w, client_assertion=assertion(w, aud=PUBLIC + "/fhir")),
     401, "invalid_client"),
    ("expired assertion", lambda w: token_form(w, client_assertion=assertion(w, exp=int(time.time()) - 600)),
     401, "invalid_client"),
    ("assertion valid for an hour", lambda w: token_form(w, client_assertion=assertion(w, exp=int(time.time()) + 3600)),
     401, "invalid_client"),
    ("signed by a key not registered", lambda w: token_form(w, client_assertion=assertion(w, key=_other_key(w))),
     401, "invalid_client"),
    ("a scope not registered", lambda w: token_form(w, scope="system/Patient.read"), 400, "invalid_scope"),
    ("a wider scope than registered", lambda w: token_form(w, scope="system/*.read"), 400, "invalid_scope"),
    ("no scope", lambda w: token_form(w, scope=None), 400, "invalid_scope"),
]


@pytest.mark.parametrize(("wrong", "form", "status", "error"), TOKEN_REFUSED, ids=[c[0] for c in TOKEN_REFUSED])
def test_the_token_endpoint_refuses(world: Any, wrong: str, form: Callable[[Any], dict[str, str]], status: int,
                                   error: str) -> None:
    r = ask_token(world.a, form(world))
    assert (r.status_code, r.json()["error"]) == (status, error), r.text
    assert r.json()["error_description"]


def test_a_replayed_assertion_is_refused(world: Any) -> None:
    form = token_form(world)
    assert ask_token(world.a, form).status_code == 200
    r = ask_token(world.b, form)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client") and "replay" in r.json()["error_description"]


def _access(w: Any, scope: str) -> str:
    r = ask_token(w.a, token_form(w, scope=scope))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _covkb_signed(w: Any, **claims: Any) -> str:
    from covkb.service.auth import token_key
    from covkb.store import Store

    key = token_key(Store.open(w.env["COVKB_STORE_URL"]))  # the one the servers made and keep in the store
    now = int(time.time())
    body = {"iss": PUBLIC, "sub": "app-1", "aud": PUBLIC + "/fhir", "iat": now, "exp": now + 300,
            "jti": uuid.uuid4().hex, "scope": "system/Claim.write", **claims}
    return jwt.encode({"alg": "ES384", "kid": key.kid}, body, key, algorithms=["ES384"])


# (what the caller holds, the token, status, words)
FHIR_CALLS: list[tuple[str, Callable[[Any], str | None], int, str]] = [
    ("no token", lambda w: None, 401, "no bearer token"),
    ("a CDS client's JWT", lambda w: w.ehr.token(PUBLIC + "/fhir"), 401, "not issued by this covkb"),
    ("an expired access token", lambda w: _covkb_signed(w, iat=int(time.time()) - 900, exp=int(time.time()) - 600),
     401, "expired"),
    ("an access token for another server", lambda w: _covkb_signed(w, aud="http://elsewhere.test/fhir"), 401, "aud"),
    ("read scope only, for $submit", lambda w: _access(w, "system/Questionnaire.read"), 403, "system/Claim.write"),
]


@pytest.mark.parametrize(("holds", "make", "status", "words"), FHIR_CALLS, ids=[c[0] for c in FHIR_CALLS])
def test_a_fhir_operation_needs_an_access_token_with_its_scope(world: Any, holds: str, make: Callable[[Any], Any],
                                                               status: int, words: str) -> None:
    token = make(world)
    headers = {"Content-Type": "application/fhir+json", **({"Authorization": f"Bearer {token}"} if token else {})}
    r = httpx.post(world.a.url + "/fhir/Claim/$submit", content=b"{}", headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and words in r.json()["detail"]
    if status == 403:
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
        assert 'scope="system/Claim.write"' in r.headers["www-authenticate"]


# (what the caller holds, its scope or None for no token, status): a REST determination carries a patient's facts
REST_CALLS = [("no token", None, 401), ("a claim scope only", "system/Claim.write", 403),
              ("the determination scope", "system/Determination.write", 200)]


@pytest.mark.parametrize(("holds", "scope", "status"), REST_CALLS, ids=[c[0] for c in REST_CALLS])
def test_a_rest_determination_needs_an_access_token(world: Any, holds: str, scope: str | None, status: int) -> None:
    headers = {"Authorization": f"Bearer {_access(world, scope)}"} if scope else {}
    r = httpx.post(world.a.url + "/v1/determine", json={"service": "nk_cell_test", "prior_pregnancy_losses": 2},
                   headers=headers, timeout=60)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["outcome"] == "not_covered"
    else:
        assert r.headers["content-type"] == "application/problem+json"


def test_what_stays_open(world: Any) -> None:
    conf = httpx.get(world.a.url + "/.well-known/smart-configuration").json()
    assert conf == httpx.get(world.a.url + "/fhir/.well-known/smart-configuration").json()  # SMART: under the FHIR base
    assert conf["token_endpoint"] == PUBLIC + "/auth/token"
    assert conf["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert httpx.get(world.a.url + "/fhir/metadata").status_code != 401
    assert httpx.get(world.a.url + "/healthz").status_code == 200
    assert httpx.get(world.a.url + "/v1/policies").status_code == 200  # the policy alone, no patient's facts


# -- the listener and the browser ------------------------------------------------------------

@pytest.mark.parametrize("command", [["covkb.service.app"], ["covkb.cli", "serve"]], ids=["app", "cli"])
def test_no_auth_is_refused_off_loopback(command: list[str], tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", *command, "--host", "0.0.0.0", "--port", str(free_port()), "--no-auth"],
                       capture_output=True, text=True, env=_env({"COVKB_STATE": str(tmp_path)}), timeout=120)
    assert r.returncode == 2
    assert "--no-auth is accepted only on a loopback listener, not 0.0.0.0" in r.stderr
    assert "Traceback" not in r.stderr


def test_no_auth_says_so_on_start(tmp_path: Path) -> None:
    p = subprocess.Popen([sys.executable, "-m", "covkb.service.app", "--port", str(free_port()), "--no-auth"],
                         stderr=subprocess.PIPE, text=True, env=_env({"COVKB_STATE": str(tmp_path)}))
    try:
        assert "authentication is OFF (--no-auth)" in p.stderr.readline()
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize(("server", "origin", "allowed"),
                         [("a", APP_ORIGIN, False), ("b", APP_ORIGIN, True), ("b", "https://evil.example.org", False)])
def test_cors_answers_configured_origins_only(world: Any, server: str, origin: str, allowed: bool) -> None:
    r = httpx.options(getattr(world, server).url + SERVICE,
                      headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                               "Access-Control-Request-Headers": "authorization, content-type"})
    assert (r.headers.get("access-control-allow-origin") == origin) is allowed


# -- scopes and the CapabilityStatement, without a server ------------------------------------

# (a granted scope, the resource and interaction an operation needs, whether it is allowed)
SCOPES = [
    ("system/Claim.write", "Claim", "c", True), ("system/Claim.write", "Claim", "r", False),
    ("system/Claim.read", "Claim", "r", True), ("system/*.read", "Questionnaire", "r", True),
    ("system/*.read", "Claim", "c", False), ("system/Claim.cruds", "Claim", "u", True),
    ("system/Claim.rs", "Claim", "c", False), ("system/Claim.*", "Claim", "d", True),
    ("user/Claim.write", "Claim", "c", False), ("patient/*.read", "Claim", "r", False),
    ("system/Questionnaire.read", "Claim", "r", False), ("system/Claim.xyz", "Claim", "r", False),
]


@pytest.mark.parametrize(("granted", "resource", "letter", "allowed"), SCOPES,
                         ids=[f"{g} {r}.{x}" for g, r, x, _ in SCOPES])
def test_a_scope_allows_what_it_names(granted: str, resource: str, letter: str, allowed: bool) -> None:
    from covkb.service.auth import scope_grants

    assert scope_grants(granted, resource, letter) is allowed


def test_the_capability_statement_names_the_token_endpoint() -> None:
    from fhir.resources.R4B.capabilitystatement import CapabilityStatementRestSecurity

    from covkb.service.auth import capability_security

    sec = CapabilityStatementRestSecurity(**capability_security(PUBLIC + "/"))
    assert sec.service[0].coding[0].code == "SMART-on-FHIR"
    assert sec.extension[0].extension[0].valueUri == PUBLIC + "/auth/token"


def _private_jwks(d: Path) -> str:
    (d / "private.json").write_text(json.dumps({"keys": [ECKey.generate_key("P-384", auto_kid=True).as_dict(private=True)]}))
    return str(d / "private.json")


def _public_jwks(d: Path) -> str:
    (d / "public.json").write_text(json.dumps({"keys": [ECKey.generate_key("P-384", auto_kid=True).as_dict()]}))
    return str(d / "public.json")


# (what is wrong, the JWKS file made, the scope, words of the one-line error)
CLIENT_REFUSED = [
    ("a private key", _private_jwks, "system/Claim.write", "not a JWK Set of public keys"),
    ("no such file", lambda d: str(d / "none.json"), "system/Claim.write", "none.json"),
    ("a user scope", _public_jwks, "user/Claim.write", "SMART system scopes only"),
]


@pytest.mark.parametrize(("wrong", "jwks", "scope", "words"), CLIENT_REFUSED, ids=[c[0] for c in CLIENT_REFUSED])
def test_covkb_clients_add_refuses_in_one_line(tmp_path: Path, wrong: str, jwks: Callable[[Path], str], scope: str,
                                               words: str) -> None:
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "clients", "add", "app-x", "--jwks", jwks(tmp_path),
                        "--scope", scope], capture_output=True, text=True, env=_env({"COVKB_STATE": str(tmp_path)}),
                       timeout=120)
    assert r.returncode != 0 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# (what is wrong, the trusted-issuers file's text, its suffix, words of the one-line error)
ISSUERS_REFUSED = [
    ("no such file", None, ".json", "No such file"),
    ("not TOML", "issuers = [", ".toml", "--trusted-issuers"),
    ("no issuers", '{"issuer": {}}', ".json", 'no [issuers."ISS"] table'),
    ("neither keys nor jku", '[issuers."https://e.example"]\nalgorithms = ["ES384"]\n', ".toml", "neither jwks nor jku"),
    ("a symmetric algorithm", '[issuers."https://e.example"]\njku = ["https://e.example/jwks"]\nalgorithms = ["HS256"]\n',
     ".toml", "asymmetric ones only"),
    ("a private key", json.dumps({"issuers": {"https://e.example": {"jwks": {"keys": [
        ECKey.generate_key("P-384", auto_kid=True).as_dict(private=True)]}}}}), ".json", "public keys"),
]


@pytest.mark.parametrize(("wrong", "text", "suffix", "words"), ISSUERS_REFUSED, ids=[c[0] for c in ISSUERS_REFUSED])
def test_a_bad_trusted_issuers_file_is_one_line_before_it_listens(tmp_path: Path, wrong: str, text: str | None,
                                                                  suffix: str, words: str) -> None:
    path = tmp_path / f"trusted{suffix}"
    if text is not None:
        path.write_text(text)
    r = subprocess.run([sys.executable, "-m", "covkb.service.app", "--port", str(free_port()), "--trusted-issuers",
                        str(path)], capture_output=True, text=True, env=_env({"COVKB_STATE": str(tmp_path)}), timeout=120)
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("covkb: error: --trusted-issuers") and words in line, line


def test_a_review_names_the_authenticated_client_that_recorded_it(world: Any) -> None:
    """A person's review goes through a registered client with an access token;
    the review kept says which client recorded it beside the reviewer named."""
    example = json.loads((REPO / "queries" / "fhir" / "pas" /
                          "a_service_whose_policy_text_is_not_known_is_pended_for_a_person.json").read_text())
    fhir = {"Content-Type": "application/fhir+json"}
    claim = {**fhir, "Authorization": f"Bearer {_access(world, 'system/Claim.write')}"}
    r = httpx.post(world.a.url + "/fhir/Claim/$submit?policy=" + example["policy"], json=example["bundle"],
                   headers=claim, timeout=120)
    assert r.status_code == 200, r.text
    key = r.json()["entry"][0]["resource"]["preAuthRef"]
    review = {"action": "deny", "reason": "The 2024 text is not known; asked for the records.", "reviewer": "Dr. A. Reviewer"}
    url = f"{world.a.url}/v1/reviews/{key}"
    assert httpx.post(url, json=review, headers={**claim}, timeout=60).status_code == 403  # a claim scope is not enough
    reviewer = {"Authorization": f"Bearer {_access(world, 'system/ClaimResponse.write system/ClaimResponse.read')}"}
    r = httpx.post(url, json=review, headers=reviewer, timeout=60)
    assert r.status_code == 200, r.text
    assert "Dr. A. Reviewer (through the client app-1)" in r.text


# (method, path, the scope held or None for no token, status): every route of the draft workspace needs a token
# whose scope names the Draft interaction (r: GET, c: POST, u: PUT and an edit's POST); 404 and 422 are answers past the boundary
DRAFT_CALLS = [
    ("GET", "/v1/drafts", None, 401),
    ("GET", "/v1/drafts/x", None, 401),
    ("GET", "/v1/drafts/x/review", "system/Determination.write", 403),
    ("GET", "/v1/drafts", "system/Draft.read", 200),
    ("GET", "/v1/drafts/x/export", "system/Draft.r", 404),
    ("POST", "/v1/drafts", "system/Draft.r", 403),
    ("POST", "/v1/drafts", "system/Draft.c", 422),
    ("PUT", "/v1/drafts/x", "system/Draft.c", 403),
    ("PUT", "/v1/drafts/x", "system/Draft.u", 404),
    ("POST", "/v1/drafts/x/edits", "system/Draft.c", 403),  # an edit is an update
    ("POST", "/v1/drafts/x/edits", "system/Draft.u", 422),
]


@pytest.mark.parametrize(("method", "path", "scope", "status"), DRAFT_CALLS,
                         ids=[f"{m} {p} {s} {n}" for m, p, s, n in DRAFT_CALLS])
def test_a_draft_route_needs_an_access_token_with_its_scope(world: Any, method: str, path: str, scope: str | None,
                                                            status: int) -> None:
    headers = {"Authorization": f"Bearer {_covkb_signed(world, scope=scope)}"} if scope else {}
    r = httpx.request(method, world.a.url + path, json={"text": ""}, headers=headers, timeout=60)
    assert r.status_code == status, r.text
    if status != 200:
        assert r.headers["content-type"] == "application/problem+json"
    if status == 403:
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]


def test_a_removed_clients_access_token_is_refused_on_its_next_use(world: Any) -> None:
    """covkb clients remove: the servers check the client on each use of its token (tests/test_clients.py: the rest)."""
    from covkb.service.auth import register_client, remove_client

    store = world.env["COVKB_STORE_URL"]
    register_client("app-r", str(world.dir / "client.jwks.json"), ["system/Claim.write"], store)
    r = ask_token(world.a, token_form(world, client_assertion=assertion(world, iss="app-r", sub="app-r")))
    assert r.status_code == 200, r.text
    held = {"Authorization": f"Bearer {r.json()['access_token']}", "Content-Type": "application/fhir+json"}
    r = httpx.post(world.a.url + "/fhir/Claim/$submit", content=b"{}", headers=held, timeout=30)
    assert r.status_code == 400, r.text  # let through: the body is what is wrong
    remove_client("app-r", store)
    for server in (world.a, world.b):  # every server process sharing the store
        r = httpx.post(server.url + "/fhir/Claim/$submit", content=b"{}", headers=held, timeout=30)
        assert r.status_code == 401 and "no longer registered" in r.json()["detail"], r.text

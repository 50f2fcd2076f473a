"""The token endpoint's registered clients (service/auth.py, covkb.store):
`covkb clients add|list|remove`, a client whose keys are fetched from its
registered JWKS URL (only from there: an assertion naming another jku is
refused; the tests serve the JWKS on 127.0.0.1), and a removed (or
registered again) client's access tokens refused on their next use.

The verifier runs in this process on a real store and real keys;
tests/test_auth.py does the same through real servers, with the token
endpoint's other refusals."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from covkb.commands import app
from covkb.service.auth import Refused, Verifier, list_clients, register_client, remove_client
from service_server import JwksHost

PUBLIC = "http://covkb.test"
SUBMIT = ("POST", "/fhir/Claim/$submit")


@pytest.fixture()
def world(tmp_path: Path) -> Any:
    host = JwksHost()
    w = SimpleNamespace(store=f"sqlite:///{tmp_path / 'store.sqlite3'}", host=host, dir=tmp_path,
                        key=ECKey.generate_key("P-384", auto_kid=True))
    host.jwks = {"keys": [w.key.as_dict(private=False)]}
    w.url = host.url + "/jwks.json"
    w.verifier = Verifier(SimpleNamespace(public_url=PUBLIC, trusted_issuers=None, store=w.store))
    yield w
    host.stop()


def _assertion(w: Any, client: str, **header: Any) -> str:
    now = int(time.time())
    claims = {"iss": client, "sub": client, "aud": PUBLIC + "/auth/token", "iat": now, "exp": now + 240,
              "jti": uuid.uuid4().hex}
    return jwt.encode({"alg": "ES384", "kid": w.key.kid, "typ": "JWT", **header}, claims, w.key, algorithms=["ES384"])


def _token(w: Any, client: str, **header: Any) -> str:
    form = {"grant_type": "client_credentials", "client_assertion_type":
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _assertion(w, client, **header), "scope": "system/Claim.write"}
    return w.verifier.issue(form)["access_token"]


def test_a_client_whose_keys_are_fetched_from_its_jwks_url(world: Any) -> None:
    said = register_client("app-url", None, ["system/Claim.write"], world.store, world.url)
    assert said == f"client app-url: keys from {world.url} (1 now), scopes system/Claim.write"
    token = _token(world, "app-url")
    assert world.verifier.access(token, *SUBMIT)["sub"] == "app-url"
    before = world.host.connections
    _token(world, "app-url", jku=world.url)  # naming its own URL: the keys already fetched
    assert world.host.connections == before
    with pytest.raises(Refused, match="not client app-url's registered JWKS URL"):
        _token(world, "app-url", jku=world.host.url + "/other.json")
    assert world.host.connections == before  # never fetched from a URL the assertion gives


def test_a_removed_client_gets_no_token_and_its_tokens_are_refused(world: Any) -> None:
    (world.dir / "jwks.json").write_text(json.dumps(world.host.jwks))
    register_client("app-1", str(world.dir / "jwks.json"), ["system/Claim.write"], world.store)
    token = _token(world, "app-1")
    assert world.verifier.access(token, *SUBMIT)["sub"] == "app-1"
    assert remove_client("app-1", world.store) == "client app-1 removed: its access tokens are refused from now on"
    with pytest.raises(Refused, match="no longer registered"):
        world.verifier.access(token, *SUBMIT)
    with pytest.raises(Refused, match="not registered"):
        _token(world, "app-1")
    time.sleep(1.1)  # registered again, a second later: a token from before is still refused
    register_client("app-1", str(world.dir / "jwks.json"), ["system/Claim.write"], world.store)
    with pytest.raises(Refused, match="issued before client app-1 was registered again"):
        world.verifier.access(token, *SUBMIT)
    assert world.verifier.access(_token(world, "app-1"), *SUBMIT)["sub"] == "app-1"


def test_covkb_clients_list_and_remove(world: Any) -> None:
    def cli(*args: str) -> Any:
        return CliRunner().invoke(app, ["clients", *args, "--store", world.store])

    r = cli("list")
    assert r.exit_code == 0 and r.output.strip() == "no clients registered (covkb clients add)"
    assert cli("add", "app-a", "--jwks-url", world.url, "--scope", "system/Claim.write").exit_code == 0
    (world.dir / "jwks.json").write_text(json.dumps(world.host.jwks))
    assert cli("add", "app-b", "--jwks", str(world.dir / "jwks.json"), "--scope", "system/Claim.read").exit_code == 0
    lines = cli("list").output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["app-a", "app-b"] == [x.split(":")[0] for x in list_clients(world.store)]
    assert f"keys from {world.url}" in lines[0] and "1 key(s), scopes system/Claim.read" in lines[1]
    assert cli("remove", "app-a").exit_code == 0
    assert [line.split(":")[0] for line in cli("list").output.strip().splitlines()] == ["app-b"]


# (what is wrong, the arguments after ID, words of the one-line error)
REFUSED = [
    ("neither --jwks nor --jwks-url", ["--scope", "system/Claim.write"], "one of them"),
    ("both", ["--jwks", "x.json", "--jwks-url", "http://127.0.0.1:9/k", "--scope", "system/Claim.write"], "one of them"),
    ("not http", ["--jwks-url", "file:///etc/passwd", "--scope", "system/Claim.write"], "not an http(s) URL"),
    ("nothing there", ["--jwks-url", "http://127.0.0.1:9/jwks.json", "--scope", "system/Claim.write"], "--jwks-url"),
]


@pytest.mark.parametrize(("wrong", "args", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_covkb_clients_add_and_remove_refuse_in_one_line(world: Any, wrong: str, args: list[str], words: str) -> None:
    r = CliRunner().invoke(app, ["clients", "add", "app-x", *args, "--store", world.store])
    assert r.exit_code != 0 and words in r.output and len(r.output.strip().splitlines()) == 1, r.output
    r = CliRunner().invoke(app, ["clients", "remove", "app-none", "--store", world.store])
    assert r.exit_code != 0 and "no client 'app-none'" in r.output and len(r.output.strip().splitlines()) == 1

"""Authenticated callers: CDS Hooks JWTs, and SMART Backend Services access tokens.

One boundary (``Auth``, an ASGI layer around the whole app) decides who may
call what; the routes behind it never see an unauthenticated request.

* **CDS Hooks** (``POST /cds-services/{id}``; discovery stays open, as CDS
  Hooks 2.0 lets it): the EHR's ``Authorization: Bearer`` JWT, signed with
  an asymmetric algorithm (CDS Hooks forbids ``none`` and every symmetric
  one and recommends ES384 and RS384, which are accepted; an issuer may be
  allowed others of ``ASYMMETRIC``), ``kid`` required, ``iss`` on the
  allowlist of ``covkb serve --trusted-issuers FILE``, its key from that
  issuer's JWKS (given inline, or fetched from a ``jku`` URL listed for it:
  a ``jku`` not listed is never fetched), ``aud`` the called endpoint's URL
  under ``--public-url``, ``exp``/``iat`` checked with ``LEEWAY``, and a
  ``jti`` used once across every server process (``store.use_jti``).
* **FHIR operations and the REST calls that carry a patient's facts**
  (``/fhir/*``, ``/v1/reviews``, ``POST /v1/determine`` and ``/v1/batch``;
  ``/fhir/metadata`` open, and the policy-only REST calls: policies,
  vocabulary, check, diff, compare, explanation links): a bearer access token that covkb's own token endpoint
  (``POST /auth/token``: ``client_credentials`` with a ``private_key_jwt``
  assertion signed by a client registered with ``covkb clients add``)
  issued, with the scope each operation needs (``FHIR_SCOPES``).
  Access tokens are short-lived JWTs signed with covkb's key, made on first
  start and kept in the store, shared by every server process.

Anything refused is 401 (no or bad token, with ``WWW-Authenticate``) or 403
(a scope missing), as an RFC 9457 problem document.  The web pages have a
login of their own for people (``web_auth.WebAuth``, beside this layer).
``--no-auth`` turns both off, and is accepted only on a loopback listener.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import math
import secrets
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jws import CompactSignature, JWSRegistry, extract_compact, validate_compact

from ..errors import CovkbError, InvalidRequest
from .problems import PROBLEM, dumps, from_error, problem

ASYMMETRIC = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
RECOMMENDED = ("ES384", "RS384")   # CDS Hooks 2.0 and SMART Backend Services
LEEWAY = 60                        # seconds of clock skew allowed on exp, iat
MAX_LIFETIME = 3600                # a CDS JWT valid longer than this is refused (its jti is kept that long)
ASSERTION_LIFETIME = 300           # SMART: a client assertion expires within five minutes
ACCESS_TOKEN_SECONDS = 300         # covkb's access tokens
JKU_SECONDS = 300                  # a fetched JWKS is used this long
JWKS_BYTES = 256 << 10            # a fetched JWKS's size at most
JKU_RETRY = 10.0                   # a JWKS URL is fetched again for an unknown kid at most this often
TOKEN_PATH = "/auth/token"
SMART_CONFIG_PATHS = ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration")  # SMART: under the FHIR base
TOKEN_KEY = "auth-token-key"       # the store's secret that is covkb's token key
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OPEN = frozenset({"/cds-services", "/fhir/metadata", TOKEN_PATH, *SMART_CONFIG_PATHS})

# the scope each FHIR operation needs: (method, path, resource type, interaction as SMART v2 letters);
# a path not listed needs read (GET) or create (other methods) of the resource its path names
FHIR_SCOPES: tuple[tuple[str, str, str, str], ...] = (
    ("POST", "/fhir/Questionnaire/$questionnaire-package", "Questionnaire", "r"),
    ("POST", "/fhir/Questionnaire/$next-question", "Questionnaire", "r"),
    ("POST", "/fhir/QuestionnaireResponse/$determine", "QuestionnaireResponse", "c"),
    ("POST", "/fhir/Claim/$submit", "Claim", "c"),
    ("POST", "/fhir/Claim/$inquire", "Claim", "r"),
    ("GET", "/v1/reviews", "ClaimResponse", "r"),
    ("POST", "/v1/reviews/", "ClaimResponse", "u"),
    # covkb's own REST calls with a patient's facts: "Determination" is covkb's name, not a FHIR type
    ("POST", "/v1/determine", "Determination", "c"),
    ("POST", "/v1/batch", "Determination", "c"),
    # the draft workspace: "Draft" is covkb's name (read, create, update: SMART v2 letters)
    ("GET", "/v1/drafts", "Draft", "r"),
    ("GET", "/v1/drafts/", "Draft", "r"),
    ("POST", "/v1/drafts", "Draft", "c"),
    ("PUT", "/v1/drafts/", "Draft", "u"),
    ("POST", "/v1/drafts/", "Draft", "u"),   # POST /v1/drafts/{id}/edits: a new revision
)
# REST calls that carry a patient's facts (the rest of /v1 reads only the policy)
PATIENT_REST = frozenset({("POST", "/v1/determine"), ("POST", "/v1/batch")})
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


class WouldFetch(Exception):
    """A key that only a fetch (a jku) can give: the check is done again where it may wait (a thread)."""


class Refused(Exception):
    """A call refused: its status (401, 403), OAuth error code and one line why."""

    def __init__(self, detail: str, status: int = 401, error: str = "invalid_token", scope: str = "") -> None:
        super().__init__(detail)
        self.detail, self.status, self.error, self.scope = detail, status, error, scope


# -- configuration ---------------------------------------------------------------------

@dataclass(frozen=True)
class Issuer:
    """A CDS client trusted to call: its keys (inline) and the JWKS URLs it may name."""

    iss: str
    jwks: dict[str, Any] | None
    jku: tuple[str, ...]
    algorithms: tuple[str, ...] = RECOMMENDED


def load_trusted_issuers(path: str | None) -> dict[str, Issuer]:
    """The allowlist of a TOML or JSON file: ``issuers.<iss>`` each with
    ``jwks`` (a JWK Set, inline), ``jwks_file`` (one beside the file), and/or
    ``jku`` (the JWKS URLs allowed for it), optionally ``algorithms``.
    Any mistake is a one-line InvalidRequest."""
    if not path:
        return {}
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"--trusted-issuers {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    issuers = data.get("issuers") if isinstance(data, dict) else None
    if not isinstance(issuers, dict) or not issuers:
        raise InvalidRequest(f"--trusted-issuers {path}: no [issuers.\"ISS\"] table")
    out = {}
    for iss, entry in issuers.items():
        where = f"--trusted-issuers {path}: issuer {iss!r}"
        if not isinstance(entry, dict):
            raise InvalidRequest(f"{where}: not a table")
        jwks = entry.get("jwks")
        if "jwks_file" in entry:
            try:
                jwks = json.loads((p.parent / str(entry["jwks_file"])).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InvalidRequest(f"{where}: jwks_file: {exc}") from None
        jku = entry.get("jku", [])
        jku = [jku] if isinstance(jku, str) else jku
        algs = tuple(entry.get("algorithms", RECOMMENDED))
        if jwks is None and not jku:
            raise InvalidRequest(f"{where}: neither jwks nor jku")
        if jwks is not None:
            _public_key_set(jwks, where)
        bad = [a for a in algs if a not in ASYMMETRIC]
        if bad:
            raise InvalidRequest(f"{where}: algorithms {bad} (asymmetric ones only: {', '.join(ASYMMETRIC)})")
        if not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in jku):
            raise InvalidRequest(f"{where}: jku must be http(s) URLs")
        out[iss] = Issuer(iss, jwks, tuple(jku), algs)
    return out


def _public_key_set(jwks: Any, where: str) -> KeySet:
    """A JWK Set of public asymmetric keys, each with a kid."""
    try:
        keys = [k for k in jwks["keys"]]
        if not all(isinstance(k, dict) and k.get("kid") and k.get("kty") in ("EC", "RSA") and "d" not in k
                   for k in keys):
            raise ValueError("every key must be a public EC or RSA key with a kid")
        return KeySet.import_key_set({"keys": keys})
    except (KeyError, TypeError, ValueError, JoseError) as exc:
        raise InvalidRequest(f"{where}: not a JWK Set of public keys ({exc})") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_arguments(ap: Any) -> None:
    """``python -m covkb.service.app``'s options of this module (``covkb serve`` has the same)."""
    ap.add_argument("--no-auth", action="store_true", help="callers unauthenticated (a loopback listener only)")
    ap.add_argument("--trusted-issuers", help="the CDS clients trusted (TOML or JSON)")
    ap.add_argument("--cors-origin", action="append", default=[], help="an origin browsers may call from")


def auth_settings(a: Any) -> dict[str, Any]:
    """The Settings of those options."""
    return {"auth": not a.no_auth, "trusted_issuers": a.trusted_issuers, "cors_origins": tuple(a.cors_origin)}


def preflight(host: str, settings: Any) -> int:
    """Before covkb serve starts: refuse --no-auth off loopback, say that it
    is off, read the allowlist (a mistake is one line), make the token key.
    The exit status (0: start)."""
    if not settings.auth:
        if not is_loopback(host):
            print(f"covkb: error: --no-auth is accepted only on a loopback listener, not {host}", file=sys.stderr)
            return 2
        print(f"covkb serve: authentication is OFF (--no-auth): CDS Hooks and FHIR calls are answered without "
              f"a token, and the web pages are open without a login, on {host} only", file=sys.stderr)
        return 0
    try:
        from ..store import Store

        issuers = load_trusted_issuers(settings.trusted_issuers)
        store = Store.open(settings.store)
        token_key(store)  # made once, before the server processes ask for it
        people = store.users()
    except CovkbError as err:
        print(f"covkb: error: {err.message}", file=sys.stderr)
        return 2
    if not issuers:
        print("covkb serve: no --trusted-issuers: every CDS Hooks call is refused (401)", file=sys.stderr)
    if not people:
        print("covkb serve: no users: every web page asks for a login nobody has (covkb users add NAME)",
              file=sys.stderr)
    return 0


def register_client(client_id: str, jwks_file: str | None, scopes: list[str], store_url: str | None,
                    jwks_url: str | None = None) -> str:
    """`covkb clients add`: a client's public keys (a JWK Set file, or the
    URL its keys are fetched from: fetched now to check it, and then only
    from there, as a CDS issuer's allowed jku) and scopes, checked and
    stored; a line saying so."""
    if (jwks_file is None) == (jwks_url is None):
        raise InvalidRequest("give the client's keys as --jwks FILE or --jwks-url URL (one of them)")
    where = f"--jwks {jwks_file}" if jwks_file is not None else f"--jwks-url {jwks_url}"
    try:
        if jwks_url is not None:
            if not jwks_url.startswith(("https://", "http://")):
                raise ValueError("not an http(s) URL")
            jwks = json.loads(fetch_jwks(jwks_url))
        else:
            jwks = json.loads(Path(str(jwks_file)).read_text(encoding="utf-8"))
    except Exception as exc:  # any failure to read the keys (a file, a fetch) is one line
        raise InvalidRequest(f"{where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    _public_key_set(jwks, where)
    bad = [s for s in scopes if not _covers(s, s)]
    if bad or not client_id:
        raise InvalidRequest(f"scope {' '.join(bad)}: SMART system scopes only (system/Claim.write, system/*.read, "
                             "system/Questionnaire.rs)" if bad else "a client needs an ID")
    from ..store import Store

    kept = {"keys": [], "jwks_url": jwks_url} if jwks_url is not None else {"keys": jwks["keys"]}
    Store.open(store_url).save_client(client_id, jwks=kept, scopes=list(scopes))
    keys = f"keys from {jwks_url} ({len(jwks['keys'])} now)" if jwks_url else f"{len(jwks['keys'])} key(s)"
    return f"client {client_id}: {keys}, scopes {' '.join(scopes)}"


def list_clients(store_url: str | None) -> list[str]:
    """`covkb clients list`: a line per registered client."""
    from ..store import Store

    def keys(c: Any) -> str:
        return f"keys from {c.jwks_url}" if c.jwks_url else f"{len(c.jwks.get('keys') or [])} key(s)"

    return [f"{c.client_id}: {keys(c)}, scopes {' '.join(c.scopes)}, registered {c.updated_at:%Y-%m-%d %H:%M} UTC"
            for c in Store.open(store_url).clients()]


def remove_client(client_id: str, store_url: str | None) -> str:
    """`covkb clients remove`: the client forgotten; its access tokens are refused from then on."""
    from ..store import Store

    if not Store.open(store_url).remove_client(client_id):
        raise InvalidRequest(f"no client {client_id!r}: covkb clients list shows them")
    return f"client {client_id} removed: its access tokens are refused from now on"


# -- covkb's own key -------------------------------------------------------------------

def token_key(store: Any) -> ECKey:
    """covkb's key for signing access tokens: made the first time and kept
    in the store (``Store.secret``), so that every server process, and every
    server sharing the store, signs and verifies with the one key."""
    jwk = store.secret(TOKEN_KEY, lambda: ECKey.generate_key("P-384", private=True, auto_kid=True).as_dict(private=True))
    try:
        return ECKey.import_key(jwk)
    except (ValueError, JoseError) as exc:
        raise InvalidRequest(f"covkb's token key in the store cannot be read: {exc}") from None


# -- scopes ----------------------------------------------------------------------------

def required_scope(method: str, path: str) -> tuple[str, str]:
    """(resource type, interaction letter) an operation needs."""
    for m, p, resource, letter in FHIR_SCOPES:
        if m == method and (path == p or (p.endswith("/") and path.startswith(p))):
            return resource, letter
    parts = path.split("/")
    resource = parts[2] if len(parts) > 2 and parts[2] else "*"
    return resource, ("r" if method in ("GET", "HEAD") else "c")


def scope_grants(scope: str, resource: str, letter: str) -> bool:
    """Whether one SMART system scope (v1 ``system/Claim.write``, v2
    ``system/Claim.cruds``, a resource of ``*``) allows the interaction."""
    context, _, rest = scope.partition("/")
    res, _, perm = rest.partition(".")
    if context != "system" or res not in (resource, "*"):
        return False
    letters = _V1.get(perm, perm if perm and set(perm) <= set("cruds") else "")
    return letter in letters


def scope_name(resource: str, letter: str) -> str:
    return f"system/{resource}.{'read' if letter in 'rs' else 'write'} (or system/{resource}.{letter})"


# -- keys, cached per kid --------------------------------------------------------------

@dataclass
class Keys:
    """Issuers' public keys by (iss, jku, kid): an inline JWKS imported once,
    a fetched one kept JKU_SECONDS (an unknown kid fetches again, at most
    every JKU_RETRY seconds); ``cache=False`` imports every time (the
    benchmark's comparison)."""

    issuers: dict[str, Issuer]
    fetch: Callable[[str], bytes]
    cache: bool = True
    _keys: dict[tuple[str, str, str], tuple[Any, float]] = field(default_factory=dict)
    _fetched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, issuer: Issuer, jku: str | None, kid: str, fetch: bool = True) -> Any:
        """The key; fetch False: WouldFetch where it would be fetched."""
        now = time.monotonic()
        sources = [jku] if jku else ([None] if issuer.jwks is not None else list(issuer.jku))
        for src in sources:
            hit = self._keys.get((issuer.iss, src or "", kid)) if self.cache else None
            if hit is not None and hit[1] > now:
                return hit[0]
        for src in sources:
            if src is None:
                found = self._import(issuer.jwks, kid, issuer.iss)
                ttl = float("inf")
            else:
                if not fetch:
                    raise WouldFetch(src)
                with self._lock:
                    if self.cache and now - self._fetched.get(src, -JKU_RETRY) < JKU_RETRY:
                        continue
                    self._fetched[src] = now
                try:
                    jwks = json.loads(self.fetch(src))
                except Exception as exc:  # any failure to read keys is a refusal in one line
                    raise Refused(f"the JWKS at {src} could not be read: {str(exc).splitlines()[0] if str(exc) else exc}")
                found = self._import(jwks, kid, issuer.iss)
                ttl = now + JKU_SECONDS
            if found is not None:
                if self.cache:
                    self._keys[(issuer.iss, src or "", kid)] = (found, ttl)
                return found
        raise Refused(f"issuer {issuer.iss} has no key {kid!r}")

    @staticmethod
    def _import(jwks: Any, kid: str, iss: str) -> Any:
        try:
            for k in jwks["keys"]:
                if isinstance(k, dict) and k.get("kid") == kid and "d" not in k:
                    return (ECKey if k.get("kty") == "EC" else RSAKey).import_key(k)
        except (KeyError, TypeError, ValueError, JoseError):
            raise Refused(f"issuer {iss}'s JWKS is not a JWK Set") from None
        return None


def fetch_jwks(url: str) -> bytes:
    """A JWKS over the FHIR reads' client: no redirect, 5 s in all, JWKS_BYTES at most."""
    from .fhir_read import get

    status, body = get(url, [("Accept", "application/json")], JWKS_BYTES)
    if status != 200:
        raise ValueError(f"HTTP {status}")
    return body


# -- verifying -------------------------------------------------------------------------

def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    obj, claims = _extracted(token)
    return obj.protected, claims


def _extracted(token: str) -> tuple[CompactSignature, dict[str, Any]]:
    """The token read once (not yet verified): its compact form and its claims."""
    try:
        obj = extract_compact(token.encode("ascii"))
        claims = json.loads(obj.payload)
    except (ValueError, UnicodeError, RecursionError, JoseError):
        raise Refused("the bearer token is not a signed JWT") from None
    if not isinstance(claims, dict):
        raise Refused("the bearer token's claims are not a JSON object")
    return obj, claims


def _check_claims(claims: dict[str, Any], iss: str, aud: str, now: int, lifetime: int) -> None:
    for name in ("iss", "aud", "exp", "iat", "jti"):
        if name not in claims:
            raise Refused(f"the token has no {name!r}")
    if claims["iss"] != iss:
        raise Refused(f"the token's iss is not {iss}")
    auds = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if aud not in auds:
        raise Refused(f"the token's aud is not {aud}")
    exp, iat = claims["exp"], claims["iat"]
    if not (_seconds(exp) and _seconds(iat) and isinstance(claims["jti"], str) and claims["jti"]):
        raise Refused("the token's exp and iat must be numbers of seconds, its jti a string")
    if exp < now - LEEWAY:
        raise Refused("the token has expired")
    if iat > now + LEEWAY:
        raise Refused("the token was issued in the future")
    if exp > now + lifetime + LEEWAY:
        raise Refused(f"the token is valid for over {lifetime} s")


def _seconds(value: Any) -> bool:
    """A NumericDate: a finite number (JSON's NaN and booleans are not), within datetime's years."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value < 253402300800)


def _verify_signature(token: str, key: Any, alg: str) -> None:
    try:
        jwt.decode(token, key, algorithms=[alg])
    except (JoseError, ValueError):
        raise Refused("the token's signature does not verify") from None


_REGISTRIES: dict[str, JWSRegistry] = {}


def _verify_extracted(obj: CompactSignature, key: Any, alg: str) -> None:
    """The signature of a token _extracted read, verified as jwt.decode
    verifies it (joserfc's validate_compact, which jwt.decode calls after
    reading the token again), its registry of one algorithm made once."""
    registry = _REGISTRIES.get(alg)
    if registry is None:
        registry = _REGISTRIES[alg] = JWSRegistry(algorithms=[alg])
    try:
        ok = validate_compact(obj, key, registry=registry)
    except (JoseError, ValueError):
        ok = False
    if not ok:
        raise Refused("the token's signature does not verify")


def _header_checks(header: dict[str, Any], allowed: tuple[str, ...]) -> str:
    alg = header.get("alg")
    if alg not in allowed:
        raise Refused(f"alg {alg!r} is refused: {', '.join(allowed)} only")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise Refused("the token's header has no kid")
    return alg


class Verifier:
    """What one server process checks, its keys cached."""

    def __init__(self, settings: Any) -> None:
        self.public_url = (settings.public_url or "http://127.0.0.1:8000").rstrip("/")
        self.issuers = load_trusted_issuers(settings.trusted_issuers)
        self.keys = Keys(self.issuers, fetch_jwks)
        self.client_keys = Keys({}, fetch_jwks)  # registered clients' keys fetched from their --jwks-url
        self.store_url = settings.store
        self._store: Any = None
        self._opening = threading.Lock()
        self._signing: tuple[ECKey, ECKey] | None = None

    def store(self) -> Any:
        """The store, opened when first needed (by one thread: the checks run in threads)."""
        with self._opening:
            if self._store is None:
                from ..store import Store

                self._store = Store.open(self.store_url)
        return self._store

    def signing(self) -> tuple[ECKey, ECKey]:
        """covkb's token key, and its public half (read from the store when first needed)."""
        if self._signing is None:
            key = token_key(self.store())
            self._signing = key, ECKey.import_key(key.as_dict(private=False))
        return self._signing

    def use_jti(self, iss: str, jti: str, exp: float) -> None:
        if not self.store().use_jti(iss, jti, dt.datetime.fromtimestamp(exp + LEEWAY, dt.timezone.utc)):
            raise Refused("the token's jti was used before (a replay)")

    def cds(self, token: str, path: str, fetch: bool = True) -> dict[str, Any]:
        """The claims of a CDS client's JWT for a call to path; the token read
        once, the key cached per kid, the jti written.  fetch False (in the
        event loop): WouldFetch, before anything is written, where the key
        would be fetched from a jku (then it runs again in a thread)."""
        obj, claims = _extracted(token)
        header = obj.protected
        iss = claims.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise Refused(f"issuer {iss!r} is not trusted")
        alg = _header_checks(header, issuer.algorithms)
        jku = header.get("jku")
        if jku is not None and jku not in issuer.jku:
            raise Refused(f"jku {jku!r} is not allowed for issuer {iss}")
        _verify_extracted(obj, self.keys.key(issuer, jku, header["kid"], fetch), alg)
        _check_claims(claims, iss, self.public_url + path, int(time.time()), MAX_LIFETIME)
        self.use_jti(iss, claims["jti"], claims["exp"])
        return claims

    def access(self, token: str, method: str, path: str) -> dict[str, Any]:
        """The claims of a covkb access token allowing method on path."""
        header, claims = _unverified(token)
        alg = _header_checks(header, ("ES384",))
        key, public = self.signing()
        if header["kid"] != key.kid:
            raise Refused("the token was not issued by this covkb")
        _verify_signature(token, public, alg)
        _check_claims(claims, self.public_url, self.public_url + "/fhir", int(time.time()), ACCESS_TOKEN_SECONDS)
        client = self.store().client(str(claims.get("sub")))  # each use: a removed client's tokens are refused
        if client is None:
            raise Refused(f"client {claims.get('sub')!r} is no longer registered")
        if client.updated_at is not None and claims["iat"] < int(client.updated_at.timestamp()):
            raise Refused(f"the token was issued before client {client.client_id} was registered again")
        resource, letter = required_scope(method, path)
        if not any(scope_grants(s, resource, letter) for s in str(claims.get("scope", "")).split()):
            need = scope_name(resource, letter)
            raise Refused(f"{method} {path} needs the scope {need}", 403, "insufficient_scope",
                          f"system/{resource}.{'read' if letter in 'rs' else 'write'}")
        return claims

    def issue(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint: an access token for a registered client's
        signed assertion (SMART Backend Services), or Refused with its
        OAuth error."""
        if form.get("grant_type") != "client_credentials":
            raise Refused("grant_type must be client_credentials", 400, "unsupported_grant_type")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise Refused(f"client_assertion_type must be {ASSERTION_TYPE}, with a client_assertion", 400,
                          "invalid_request")
        assertion = form["client_assertion"]
        header, claims = _unverified(assertion)
        client_id = claims.get("iss")
        client = self.store().client(client_id) if isinstance(client_id, str) else None
        try:
            if client is None or claims.get("sub") != client_id:
                raise Refused(f"client {client_id!r} is not registered (iss and sub: the client_id)")
            alg = _header_checks(header, RECOMMENDED)
            key = self._client_key(client, header)
            if key is None:
                raise Refused(f"client {client_id} has no key {header['kid']!r}")
            _verify_signature(assertion, key, alg)
            if "iat" not in claims and _seconds(claims.get("exp")):  # SMART does not require iat
                claims["iat"] = claims["exp"] - ASSERTION_LIFETIME
            _check_claims(claims, client_id, self.public_url + TOKEN_PATH, int(time.time()), ASSERTION_LIFETIME)
            self.use_jti(client_id, claims["jti"], claims["exp"])
        except Refused as exc:
            raise Refused(exc.detail, 401, "invalid_client") from None
        asked = form.get("scope", "").split()
        granted = [s for s in asked if any(_covers(c, s) for c in client.scopes)]
        if not asked or len(granted) != len(asked):
            raise Refused(f"scope {' '.join(sorted(set(asked) - set(granted))) or '(none asked)'} is not "
                          f"granted to {client_id} (registered: {' '.join(client.scopes)})", 400, "invalid_scope")
        now = int(time.time())
        claims = {"iss": self.public_url, "sub": client_id, "aud": self.public_url + "/fhir", "iat": now,
                  "exp": now + ACCESS_TOKEN_SECONDS, "jti": secrets.token_urlsafe(16), "scope": " ".join(granted)}
        key = self.signing()[0]
        token = jwt.encode({"alg": "ES384", "kid": key.kid, "typ": "at+jwt"}, claims, key,
                           algorithms=["ES384"])
        return {"access_token": token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": " ".join(granted)}

    def _client_key(self, client: Any, header: dict[str, Any]) -> Any:
        """The key an assertion names: from the client's JWK Set, or fetched
        from its registered URL (never from a jku the assertion gives: one
        other than that URL is refused)."""
        url = client.jwks_url
        if url is None:
            return Keys._import(client.jwks, header["kid"], client.client_id)
        if header.get("jku") not in (None, url):
            raise Refused(f"jku {str(header['jku'])[:200]!r} is not client {client.client_id}'s registered JWKS URL")
        return self.client_keys.key(Issuer(client.client_id, None, (url,)), None, header["kid"])

    def smart_configuration(self) -> dict[str, Any]:
        return {"issuer": self.public_url, "token_endpoint": self.public_url + TOKEN_PATH,
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": list(RECOMMENDED),
                "grant_types_supported": ["client_credentials"],
                "scopes_supported": sorted({f"system/{r}.{'read' if x in 'rs' else 'write'}"
                                            for _, _, r, x in FHIR_SCOPES}),
                "capabilities": ["client-confidential-asymmetric"]}


def capability_security(public_url: str) -> dict[str, Any]:
    """``rest.security`` of covkb's CapabilityStatement (/fhir/metadata):
    SMART Backend Services, and where its token endpoint is."""
    base = public_url.rstrip("/")
    return {"service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                     "code": "SMART-on-FHIR"}]}],
            "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                           "extension": [{"url": "token", "valueUri": base + TOKEN_PATH}]}],
            "description": "OAuth 2.0 bearer access tokens from the token endpoint (SMART Backend Services: "
                           "client_credentials with a private_key_jwt assertion); a scope per operation"}


def _covers(registered: str, asked: str) -> bool:
    """A registered scope allows every interaction the asked one names."""
    context, _, rest = asked.partition("/")
    res, _, perm = rest.partition(".")
    letters = _V1.get(perm, perm if perm and set(perm) <= set("cruds") else "")
    if context != "system" or not res or not letters:
        return False
    return all(scope_grants(registered, res, x) for x in letters)


# -- the boundary ----------------------------------------------------------------------

def _guarded(method: str, path: str) -> str | None:
    """Which check a request meets: "cds", "access" or None (open)."""
    if path in OPEN or method == "OPTIONS":
        return None
    if path.startswith("/cds-services/"):
        return "cds"
    if path.startswith("/fhir/") or path == "/fhir" or path == "/v1/reviews" or path.startswith("/v1/reviews/"):
        return "access"
    if (method, path) in PATIENT_REST or path == "/v1/drafts" or path.startswith("/v1/drafts/"):
        return "access"
    return None


def refusal(exc: Refused) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer to a refused call: a problem document, WWW-Authenticate per RFC 6750."""
    code = {401: "unauthorized", 403: "forbidden"}.get(exc.status, "invalid_request")
    body = dumps({**problem(exc.status, code, exc.detail), "error": exc.error})
    desc = exc.detail.replace("\\", "").replace('"', "'")
    challenge = f'Bearer error="{exc.error}", error_description="{desc}"'
    if exc.scope:
        challenge += f', scope="{exc.scope}"'
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    if exc.status in (401, 403):
        headers.append((b"www-authenticate", challenge.encode("latin-1", "replace")))
    return exc.status, headers, body


class Auth:
    """ASGI middleware: the checks above, before the app reads a byte."""

    def __init__(self, app: Any, settings: Any) -> None:
        self.app = app
        self.verifier = Verifier(settings) if settings.auth else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.verifier is None:
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if path == TOKEN_PATH and method == "POST":
            return await self._token(receive, send)
        if path in SMART_CONFIG_PATHS and method in ("GET", "HEAD"):
            return await _send(send, 200, [(b"content-type", b"application/json"), (b"cache-control", b"max-age=3600")],
                               dumps(self.verifier.smart_configuration()))
        check = _guarded(method, path)
        if check is not None:
            token = _bearer(scope)
            try:
                if token is None:
                    raise Refused("no bearer token: send Authorization: Bearer "
                                  + ("a JWT signed by a trusted issuer" if check == "cds" else
                                     f"an access token from {TOKEN_PATH}"))
                if check == "cds":
                    try:  # at once where its key is known (a thread's hand-over cost a fifth of an RS384 call)
                        claims = self.verifier.cds(token, path, fetch=False)
                    except WouldFetch:
                        claims = await asyncio.to_thread(self.verifier.cds, token, path)
                else:
                    claims = self.verifier.access(token, method, path)
            except Refused as exc:
                status, headers, body = refusal(exc)
                return await _send(send, status, headers, body)
            except CovkbError as err:  # the store cannot be used: 503, in one line
                return await _problem(send, *from_error(err))
            scope = {**scope, "state": {**scope.get("state", {}), "caller": claims}}
        await self.app(scope, receive, send)

    async def _token(self, receive: Any, send: Any) -> None:
        from urllib.parse import parse_qsl

        chunks = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        form = dict(parse_qsl(b"".join(chunks).decode("utf-8", "replace"), keep_blank_values=True))
        plain = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        try:
            answer = await asyncio.to_thread(self.verifier.issue, form)
        except CovkbError as err:
            return await _problem(send, *from_error(err))
        except Refused as exc:
            body = dumps({"error": exc.error, "error_description": exc.detail,
                          **problem(exc.status, exc.error, exc.detail)})
            extra = [(b"www-authenticate", b'Bearer error="invalid_client"')] if exc.status == 401 else []
            return await _send(send, exc.status, plain + extra, body)
        await _send(send, 200, plain, dumps(answer))


def _bearer(scope: dict[str, Any]) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == b"authorization":
            kind, _, token = v.decode("latin-1").partition(" ")
            return token.strip() or None if kind.lower() == "bearer" else None
    return None


async def _problem(send: Any, status: int, body: dict[str, Any]) -> None:
    await _send(send, status, [(b"content-type", PROBLEM.encode())], dumps(body))


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def cors(app: Any, settings: Any) -> Any:
    """CORS for the configured origins (none by default: no CORS answer at all)."""
    if not settings.cors_origins:
        return app
    from starlette.middleware.cors import CORSMiddleware

    return CORSMiddleware(app, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST", "PUT"],
                          allow_headers=["Authorization", "Content-Type"], max_age=600)

"""What verifying a CDS client's JWT costs, with and without the key cache
(service/auth.py ``Keys``): per token, the key found (cached; imported from
the inline JWKS; fetched from a jku on 127.0.0.1), the signature verified,
the claims checked (the jti's write to the store, one row, is not
included).

    python bench/jwt_verify.py [--n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from covkb.service.auth import MAX_LIFETIME, Issuer, Keys, _check_claims, _verify_signature, fetch_jwks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from service_server import JwksHost  # noqa: E402  (the tests' JWKS server on 127.0.0.1)

AUD = "http://covkb.test/cds-services/covkb-order-sign"


def measure(alg: str, n: int) -> dict[str, float]:
    key = ECKey.generate_key("P-384", auto_kid=True) if alg == "ES384" else RSAKey.generate_key(2048, auto_kid=True)
    jwks = {"keys": [key.as_dict(private=False)]}
    host = JwksHost()
    host.jwks, url = jwks, host.url + "/jwks.json"
    now = int(time.time())
    claims = {"iss": "ehr", "aud": AUD, "iat": now, "exp": now + 300, "jti": "x"}
    token = jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])
    out = {}
    ways = {"cached": (Issuer("ehr", jwks, (), (alg,)), None, True),
            "inline, imported each time": (Issuer("ehr", jwks, (), (alg,)), None, False),
            "jku, fetched each time": (Issuer("ehr", None, (url,), (alg,)), url, False)}
    for name, (issuer, jku, cache) in ways.items():
        keys = Keys({"ehr": issuer}, fetch_jwks, cache=cache)
        times = []
        for _ in range(n if jku is None else max(50, n // 10)):
            t = time.perf_counter()
            _verify_signature(token, keys.key(issuer, jku, key.kid), alg)
            _check_claims(claims, "ehr", AUD, int(time.time()), MAX_LIFETIME)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times) * 1e6
    host.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    for alg in ("ES384", "RS384"):
        for name, us in measure(alg, a.n).items():
            print(f"{alg}  {name:28s} {us:8.0f} µs median per token")


if __name__ == "__main__":
    main()

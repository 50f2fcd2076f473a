"""Run the example CRD requests (queries/fhir/*.json) against a running
service and check each answer: ``python -m covkb.service.examples URL``.

Each example holds a title, a sentence why, the CDS service to call, the
expected outcome and coverage information, and the hook request itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any

from ..paths import queries_dir
from ..outcomes import INDICATORS
from .crd import EXT, SUMMARY_MAX, explanation_link, invariant_violations


def examples(folder: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    folder = folder or queries_dir() / "fhir"
    return [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]


def coverage_infos(response: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for action in response.get("systemActions") or []:
        for ext in (action.get("resource") or {}).get("extension") or []:
            if ext.get("url") == EXT:
                out.append(ext)
    return out


def sub(ci: dict[str, Any], url: str) -> Any:
    for e in ci.get("extension") or []:
        if e.get("url") == url:
            return next((v for k, v in e.items() if k.startswith("value")), e.get("extension"))
    return None


def check(example: dict[str, Any], response: dict[str, Any], explanation: dict[str, Any] | None) -> list[str]:
    """What is wrong with a response to an example ([] when it is as expected)."""
    problems = []
    infos = coverage_infos(response)
    orders = [e["resource"] for e in example["hook_request"]["context"]["draftOrders"].get("entry", [])]
    if len(infos) != len(response.get("systemActions") or []) or not infos:
        problems.append(f"expected one coverage-information per action, found {len(infos)}")
        return problems
    cards = response.get("cards") or []
    if len(cards) != len(infos):
        problems.append(f"expected one card per coverage assertion, found {len(cards)} for {len(infos)}")
    for c in cards:
        if not c.get("summary") or len(c["summary"]) > SUMMARY_MAX:
            problems.append(f"card summary of {len(c.get('summary') or '')} characters (1 to {SUMMARY_MAX})")
        if c.get("indicator") not in INDICATORS:
            problems.append(f"card indicator {c.get('indicator')!r}")
    ci = infos[0]
    exp = example["expect"]
    if sub(ci, "covered") != exp["covered"]:
        problems.append(f"covered {sub(ci, 'covered')!r}, expected {exp['covered']!r}")
    if sub(ci, "info-needed") != exp.get("info-needed"):
        problems.append(f"info-needed {sub(ci, 'info-needed')!r}, expected {exp.get('info-needed')!r}")
    if sub(ci, "doc-needed") != exp.get("doc-needed"):
        problems.append(f"doc-needed {sub(ci, 'doc-needed')!r}, expected {exp.get('doc-needed')!r}")
    if sub(ci, "doc-needed") is not None and not sub(ci, "questionnaire"):
        problems.append("documentation needed, but no questionnaire named")
    if sub(ci, "doc-needed") is not None and example["hook_request"]["hook"] == "order-select":
        problems.append("order-select must not say documentation is needed")
    problems += [f"invariant {v}" for v in invariant_violations(ci)]
    # nothing else in the resource changed
    sent = next(o for o in orders if o.get("id") == response["systemActions"][0]["resource"].get("id"))
    back = dict(response["systemActions"][0]["resource"])
    back["extension"] = [e for e in back.get("extension", []) if e.get("url") != EXT]
    if not back["extension"]:
        del back["extension"]
    if back != sent:
        problems.append("the resource changed beyond the coverage-information extension")
    if explanation is not None and explanation.get("outcome") != exp["outcome"]:
        problems.append(f"outcome {explanation.get('outcome')!r}, expected {exp['outcome']!r}")
    return problems


def run(url: str, folder: Path | None = None, engine: str = "prolog") -> int:
    def send(client: Any, ex: dict[str, Any]) -> Any:
        return client.post(f"/cds-services/{ex['service']}", params={"engine": engine}, json=ex["hook_request"])

    def judge(client: Any, ex: dict[str, Any], resp: dict[str, Any]) -> tuple[list[str], str]:
        infos = coverage_infos(resp)
        link = explanation_link(infos[0]) if infos else None
        expl = client.get(link.removeprefix(url.rstrip("/"))).json() if link else None
        ci = infos[0] if infos else {}
        card = (resp.get("cards") or [{}])[0]
        return check(ex, resp, expl), (
            f"card ({card.get('indicator')}): {card.get('summary')}\n"
            f"covered: {sub(ci, 'covered')}  info-needed: {sub(ci, 'info-needed')}  outcome: "
            f"{(expl or {}).get('outcome')}\nreason: {(sub(ci, 'reason') or {}).get('text')}\nexplanation: {link}")

    return run_examples(url, examples(folder), "CRD", engine, send, judge)


def run_examples(url: str, named: list[tuple[str, dict[str, Any]]], kind: str, engine: str,
                 send: Callable[[Any, dict[str, Any]], Any],
                 judge: Callable[[Any, dict[str, Any], dict[str, Any]], tuple[list[str], str]]) -> int:
    """Each example sent to the service at url (send(client, example) -> the
    HTTP response) and its answer judged (judge(client, example, answer) ->
    (what is wrong, what it said in words)), printed; the exit status (1:
    any not as expected).  The CRD examples' runner and PAS's (pas_examples)."""
    import httpx

    failures = 0
    with httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        for name, ex in named:
            r = send(client, ex)
            if r.status_code != 200:
                print(f"=== {name}\nHTTP {r.status_code}: {r.text}\nNOT AS EXPECTED")
                failures += 1
                continue
            problems, said = judge(client, ex, r.json())
            failures += bool(problems)
            print(f"=== {name}\n{ex['title']}\nwhy: {ex['why']}\n{said}\n"
                  + ("as expected" if not problems else "NOT AS EXPECTED: " + "; ".join(problems)) + "\n")
    print(f"{len(named) - failures} of {len(named)} {kind} examples as expected ({engine})")
    return 1 if failures else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(run(args[0] if args else "http://127.0.0.1:8000", engine=args[1] if len(args) > 1 else "prolog"))

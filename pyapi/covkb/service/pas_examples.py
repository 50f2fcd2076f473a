"""Run the example PAS requests (queries/fhir/pas/*.json) against a running
service and check each answer: ``python -m covkb.service.pas_examples URL``.

Each example holds a title, a sentence why, the policy to ask, the
expected review action of each item (and the outcome its explanation link
gives) and the PAS request Bundle itself.  A submitted example is kept by
the service (covkb.store); submitting it again finds the same decision.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..paths import queries_dir
from .pas import REVIEW_ACTION


def examples(folder: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    folder = folder or queries_dir() / "fhir" / "pas"
    return [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]


def item_code(item: dict[str, Any]) -> str | None:
    """An answered item's X12 306 review action code."""
    for adj in item.get("adjudication") or []:
        for e in adj.get("extension") or []:
            if e.get("url") == REVIEW_ACTION:
                for s in e.get("extension") or []:
                    if s.get("url", "").endswith("reviewActionCode"):
                        return s["valueCodeableConcept"]["coding"][0]["code"]
    return None


def item_notes(cr: dict[str, Any], item: dict[str, Any]) -> list[str]:
    said = {n["number"]: n["text"] for n in cr.get("processNote") or []}
    return [said[n] for n in item.get("noteNumber") or [] if n in said]


def item_link(cr: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The item's explanation link (its last note says where it is)."""
    marker = "why, in the policy's words: "
    return next((t.split(marker, 1)[1] for t in item_notes(cr, item) if marker in t), None)


def item_questionnaire(answer: dict[str, Any], sequence: int) -> dict[str, Any] | None:
    """The Questionnaire an item is pended with: the one its Task's
    questionnaire-context names, carried in the answer."""
    resources = [e["resource"] for e in answer.get("entry") or []]
    for t in (r for r in resources if r.get("resourceType") == "Task"):
        inputs = t.get("input") or []
        if any((i.get("extension") or [{}])[0].get("valuePositiveInt") == sequence for i in inputs):
            url = next((i["valueString"] for i in inputs if i["type"]["coding"][0]["code"] == "questionnaire-context"), None)
            return next((r for r in resources if r.get("resourceType") == "Questionnaire" and r.get("url") == url), None)
    return None


def check(example: dict[str, Any], answer: dict[str, Any], outcome_of) -> list[str]:
    """What is wrong with an answer to an example ([] when it is as expected);
    outcome_of(link) is the outcome an explanation link gives."""
    entries = answer.get("entry") or []
    if not entries or entries[0]["resource"].get("resourceType") != "ClaimResponse":
        return ["the answer's first entry is not a ClaimResponse"]
    cr = entries[0]["resource"]
    got = {i["itemSequence"]: i for i in cr.get("item") or []}
    problems = []
    for want in example["expect"]["items"]:
        item = got.get(want["sequence"])
        if item is None:
            problems.append(f"item {want['sequence']} is not answered")
            continue
        if item_code(item) != want["x12"]:
            problems.append(f"item {want['sequence']}: {item_code(item)}, expected {want['x12']} ({want['action']})")
        if want["action"] == "pended_for_information" and item_questionnaire(answer, want["sequence"]) is None:
            problems.append(f"item {want['sequence']}: pended without the questionnaire that asks for what is missing")
        link = item_link(cr, item)
        outcome = outcome_of(link) if link else None
        if outcome != want.get("outcome"):
            problems.append(f"item {want['sequence']}: outcome {outcome!r}, expected {want.get('outcome')!r}")
    return problems


def run(url: str, folder: Path | None = None, engine: str = "prolog") -> int:
    from .examples import run_examples

    def send(client: Any, ex: dict[str, Any]) -> Any:
        return client.post("/fhir/Claim/$submit", params={"policy": ex["policy"], "engine": engine}, json=ex["bundle"])

    def judge(client: Any, ex: dict[str, Any], answer: dict[str, Any]) -> tuple[list[str], str]:
        def outcome_of(link: str) -> str | None:
            return client.get(link.removeprefix(url.rstrip("/"))).json().get("outcome")

        cr = answer["entry"][0]["resource"] if answer.get("entry") else {}
        notes = "\n".join(f"  {t}" for i in cr.get("item") or [] for t in item_notes(cr, i))
        return check(ex, answer, outcome_of), f"{cr.get('disposition')} (preAuthRef {cr.get('preAuthRef')})\n{notes}"

    return run_examples(url, examples(folder), "PAS", engine, send, judge)


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(run(args[0] if args else "http://127.0.0.1:8000", engine=args[1] if len(args) > 1 else "prolog"))

"""A synthetic policy for the diff benchmark: ~500 statements over 30 findings.

Written in the KB's own layout and fact syntax (into a temporary kb/), with
a source text holding every quote, and a mutated copy as a draft revision:
a few statements lose or gain a criterion, flip their outcome, or go.
Deterministic for a seed.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write(root: Path, services: int = 250, findings: int = 30, seed: int = 284, mutations: int = 25) -> Path:
    """Create root/kb with version 2025-02-15 and return the mutated draft's path."""
    rnd = random.Random(seed)
    kb = root / "kb"
    pol = kb / "policies" / "cigna_0284"
    (pol / "2025-02-15").mkdir(parents=True)
    (pol / "source").mkdir()
    shutil.copy(REPO / "kb" / "schema.pl", kb / "schema.pl")
    shutil.copy(REPO / "kb" / "vocabulary.pl", kb / "vocabulary.pl")
    shutil.copytree(REPO / "kb" / "engine", kb / "engine")
    fs = [f"finding_{i:02d}" for i in range(1, findings + 1)]
    svcs = [f"service_{i:03d}" for i in range(1, services + 1)]
    quotes: list[str] = []

    def q(text: str) -> str:
        quotes.append(text)
        return '"' + text + '"'

    voc = [f'service({s}, "Synthetic service {s}").' for s in svcs]
    voc += [f'finding({f}, "Synthetic finding {f}").' for f in fs]
    voc += ['patient_fact(pregnant, "pregnant").', 'patient_fact(recurrent_pregnancy_loss, "rpl").',
            'request_field(pregnant, boolean, "Pregnancy status").', 'field_fact(pregnant, pregnant).',
            'request_field(prior_pregnancy_losses, count, "Prior failed pregnancies").',
            'field_range(prior_pregnancy_losses, 0, 99).']
    (pol / "vocabulary.pl").write_text("\n".join(voc) + "\n")
    (pol / "policy.pl").write_text(
        'policy(cigna_0284, "synthetic", "Synthetic policy").\n'
        'version("2025-02-15", 20250215, 20260215, complete).\n'
        'version_source("2025-02-15", "source/2025-02-15.txt").\n')
    facts = [
        'section(coverage_policy, root, "Coverage Policy").',
        'section(revision_details, root, "Revision Details").',
        f"scope(recurrent_pregnancy_loss, coverage_policy, {q('This synthetic policy addresses recurrent pregnancy loss.')}).",
        "number_at_least(recurrent_pregnancy_loss, prior_pregnancy_losses, 2, coverage_policy, "
        f"{q('Recurrent pregnancy loss is two or more failed pregnancies.')}).",
    ]
    # a small ontology: every fifth finding has the next two as examples
    for i in range(0, findings - 2, 5):
        for c in (fs[i + 1], fs[i + 2]):
            facts.append(f"finding_example({c}, {fs[i]}, coverage_policy, {q(f'{fs[i]} (e.g., {c})')}).")
    statements: list[dict] = []
    for s in svcs:
        for preg in ("yes", "no"):
            st = {"id": f"{s}_{'pregnant' if preg == 'yes' else 'not_pregnant'}", "service": s, "pregnant": preg}
            if rnd.random() < 0.3:
                st["outcome"], st["criteria"] = rnd.choice(["not_medically_necessary", "not_covered"]), []
            else:
                st["outcome"], st["criteria"] = "medically_necessary", sorted(rnd.sample(fs, rnd.randint(2, 4)))
            statements.append(st)

    def encode(st: dict, into: list[str]) -> None:
        i = st["id"]
        into.append(f"statement({i}, coverage_policy, {st['outcome']}).")
        words = q(i + ": " + st["outcome"])
        into.append(f"statement_quote({i}, 1, {words}).")
        into.append(f"applies_to({i}, {st['service']}).")
        words = q(i + " requires pregnant " + st["pregnant"])
        into.append(f"requires({i}, pregnant, {st['pregnant']}, {words}).")
        if st["criteria"]:
            into.append(f"criteria({i}, any, {q(f'{i} with ANY of the following conditions:')}).")
            for f in st["criteria"]:
                into.append(f"criterion({i}, {f}, {f}, {q(f'{i} criterion {f}')}).")

    for st in statements:
        encode(st, facts)
    (pol / "2025-02-15" / "statements.pl").write_text("\n".join(facts) + "\n")

    draft: list[str] = ['revision_of("2025-02-15").']
    for st in rnd.sample(statements, min(mutations, len(statements))):
        st = dict(st, criteria=list(st["criteria"]))
        draft.append(f"drops_statement({st['id']}).")
        kind = rnd.choice(["drop_criterion", "add_criterion", "flip", "remove"])
        if kind == "remove":
            continue
        if kind == "drop_criterion" and len(st["criteria"]) > 1:
            st["criteria"].pop(rnd.randrange(len(st["criteria"])))
        elif kind == "add_criterion" and st["criteria"]:
            st["criteria"] = sorted(set(st["criteria"]) | {rnd.choice(fs)})
        else:
            st["outcome"] = "not_medically_necessary" if st["outcome"] == "medically_necessary" else "medically_necessary"
            if st["outcome"] == "medically_necessary" and not st["criteria"]:
                st["criteria"] = sorted(rnd.sample(fs, 2))
            if st["outcome"] != "medically_necessary":
                st["criteria"] = []
        encode(st, draft)
    (pol / "source" / "2025-02-15.txt").write_text("\n".join(dict.fromkeys(quotes)) + "\n")
    path = root / "mutated.pl"
    path.write_text("\n".join(draft) + "\n")
    return path

"""The request language of a version, as `covkb vocab` lists it: every id
a request (or a draft) may use, with its label, and the request fields.
`covkb export benchmark` writes the same listing as JSON."""

from __future__ import annotations

from typing import Any

from .facts import atom
from .policy import VersionData


def field_label(f: Any) -> str:
    kind = {"count": "a whole number", "measurement": f"a whole number ({f.unit or 'no unit'})",
            "boolean": "yes/no", "choice": "one of " + "|".join(f.values),
            "code_list": f"{f.code_system or ''} codes, repeatable".strip()}.get(f.kind, f.kind)
    alias = f"; option --{f.alias.replace('_', '-')}" if f.alias else ""
    return f"{f.label} ({kind}{alias})"


def groups(data: VersionData) -> dict[str, dict[str, str]]:
    v = data.vocabulary
    return {
        "request fields": {f.name: field_label(f) for f in sorted(v.fields.values(), key=lambda f: f.name)},
        "outcomes": v.outcomes, "services": v.services, "findings": v.findings,
        "patient facts": v.patient_facts, "qualifiers": v.qualifiers,
        "qualifier values": {f"{q}={x}": f"known value of {q}" for q, xs in v.qualifier_values.items() for x in xs},
        "cpt codes": v.codes,
        "statements": {s: f"{data.section_path(sec)}: {v.statements[s]}"
                       for s, sec in ((atom(r[0]), atom(r[1])) for r in data.rows("statement"))},
        "sections": {s: data.section_path(s) for s in data.sections},
    }

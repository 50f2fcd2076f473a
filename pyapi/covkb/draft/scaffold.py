"""A commented TOML skeleton of a draft revision of a version (``covkb draft new``)."""

from __future__ import annotations

from ..facts import atom
from .base import Revised
from .compiler import one_line
from .edits import basic_string as _toml


def scaffold(policy: Revised, version: str) -> str:
    """A commented TOML skeleton of a draft revision of a version: its
    statements (id, section, outcome, first quote), then one example table
    of each kind, commented out, to uncomment and edit."""
    data = policy.data(policy.version(version))
    v = data.vocabulary
    all_quotes: dict[str, list[str]] = {}
    for s, n, q in sorted(data.rows("statement_quote"), key=lambda r: (atom(r[0]), r[1])):
        all_quotes.setdefault(atom(s), []).append(q)
    quotes = {s: qs[0] for s, qs in all_quotes.items()}
    crits: dict[str, list[str]] = {}
    for r in data.rows("criterion"):
        crits.setdefault(atom(r[0]), []).append(atom(r[1]))
    sections = {atom(r[0]): atom(r[1]) for r in data.rows("statement")}
    statements = sorted(v.statements, key=lambda s: (data.quote_position(quotes.get(s, "")), s))
    lines = [
        f"# Draft revision of {policy.number} ({policy.title}), version {version}.",
        "# Uncomment and edit the tables you need (each may repeat); every id must be one of the",
        f"# base version's (`covkb vocab --policy {policy.number} --version {version}`). Then:",
        f"#   covkb draft check --policy {policy.number} THIS_FILE      validate, and check the revised policy",
        f"#   covkb diff --policy {policy.number} {version} THIS_FILE   which cases change",
        "# Quotes are the proposed words: put the proposed wording in a .txt beside this file",
        "# (same name) or in the wording key below.",
        "",
        f'revision_of = "{version}"',
        'title = "What this draft does, in one line"',
        "# wording = \"\"\"The proposed text of the sections this draft changes (several lines).\"\"\"",
        "",
        f"# The statements of version {version} (id: section, outcome; criteria; its first words):",
    ]
    for s in statements:
        extra = f"; criteria {', '.join(crits[s])}" if s in crits else ""
        lines.append(f"#   {s}: {sections[s]}, {v.statements[s]}{extra}")
        for q in all_quotes.get(s, [])[:1] + all_quotes.get(s, [])[1:][-1:]:  # its first and last words
            q = one_line(q)
            lines.append(f"#       {_toml(q if len(q) <= 96 else q[:95] + '…')}")
    lines += ["#", f"# sections: {', '.join(sorted(data.sections))}",
              f"# outcomes: {', '.join(v.outcomes)}", ""]
    # one example of each table; each compiles on its own once uncommented
    first = statements[0] if statements else "statement_id"
    with_crits = next((s for s in statements if s in crits), first)
    last = statements[-1] if statements else first
    ruled = {atom(r[1]) for r in data.rows("applies_to")}
    svc = next((x for x in sorted(v.services) if x not in ruled), min(v.services, default="service_id"))
    finding = next((x for x in sorted(v.findings) if x not in crits.get(with_crits, ())), "finding_id")
    fact = min(v.patient_facts, default="fact_id")
    section, outcome = sections.get(last, "section_id"), v.statements.get(last, "not_covered")
    change = ([f'# drop_criteria = ["{crits[with_crits][0]}"]', "# [[change.criterion]]", f'# finding = "{finding}"',
               '# quote = "the words of the new criterion"'] if with_crits in crits else
              [f'# outcome = "{next((o for o in v.outcomes if o != v.statements.get(with_crits)), "not_covered")}"'])
    lines += [
        "# Drop a statement (and every fact about it):",
        "# [[drop]]",
        f'# statement = "{last}"',
        "",
        "# New words for a statement, same meaning (the quotes replace its quotes):",
        "# [[reword]]",
        f'# statement = "{first}"',
        f'# quotes = [{", ".join(_toml(q) for q in all_quotes.get(first, ["its new words"]))}]',
        "",
        "# Change a statement: drop criteria, add criteria ([[change.criterion]], [[change.group]]);",
        "# outcome, section, quotes, services, requires, criteria or referral restate it with the new value:",
        "# [[change]]",
        f'# statement = "{with_crits}"',
        *change,
        "",
        "# A new statement (requires, criteria, referral and [[add.criterion]] tables are optional):",
        "# [[add]]",
        '# statement = "new_statement_id"',
        f'# section = "{section}"',
        f'# outcome = "{outcome}"',
        '# quotes = ["The lead sentence of the list it is in:", "the words of the item"]',
        f'# services = ["{svc}"]',
        f'# requires = [{{fact = "{fact}", value = "{v.domain(fact)[0]}", quote = "the words that say so"}}]',
        "",
        "# A new finding (or is_a / example_of for an existing one):",
        "# [[finding]]",
        '# id = "new_finding_id"',
        '# label = "What the finding is"',
        "",
        "# Codes of the coding table: [[drop_code]] code; [[add_code]] code, section, description,",
        "# heading, notes, services, implies; [[change_code]] code, services, implies.",
        "",
    ]
    return "\n".join(lines)

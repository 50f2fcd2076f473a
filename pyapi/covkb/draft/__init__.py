"""Draft revisions written as TOML, in the policy's words, not in Prolog.

A policy analyst names the statements a draft drops, rewords, adds or
changes (ids, quotes, labels); ``compile_draft`` validates every key and id
against the base version's vocabulary and compiles the file to the same
``Fact`` list a ``.pl`` draft holds (``revision_of/1`` first), so both
engines read one semantics.  Strings only ever become ``Fact`` arguments,
written back through ``covkb.facts`` (clingo's escaping): no value can
become Prolog or ASP source.

Every mistake is one line naming the file, the line and the key::

    drafts/x.toml:9: add.services: version V has no service 'hearing_aid' (did you mean 'hearing_aids'?); ...

``tomllib`` (the standard library since Python 3.11) reads the file;
``toml_lines`` finds the line of every key, ``compiler`` checks and
compiles, ``scaffold`` writes a commented skeleton to start from, ``edits``
writes the common changes of the web pages' form (an outcome, a criterion,
a code's services, a quote) into a draft's text as the tables they stand for.

The format (README "Drafts without writing Prolog" has a commented example)::

    revision_of = "2025-02-15"          # the base version (required)
    title = "..."                       # optional
    wording = '''...'''                 # optional proposed wording (else the .txt beside)
    [[drop]]         statement
    [[reword]]       statement, quotes                      same meaning, new words
    [[add]]          statement, section, outcome, quotes, services,
                     requires = [{fact, value, quote}], criteria = {mode, quote},
                     referral, [[add.criterion]] {finding, quote, id, group},
                     [[add.group]] {id, mode, quote, group}
    [[change]]       statement, and any of: section, outcome, quotes, services,
                     requires, criteria, referral (these restate the statement),
                     drop_criteria, [[change.criterion]], [[change.group]]
    [[finding]]      id, label (when new), is_a, example_of = {finding, section, quote}
    [[patient_fact]] id, label (when new), at_least / below = {field, number, section, quote}
    [[drop_code]]    code
    [[add_code]]     code, section, description, heading, notes, services, implies
    [[change_code]]  code, services (more), drop_services (no longer), implies
"""

from __future__ import annotations

from .compiler import CompiledDraft, DraftError, compile_draft, compile_text
from .scaffold import scaffold

__all__ = ["CompiledDraft", "DraftError", "compile_draft", "compile_text", "scaffold"]

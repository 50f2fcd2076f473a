"""A request read without the model, when it plainly is valid.

``read_request`` reads a request against the policy's vocabulary by the
rules of ``covkb.request_rules``, the same rules the pydantic model in
``covkb.request`` validates with: a request that passes them all is read
here, to the values the model would hold, so that a new process deciding
one request does not load pydantic.  A request that some rule refuses, and
anything that is not a JSON object, goes to the model, which words the
error.  The limits and checks every request obeys first are
``covkb.limits``'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequest
from .limits import COMMON_FIELDS, DEFAULT_UNLISTED, check_untrusted, engine_dict
from .request_rules import COMMON_RULES, Refusal, Rule, check_whole, declaration_error, field_rule, qualifier_rule

if TYPE_CHECKING:
    from .policy import RequestField, Vocabulary
    from .request import Request


@dataclass(frozen=True)
class PlainRequest:
    """A request read without the model: the values the Request model would hold."""

    date_of_service: dt.date | None
    service: str | None
    cpt: str | None
    findings: tuple[str, ...]
    unknown_findings: tuple[str, ...]
    absent_findings: tuple[str, ...]
    unlisted_findings: str
    own: dict[str, Any]                      # the policy's own fields and qualifiers, by name
    fields: tuple[RequestField, ...]         # the policy's fields, by name
    qualifiers: tuple[str, ...]

    def get(self, name: str) -> Any:
        """A field's value by name (a policy's own fields included)."""
        if name in self.own:
            return self.own[name]
        return getattr(self, name, None) if name in COMMON_FIELDS else None

    def engine_dict(self) -> dict[str, Any]:
        return engine_dict(self, self.fields, self.qualifiers)

    def to_json_dict(self) -> dict[str, Any]:
        """The request as a user writes it (absent fields left out)."""
        d = {"date_of_service": self.date_of_service.isoformat() if self.date_of_service else None,
             "service": self.service, "cpt": self.cpt, "findings": self.findings,
             "unknown_findings": self.unknown_findings, "absent_findings": self.absent_findings,
             "unlisted_findings": self.unlisted_findings, **self.own}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if v not in (None, [], ())}


@dataclass(frozen=True)
class _Layout:
    """What reading a policy's requests needs of its vocabulary, worked out once."""

    fields: tuple[RequestField, ...]         # the policy's fields, by name
    qualifiers: tuple[str, ...]
    rules: dict[str, Rule]                   # every field's rule, by name
    empty: dict[str, Any]                    # each own field's and qualifier's value when absent


_layouts: dict[int, tuple[Vocabulary, _Layout | None]] = {}


def _layout(vocabulary: Vocabulary) -> _Layout | None:
    """The policy's fields and qualifiers, by name, and their rules; None
    when the model would refuse the declarations themselves (it words that
    error)."""
    hit = _layouts.get(id(vocabulary))
    if hit is not None and hit[0] is vocabulary:
        return hit[1]
    fields = tuple(sorted(vocabulary.fields.values(), key=lambda f: f.name))
    quals = tuple(sorted(vocabulary.qualifiers))
    layout = None
    if declaration_error(fields, quals) is None:
        try:
            rules = {**COMMON_RULES, **{f.name: field_rule(f) for f in fields},
                     **{q: qualifier_rule(q) for q in quals}}
        except InvalidRequest:  # a kind no rule reads
            rules = None
        if rules is not None:
            empty: dict[str, Any] = {f.name: () if f.kind == "code_list" else None for f in fields}
            empty.update({q: None for q in quals})
            layout = _Layout(fields, quals, rules, empty)
    if len(_layouts) >= 16:  # a few vocabularies live at once; the entry keeps its own alive
        _layouts.clear()
    _layouts[id(vocabulary)] = (vocabulary, layout)
    return layout


def read_plain(data: dict[str, Any], vocabulary: Vocabulary, layout: _Layout) -> PlainRequest | None:
    """The request when every rule passes it, else None.  ``data`` has
    passed check_untrusted."""
    rules = layout.rules
    values: dict[str, Any] = {"date_of_service": None, "service": None, "cpt": None, "findings": (),
                              "unknown_findings": (), "absent_findings": (), "unlisted_findings": DEFAULT_UNLISTED,
                              **layout.empty}
    try:
        for k, v in data.items():
            rule = rules.get(k)
            if rule is None:
                return None
            values[k] = rule(v, vocabulary)
        check_whole(values.get, vocabulary)
    except Refusal:
        return None
    common = {k: values.pop(k) for k in COMMON_FIELDS}
    return PlainRequest(own=values, fields=layout.fields, qualifiers=layout.qualifiers, **common)


def read_request(data: Any, vocabulary: Vocabulary) -> Request | PlainRequest:
    """Untrusted data as a request of the vocabulary, or InvalidRequest with
    one line: read plainly when it plainly is valid, else by the model.
    A request read already is taken as it is when the policy declares the
    same fields (as the model takes its own instances)."""
    if isinstance(data, PlainRequest):
        layout = _layout(vocabulary)
        if layout is not None and (layout.fields, layout.qualifiers) == (data.fields, data.qualifiers):
            return data
        data = data.to_json_dict()
    layout = _layout(vocabulary) if type(data) is dict else None
    if layout is not None:
        check_untrusted(data)
        plain = read_plain(data, vocabulary, layout)
        if plain is not None:
            return plain
    from .request import parse_request

    return parse_request(data, vocabulary)


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
from dataclasses import dataclass, field
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
    # the reading plan's memo: (field, type, value) -> the value its rule reads, or _REFUSED; an entry
    # only for a value that passed check_untrusted (a batch's lines repeat their values, not their lines)
    read: dict[tuple[str, type, Any], Any] = field(default_factory=dict, compare=False, repr=False)


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
            empty: dict[str, Any] = {"date_of_service": None, "service": None, "cpt": None, "findings": (),
                                     "unknown_findings": (), "absent_findings": (),
                                     "unlisted_findings": DEFAULT_UNLISTED}
            empty.update({f.name: () if f.kind == "code_list" else None for f in fields})
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
    values = dict(layout.empty)
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


_REFUSED = object()  # a value some rule refuses: the model reads the request, and words the error
_MEMO_LIMIT = 1 << 14  # values remembered per vocabulary
_MEMO_LIST = 8  # items of a list remembered: with MAX_TEXT, the memo stays within a few tens of MB


def read_planned(data: dict[str, Any], vocabulary: Vocabulary, layout: _Layout) -> PlainRequest | None:
    """What ``check_untrusted(data)`` then ``read_plain`` give (the same
    value, the same error), each field's value checked and read once per
    distinct value: the layout remembers what the same rules made of it.  A
    value that cannot be remembered (an object, a list of other than
    strings or of more than _MEMO_LIST) is read as read_plain reads it."""
    memo, rules = layout.read, layout.rules
    values = dict(layout.empty)
    refused = False
    for k, v in data.items():
        t = type(v)
        if t is list or t is tuple:
            if len(v) > _MEMO_LIST or not all(type(x) is str for x in v):
                break
            key: tuple[str, type, Any] = (k, t, tuple(v))
        elif t is str or t is int or t is bool or v is None or t is dt.date:
            key = (k, t, v)
        else:
            break
        got = memo.get(key, memo)
        if got is memo:  # a value not met yet: checked, then read by its field's rule
            if type(k) is not str:
                break
            try:
                check_untrusted(k, "", 1)
                check_untrusted(v, k, 1)
            except InvalidRequest:
                break  # the reference words it, at the first value in order that fails
            rule = rules.get(k)
            try:
                got = _REFUSED if rule is None else rule(v, vocabulary)
            except Refusal:
                got = _REFUSED
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = got
        if got is _REFUSED:
            refused = True  # every value is still checked: a later one's limit is the error
        else:
            values[k] = got
    else:
        if refused:
            return None
        try:
            check_whole(values.get, vocabulary)
        except Refusal:
            return None
        # PlainRequest(own=..., **common) without the frozen __init__'s ten object.__setattr__ calls
        made = object.__new__(PlainRequest)
        made.__dict__.update({k: values.pop(k) for k in COMMON_FIELDS}, own=values, fields=layout.fields,
                             qualifiers=layout.qualifiers)
        return made
    check_untrusted(data)  # the reference reading, for what the plan does not remember
    return read_plain(data, vocabulary, layout)


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
        plain = read_planned(data, vocabulary, layout)
        if plain is not None:
            return plain
    from .request import parse_request

    return parse_request(data, vocabulary)


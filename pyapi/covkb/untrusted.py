"""A request read without the model, when it plainly is valid.

``read_request`` reads a request against the policy's vocabulary.  The
pydantic model in ``covkb.request`` is the definition of a valid request
and words every error; a request that is plainly valid (each value of the
exact type, every id known, every code well formed) is read here without
it, to the same values (a property test holds the two equal), so that a
new process deciding one request does not load pydantic.  Anything else,
and every error, goes to the model.  The limits and checks every request
obeys are ``covkb.limits``'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequest
from .limits import (CODE_SYSTEMS, COMMON_FIELDS, ID_RE, MAX_LIST, _plain_code, check_untrusted, engine_dict,
                     normal_cpt, parse_date)
from .policy import FIELD_KINDS

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
             "unknown_findings": self.unknown_findings, **self.own}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if v not in (None, [], ())}


def _ids(value: Any, known: Any) -> tuple[str, ...] | None:
    """A list of known ids, once each in order, or None."""
    if type(value) not in (list, tuple):
        return None
    for x in value:
        if type(x) is not str or not ID_RE.match(x) or x not in known:
            return None
    return tuple(dict.fromkeys(value))


def _own_value(f: RequestField, v: Any) -> tuple[bool, Any]:
    """(True, the value the model would hold) for a plainly valid value of a
    policy's field, else (False, None)."""
    if f.kind == "code_list":
        if type(v) not in (list, tuple) or len(v) > MAX_LIST:
            return False, None
        norm = CODE_SYSTEMS.get(f.code_system or "", (_plain_code, ""))[0]
        out = []
        for code in v:
            c = norm(code) if type(code) is str else None
            if c is None:
                return False, None
            out.append(c)
        return True, tuple(dict.fromkeys(out))
    if v is None:
        return True, None
    if f.kind == "boolean":
        return type(v) is bool, v
    if f.kind == "choice":
        return type(v) is str and bool(ID_RE.match(v)) and v in f.values, v
    if f.numeric:
        lo, hi = f.range
        return type(v) is int and lo <= v <= hi, v
    return False, None


@dataclass(frozen=True)
class _Layout:
    """What reading a policy's requests needs of its vocabulary, worked out once."""

    fields: tuple[RequestField, ...]         # the policy's fields, by name
    qualifiers: tuple[str, ...]
    by_name: dict[str, RequestField]
    empty: dict[str, Any]                    # each own field's and qualifier's value when absent


_layouts: dict[int, tuple[Vocabulary, _Layout | None]] = {}


def _layout(vocabulary: Vocabulary) -> _Layout | None:
    """The policy's fields and qualifiers, by name; None when the model would
    refuse the declarations themselves (it words that error)."""
    hit = _layouts.get(id(vocabulary))
    if hit is not None and hit[0] is vocabulary:
        return hit[1]
    fields = tuple(sorted(vocabulary.fields.values(), key=lambda f: f.name))
    quals = tuple(sorted(vocabulary.qualifiers))
    names = [f.name for f in fields] + list(quals)
    layout = None
    if len(set(names)) == len(names) and not set(names) & set(COMMON_FIELDS) and all(f.kind in FIELD_KINDS for f in fields):
        empty: dict[str, Any] = {f.name: () if f.kind == "code_list" else None for f in fields}
        empty.update({q: None for q in quals})
        layout = _Layout(fields, quals, {f.name: f for f in fields}, empty)
    if len(_layouts) >= 16:  # a few vocabularies live at once; the entry keeps its own alive
        _layouts.clear()
    _layouts[id(vocabulary)] = (vocabulary, layout)
    return layout


def read_plain(data: dict[str, Any], vocabulary: Vocabulary, layout: _Layout) -> PlainRequest | None:
    """The request when it is plainly valid (see the module's note), else
    None.  ``data`` has passed check_untrusted."""
    by_name = layout.by_name
    own = dict(layout.empty)
    common: dict[str, Any] = {"date_of_service": None, "service": None, "cpt": None,
                              "findings": (), "unknown_findings": ()}
    for k, v in data.items():
        if k in by_name:
            ok, value = _own_value(by_name[k], v)
            if not ok:
                return None
            own[k] = value
        elif k in own:  # a qualifier: any id
            if v is not None and (type(v) is not str or not ID_RE.match(v)):
                return None
            own[k] = v
        elif k == "date_of_service":
            if v is not None:
                if type(v) is not str:
                    return None
                try:
                    common[k] = parse_date(v)
                except InvalidRequest:
                    return None
        elif k == "service":
            if v is not None and (type(v) is not str or not ID_RE.match(v) or v not in vocabulary.services):
                return None
            common[k] = v
        elif k == "cpt":
            if v is not None:
                if type(v) is not str or normal_cpt(v) is None:
                    return None
                common[k] = normal_cpt(v)
        elif k in ("findings", "unknown_findings"):
            ids = _ids(v, vocabulary.findings)
            if ids is None:
                return None
            common[k] = ids
        else:
            return None
    if common["service"] is None and common["cpt"] is None:
        return None
    if set(common["findings"]) & set(common["unknown_findings"]):
        return None
    if vocabulary.out_of_bounds({f: own.get(f) for f in vocabulary.fields}):
        return None
    return PlainRequest(own=own, fields=layout.fields, qualifiers=layout.qualifiers, **common)


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


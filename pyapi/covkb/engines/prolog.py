"""SWI-Prolog through pyswip: kb/engine/evaluator.pl over one version.

pyswip drives one SWI-Prolog per process and is not thread-safe: the
evaluator is consulted once per process, each version is read into its own
module once, and every query is exhausted and closed before returning.
The evaluator answers with each case's trace; covkb.explain builds the
derivation from it, as for clingo.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import orjson

from ..derivation import reported_error
from ..determination import Case
from ..errors import EngineError, KnowledgeBaseError
from ..explain import Explainer
from ..policy import VersionData
from ..paths import cache_dir, kb_dir, write_cache

# the version modules loaded, each with the number of engines open on it: a draft's module is
# unloaded when its last engine closes (a long-running server compiles a module per draft revision)
_loaded_modules: dict[str, int] = {}
_prolog = None
_owner: int | None = None  # the thread SWI-Prolog was started from


def _swipl() -> None:
    global _prolog, _owner
    import threading

    if _owner is not None and threading.get_ident() != _owner:
        raise EngineError("SWI-Prolog can only be used from the thread that started it; "
                          "use processes for parallel work")
    if _prolog is None:
        _owner = threading.get_ident()
        _locate_swipl()
        try:
            from pyswip import Prolog
        except Exception as exc:  # pyswip raises plain exceptions when libswipl is missing
            raise EngineError(f"SWI-Prolog is not available: {exc}") from exc
        _prolog = Prolog()
        from pyswip import Functor

        if not _solve_once(Functor("use_module", 1)(str(kb_dir() / "engine" / "evaluator.pl"))):
            raise EngineError("cannot load kb/engine/evaluator.pl")


def _locate_swipl() -> None:
    """Tell pyswip where SWI-Prolog is, through its documented variables
    LIBSWIPL_PATH and SWI_HOME_DIR, from covkb's cache: pyswip otherwise runs
    `swipl --dump-runtime-variables` on every import (a noticeable part of a
    command's start).  The cache is keyed on the swipl executable; anything
    amiss and pyswip looks for itself, as before."""
    import shutil
    import subprocess

    if os.environ.get("LIBSWIPL_PATH") and os.environ.get("SWI_HOME_DIR"):
        return
    exe = shutil.which("swipl")
    folder = cache_dir()
    if exe is None or folder is None:
        return
    try:
        st = os.stat(exe)
        stamp = [os.path.realpath(exe), st.st_mtime_ns, st.st_size]
        cache = folder / "swipl.json"
        try:
            found = json.loads(cache.read_text(encoding="utf-8"))
            if found.get("stamp") != stamp:
                raise ValueError("stale")
        except (OSError, ValueError):
            out = subprocess.run([exe, "--dump-runtime-variables"], capture_output=True, text=True,
                                 timeout=20).stdout
            rt = dict(re.findall(r'^(\w+)="(.*)";$', out, re.M))
            found = {"stamp": stamp, "lib": rt.get("PLLIBSWIPL"), "home": rt.get("PLBASE")}
            write_cache(cache, json.dumps(found))
        lib, home = found.get("lib"), found.get("home")
        if isinstance(lib, str) and isinstance(home, str) and os.path.isfile(lib) and os.path.isdir(home):
            os.environ["LIBSWIPL_PATH"], os.environ["SWI_HOME_DIR"] = lib, home
    except (OSError, ValueError, subprocess.SubprocessError):
        return


def _evaluator_goal(name: str, *args: Any) -> Any:
    """covkb_evaluator:Name(Args...) as a term."""
    from pyswip import Functor

    # pyswip puts a Python str as an atom: the request JSON arrives as an atom
    # of text that the evaluator parses as JSON data.
    # Wrapped in call/1: pyswip does not run a bare Module:Goal at the top.
    return Functor("call", 1)(Functor(":", 2)("covkb_evaluator", Functor(name, len(args))(*args)))


def _solve_once(goal: Any, out: Any = None) -> Any:
    """First solution of a goal built as a term (never source text); the
    query is always closed.  Returns out's value, True, or None on failure."""
    from pyswip import Query

    q = Query(goal)
    try:
        if not q.nextSolution():
            return None
        return out.value if out is not None else True
    except Exception as exc:  # pyswip's PrologError and friends
        raise EngineError(f"Prolog error: {exc}") from exc
    finally:
        q.closeQuery()


class _TextCall:
    """One of the evaluator's text-in, text-out predicates (Module, Text,
    -Out), called through SWI-Prolog's C interface.  pyswip's Query would
    first read the whole goal back into Python objects, the request text
    included: about a fifth of a determination's time."""

    _api: Any = None

    def __init__(self, pred: str) -> None:
        api = _TextCall._api or _TextCall._bind()
        self.pred = api.predicate(pred.encode(), 3, b"covkb_evaluator")
        if not self.pred:
            raise EngineError(f"the Prolog evaluator has no {pred}/3")

    @classmethod
    def _bind(cls) -> Any:
        import ctypes
        from types import SimpleNamespace

        from pyswip import core

        # Function objects of our own (item access makes new ones), so that
        # pyswip's own prototypes are left as they are.
        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            f = core._lib[name]
            f.restype, f.argtypes = restype, list(argtypes)
            return f

        size_p, char_pp = ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_char_p)
        cls._api = SimpleNamespace(
            predicate=fn("PL_predicate", core.predicate_t, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p),
            open_frame=fn("PL_open_foreign_frame", core.fid_t),
            discard_frame=fn("PL_discard_foreign_frame", None, core.fid_t),
            new_term_refs=fn("PL_new_term_refs", core.term_t, ctypes.c_int),
            put_atom_chars=fn("PL_put_atom_chars", ctypes.c_int, core.term_t, ctypes.c_char_p),
            put_string_nchars=fn("PL_put_string_nchars", ctypes.c_int, core.term_t, ctypes.c_size_t, ctypes.c_char_p),
            open_query=fn("PL_open_query", core.qid_t, core.module_t, ctypes.c_int, core.predicate_t, core.term_t),
            next_solution=fn("PL_next_solution", ctypes.c_int, core.qid_t),
            close_query=fn("PL_close_query", None, core.qid_t),
            get_nchars=fn("PL_get_nchars", ctypes.c_int, core.term_t, size_p, char_pp, ctypes.c_uint),
            mark_buffers=fn("PL_mark_string_buffers", None, ctypes.POINTER(ctypes.c_void_p)),
            release_buffers=fn("PL_release_string_buffers_from_mark", None, ctypes.c_void_p),
            mark=ctypes.c_void_p,
            flags=core.PL_Q_NODEBUG | core.PL_Q_CATCH_EXCEPTION,
            text=core.CVT_STRING | core.REP_UTF8 | core.BUF_DISCARDABLE,
            size=ctypes.c_size_t, chars=ctypes.c_char_p, byref=ctypes.byref, string_at=ctypes.string_at,
        )
        return cls._api

    def __call__(self, module: str, text: str) -> bytes | None:
        """Out's text (UTF-8), or None when the predicate fails or raises."""
        api = self._api
        data = text.encode("ascii")  # JSON from json.dumps: ASCII, any character escaped
        # PL_get_nchars keeps its text in SWI-Prolog's string buffers, which only a return to
        # Prolog frees; called from C at the top they piled up (about 7 KB a call, until the
        # process died): released here from a mark, after the text is copied out.
        mark = api.mark()
        api.mark_buffers(api.byref(mark))
        frame = api.open_frame()
        try:
            args = api.new_term_refs(3)
            api.put_atom_chars(args, module.encode("ascii"))
            api.put_string_nchars(args + 1, len(data), data)
            qid = api.open_query(None, api.flags, self.pred, args)
            try:
                if not api.next_solution(qid):
                    return None
                n, chars = api.size(), api.chars()
                if not api.get_nchars(args + 2, api.byref(n), api.byref(chars), api.text):
                    return None
                return api.string_at(chars, n.value)
            finally:
                api.close_query(qid)
        finally:
            api.discard_frame(frame)
            api.release_buffers(mark)


_text_calls: dict[str, _TextCall] = {}


def _loads(text: bytes) -> Any:
    """The evaluator's JSON answer as json.loads reads it, with orjson (a
    few times faster) where it can: it refuses what json takes and it does
    not (an integer beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except ValueError:
        return json.loads(text.decode("utf-8"))


def _rank_then_var(a: tuple[str, Any, int]) -> tuple[int, str]:
    return (a[2], a[0])


def _tuple(v: Any) -> Any:
    """A trace atom from JSON (arrays) as clingo's decode gives it (tuples)."""
    return tuple(_tuple(x) for x in v) if isinstance(v, list) else v


class PrologEngine:
    name = "prolog"

    def __init__(self, data: VersionData) -> None:
        _swipl()
        self.module = self.module_of(data)
        if self.module not in _loaded_modules:
            from pyswip import Variable

            status = Variable()
            # Through a UTF-8 file (pyswip passes a str as Latin-1 bytes): kept in the cache, named by
            # its content, so a later process reads it as it is; else a temporary one.
            cache = cache_dir()
            if cache is not None:
                facts = cache / f"{self.module}.pl"
                if not facts.is_file():
                    write_cache(facts, data.engine_text)
                if facts.is_file():
                    res = _solve_once(_evaluator_goal("load_kb_status", self.module, [str(facts)], status), status)
            if cache is None or not facts.is_file():
                import tempfile

                with tempfile.TemporaryDirectory() as tmp:
                    facts = Path(tmp) / "facts.pl"
                    facts.write_text(data.engine_text, encoding="utf-8")
                    res = _solve_once(_evaluator_goal("load_kb_status", self.module, [str(facts)], status), status)
            text = res.decode("utf-8") if isinstance(res, bytes) else str(res)
            if text != "ok":
                raise KnowledgeBaseError(f"cannot load version {data.version.id}: {text}", code="kb_syntax")
            _loaded_modules[self.module] = 0
        _loaded_modules[self.module] += 1
        self._draft = data.version.knowledge == "draft"
        self._open = True
        self._explainer = Explainer.of(data)

    @staticmethod
    def module_of(data: VersionData) -> str:
        """The module a version's facts are loaded into: one per distinct fact
        set (a draft may be re-read after an edit)."""
        return "covkb_v_" + re.sub(r"\W", "_", data.version.id) + "_" + hashlib.sha1(
            data.engine_text.encode("utf-8")).hexdigest()[:12]

    def cases(self, request: dict[str, Any]) -> list[Case]:
        """Every completion of the request's unknowns, with its derivation
        (built from its trace by covkb.explain); with "explain": false, a
        digest of it (what citations and notices are read from)."""
        raw = self._ask("cases_json", request)
        trace = self._explainer.request(raw["facts"])
        build = trace.proof if request.get("explain", True) is not False else trace.digest
        out = []
        for c in raw["cases"]:
            assign = tuple(sorted(((a["var"], a["value"], a["rank"]) for a in c["assign"]), key=_rank_then_var))
            out.append(Case(assign, c["outcome"], c["statement"], tuple(sorted(c["criteria_met"])), c["referral"],
                            build(c["outcome"], assign, c["trace"])))
        return out

    def traces(self, request: dict[str, Any]) -> list[tuple[tuple[tuple[str, Any, int], ...], frozenset[Any]]]:
        """Each case's assignment and trace (its own atoms and the request's
        settled/3), atoms as tuples: what its derivation is built from."""
        raw = self._ask("cases_json", request)
        settled = [_tuple(a) for a in raw["facts"]]
        return [(tuple(sorted(((a["var"], a["value"], a["rank"]) for a in c["assign"]), key=_rank_then_var)),
                 frozenset(settled + [_tuple(a) for a in c["trace"]])) for c in raw["cases"]]

    def relevant_findings(self, request: dict[str, Any]) -> frozenset[str]:
        return frozenset(self._ask("relevant_findings_json", request)["findings"])

    def _ask(self, pred: str, request: dict[str, Any]) -> dict[str, Any]:
        _swipl()  # refuses a thread other than SWI-Prolog's own

        call = _text_calls.get(pred) or _text_calls.setdefault(pred, _TextCall(pred))
        res = call(self.module, json.dumps(request))
        if res is None:
            raise EngineError(f"the Prolog evaluator's {pred} failed")
        raw = _loads(res)
        if "errors" in raw:
            raise reported_error([(e["code"], e["key"], self._explainer.error_args(e["key"], e["args"]))
                                  for e in raw["errors"]])
        return raw

    def close(self) -> None:
        """SWI-Prolog lives as long as the process, and a published version's
        module stays loaded; a draft's is unloaded when no engine uses it
        any more (the service's worker closes a draft's knowledge base when
        it drops it from the drafts it keeps compiled)."""
        if not self._open:
            return
        self._open = False
        _loaded_modules[self.module] -= 1
        if self._draft and _loaded_modules[self.module] == 0:
            del _loaded_modules[self.module]
            _solve_once(_evaluator_goal("unload_kb", self.module))

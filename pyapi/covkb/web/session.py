"""Who is logged in on the request being answered: set by the web pages'
login layer (covkb.service.web_auth), read by the pages and their templates
(the header's name and role, each form's CSRF token, a draft's author).
None when nobody is (``--no-auth``: the pages are open)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.users import WebSession

CSRF_FIELD = "csrf_token"  # the form field a state-changing form carries its session's CSRF token in
CSRF_HEADER = "X-CSRF-Token"  # ... or the header an htmx or script request carries it in

current: ContextVar[WebSession | None] = ContextVar("covkb_web_session", default=None)


def csrf_field() -> str:
    """The hidden input every POST form holds (empty when nobody is logged in)."""
    from markupsafe import Markup, escape

    s = current.get()
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(s.csrf)}">') if s else Markup("")

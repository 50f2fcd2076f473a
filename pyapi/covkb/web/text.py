"""Text as a page shows it: a policy's source text without the debris of its
extraction, and code that wraps between tokens.

A version's source text (kb/policies/*/source/*.txt) is the policy as
published, extracted from a PDF or a web page: it keeps markdown links with
no target (``[Title](#)``), markdown's escapes (``\\(``), emphasis, HTML
list tags from a table cell, ``^{†}`` marks, autolinks, and table cells run
together where the extraction lost the cell boundary (a label and the date
after it: ``Date1/2/2025``).  ``clean`` reads that markup as what it
shows, the same for the text and for the quotes found in it, so every quote
is still found where it stands; no word of the text is changed.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CLEAN = (
    (re.compile(r"\*\*"), ""),                                             # emphasis
    (re.compile(r"\[([^\]\n]*)\]\((?:#[^)\s]*)?\)"), r"\1"),                # a link with no target: its words
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])"), r"\1"),                   # markdown's escapes
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),                           # an autolink: the address
    (re.compile(r"</?(?:ul|ol|li|p|br|span|div|em|strong|b|i|u)\b[^>\n]*>", re.I), ""),  # HTML tags of a table cell
    (re.compile(r"\^\{([^}\n]*)\}"), r"\1"),                                # a superscript mark
    # a label run into the date that was the next table cell's
    (re.compile(r"(?<=[A-Za-z])(?=\d{1,2}/\d{1,2}/\d{4}\b)"), "\t"),
)


def clean(text: str) -> str:
    """The text without its extraction's markup (see the module docstring)."""
    for rx, to in _CLEAN:
        text = rx.sub(to, text)
    return text


# where a fact may wrap: after an argument's comma or an opening bracket; an id too long for a line of its
# own, between its words (after an underscore); never inside a word
_TOKEN_END = re.compile(r"([,(\[])")
_LONG_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+){3,}\b")
LONG_ID = 32  # characters: an id longer than this may not fit the code column's line


def code_html(text: str) -> Markup:
    """Code as HTML that wraps only between tokens (``<wbr>`` after each
    comma and opening bracket, and between the words of a long id; the
    page's CSS breaks no word)."""
    html = _TOKEN_END.sub(r"\1<wbr>", str(escape(text)))
    return Markup(_LONG_ID.sub(lambda m: m.group(0).replace("_", "_<wbr>") if len(m.group(0)) > LONG_ID
                               else m.group(0), html))

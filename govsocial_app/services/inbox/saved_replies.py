"""Saved replies (issue 17 item 1): the shared library of replies in English and Arabic, with variables.

`text_for` picks the message's language; `fill` puts in the variables. Untrusted content (an author's name) is
only ever inserted as plain text in a reply box, never rendered as HTML."""

from __future__ import annotations

import re

from govsocial_app.db.models import SavedReply

VARIABLES = ("author_name", "agency", "profile_handle", "link")
_VAR = re.compile(r"\{([a-z_]+)\}")


def text_for(reply: SavedReply, lang: str) -> str:
    """Arabic for a message in Arabic when the reply has it, otherwise English (or whichever text it has)."""
    if (lang or "").lower().startswith("ar") and reply.text_ar.strip():
        return reply.text_ar
    return reply.text_en if reply.text_en.strip() else reply.text_ar


def fill(template: str, values: dict[str, str]) -> str:
    """Replace the known variables; an unknown `{name}` stays as written so the person sees it and edits it."""

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name in VARIABLES and name in values:
            return values[name]
        return m.group(0)

    return _VAR.sub(one, template)


def unknown_variables(template: str) -> list[str]:
    return sorted({name for name in _VAR.findall(template) if name not in VARIABLES})

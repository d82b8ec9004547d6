"""The English/Arabic message catalogue: English msgids, Arabic translations in ar.po (read with Babel)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGS = ("en", "ar")
RTL_LANGS = {"ar"}
_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    # One file per product area (ar.po, ar_inbox.po, ...) so areas can be translated independently.
    merged: dict[str, str] = {}
    for path in sorted(_DIR.glob(f"{lang}*.po")):
        with path.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        merged.update({m.id: m.string for m in cat if m.id and isinstance(m.id, str) and m.string})
    return merged


def translate(msgid: str, lang: str, **params) -> str:
    text = catalog(lang).get(msgid, msgid) if lang in LANGS else msgid
    return text.format(**params) if params else text


def is_rtl(lang: str) -> bool:
    return lang in RTL_LANGS

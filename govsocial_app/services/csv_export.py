"""CSV for spreadsheets, safe against formula injection: every CSV the app exports is written through `writer()`.

Text typed by anyone (a sign-in email, a social post, a handle) can start with = + - @ and run as a formula when
the file is opened in Excel or LibreOffice (`=HYPERLINK(...)` leaks data or phishes). defusedcsv prefixes such cells
with an apostrophe; on top of it this also defuses cells that start with a tab or carriage return, spaces before a
formula character, and the full-width forms of those characters, which some spreadsheets read as formulas too."""

from __future__ import annotations

from typing import IO, Any, Iterable

from defusedcsv import csv as defused

_FORMULA = ("=", "+", "-", "@", "|", "%")
_FULL_WIDTH = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠
_CONTROL = ("\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """What defusedcsv leaves alone but a spreadsheet may still run; defusedcsv then handles the rest."""
    if not isinstance(value, str) or not value:
        return value
    # Spaces and line breaks mixed before a formula character (" \r=") are skipped by spreadsheets too.
    first, after_spaces = value[0], value.lstrip(" \u00a0\t\r\n")[:1]
    if first in _CONTROL or first in _FULL_WIDTH or (first in (" ", "\u00a0") and (after_spaces in _FORMULA or after_spaces in _FULL_WIDTH)):
        return "'" + value
    return value


class _Writer:
    def __init__(self, out: IO[str]):
        self._w = defused.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: IO[str]) -> _Writer:
    return _Writer(out)

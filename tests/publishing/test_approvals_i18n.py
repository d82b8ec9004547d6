"""Every English string of the approval trail (queue, composer, calendar, the external approver's pages, their emails and
the notices) has an Arabic translation with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from govsocial_app.i18n import catalog

REPO = Path(__file__).resolve().parents[2]
STATE_FILES = ("govsocial_app/state/approvals.py", "govsocial_app/state/publish.py", "govsocial_app/state/calendar.py")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _server_msgids() -> set[str]:
    from govsocial_app.services.publishing import approval_content, approval_external, approval_links, approvals

    ids = {*approval_content.MSGIDS, *approval_external.MSGIDS, *approval_links.STATUS_MSGIDS, *approvals.MSGIDS}
    for path in STATE_FILES:
        ids |= set(re.findall(r'self\._\(\s*"((?:[^"\\]|\\.)*)"', (REPO / path).read_text()))
    src = (REPO / "govsocial_app/api_publishing.py").read_text()
    ids |= set(re.findall(r'\b_\(\s*"((?:[^"\\]|\\.)*)"', src))
    ids |= set(re.findall(r'_page\(lang, "((?:[^"\\]|\\.)*)"', src))
    return {i.encode().decode("unicode_escape") if "\\" in i else i for i in ids}


def _page_msgids() -> set[str]:
    import govsocial_app.govsocial_app  # noqa: F401 - the app module sets up every state first
    from govsocial_app.components import i18n
    from govsocial_app.pages import approvals, publish

    i18n.USED_MSGIDS.clear()
    approvals.page()
    publish.page()
    return set(i18n.USED_MSGIDS)


@pytest.mark.parametrize("source", ["pages", "server"])
def test_every_approval_string_is_translated_into_arabic(source):
    ids = _page_msgids() if source == "pages" else _server_msgids()
    assert len(ids) > 40
    assert sorted(i for i in ids if i not in catalog("ar")) == []


def test_translations_keep_the_placeholders():
    ar = catalog("ar")
    for msgid in _server_msgids():
        assert _placeholders(ar[msgid]) == _placeholders(msgid), msgid

"""Every user-facing message of the CAP library has an Arabic translation with the same {parameters}."""

from __future__ import annotations

import string

from govsocial_app.i18n import catalog, translate
from govsocial_app.services.cap.accessibility import MESSAGES as CHECKLIST
from govsocial_app.services.cap.accessibility import TITLES, _MEASURE_NAMES
from govsocial_app.services.cap.jurisdiction import MESSAGES as REASONS
from govsocial_app.services.cap.model import CERTAINTY_ORDER, SEVERITY_ORDER, URGENCY_ORDER


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_arabic_with_the_same_parameters():
    arabic = catalog("ar")
    msgids = (list(REASONS.values()) + list(CHECKLIST.values()) + list(TITLES.values()) + list(_MEASURE_NAMES.values())
              + list(SEVERITY_ORDER + URGENCY_ORDER + CERTAINTY_ORDER) + ["Unknown", "Severity", "Urgency", "Certainty"])
    missing = [m for m in msgids if m not in arabic]
    assert missing == []
    for msgid in msgids:
        assert _fields(arabic[msgid]) == _fields(msgid), msgid


def test_a_reason_renders_in_arabic():
    text = translate(REASONS["below_severity"], "ar", value=translate("Minor", "ar"), threshold=translate("Moderate", "ar"))
    assert text == "الخطورة طفيفة دون الحد المطلوب (متوسطة)."

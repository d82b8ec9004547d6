"""Every English string of the alert pages, states and alert texts has an Arabic translation with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from govsocial_app.i18n import catalog

REPO = Path(__file__).resolve().parents[2]
STATE_FILES = ("govsocial_app/state/alerts.py", "govsocial_app/state/alert_settings.py", "govsocial_app/state/notifications.py")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _page_msgids() -> set[str]:
    import govsocial_app.govsocial_app  # noqa: F401 - the app module sets up every state first
    from govsocial_app.components import alert_banner, i18n
    from govsocial_app.components.layout import shell
    from govsocial_app.pages import alert_settings, alerts, notifications

    i18n.USED_MSGIDS.clear()
    shell("alerts")
    layout = set(i18n.USED_MSGIDS)  # the shell's own strings belong to the shell's catalogue
    i18n.USED_MSGIDS.clear()
    for module in (alerts, notifications, alert_settings):
        module.page()
    alert_banner.alert_banner()
    alert_banner.alerts_badge()
    return set(i18n.USED_MSGIDS) - layout


def _server_msgids() -> set[str]:
    from govsocial_app.services import mailer
    from govsocial_app.services.alerting import alerts as alerting, keyword_alerts, spikes, webpush
    from govsocial_app.state import alert_settings as alert_settings_state
    from govsocial_app.state import alerts as alert_state
    from govsocial_app.state import notifications as notification_state

    ids = {*spikes.MSGIDS, *alerting.MSGIDS, *keyword_alerts.MSGIDS, *mailer.MSGIDS, webpush.TEST_TITLE, webpush.TEST_BODY}
    for labels in (alert_state.KIND_LABELS, alert_state.SEVERITY_LABELS, alert_state.CHANNEL_LABELS, alert_state.STATUS_LABELS,
                   alert_settings_state.METHOD_LABELS, notification_state.SUBSCRIBE_ERRORS):
        ids |= set(labels.values())
    for path in STATE_FILES:
        ids |= set(re.findall(r'self\._\(\s*"((?:[^"\\]|\\.)*)"', (REPO / path).read_text()))
    return ids


@pytest.mark.parametrize("source", ["pages", "server"])
def test_every_alert_string_is_translated_into_arabic(source):
    ids = _page_msgids() if source == "pages" else _server_msgids()
    assert len(ids) > 20
    missing = sorted(i for i in ids if i not in catalog("ar"))
    assert missing == []


def test_translations_keep_the_placeholders():
    ar = catalog("ar")
    for msgid in _page_msgids() | _server_msgids():
        assert _placeholders(ar[msgid]) == _placeholders(msgid), msgid

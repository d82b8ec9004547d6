"""The loading frame a page shows before its session is confirmed (components/layout.py loading_frame) holds nothing
private and its prerender-time script stays a plain inline script the CSP can allow by hash."""

from __future__ import annotations

import re


def test_the_frame_reads_no_signed_in_state():
    from govsocial_app.components.layout import loading_frame

    code = str(loading_frame("inbox", "Inbox", "Loading messages…"))
    for private in ("user_name", "user_initials", "user_email", "user_role", "auth_token"):
        assert private not in code, private
    assert "Loading messages" in code and "gs-frame" in code and "gs-frame-off" in code


def test_the_frame_check_is_inline_safe_and_marks_the_right_browsers():
    from govsocial_app.components.layout import FRAME_CHECK

    # React writes a script's text unescaped; these would end it or be read differently by the HTML parser.
    assert not re.search(r'[<>&"]', FRAME_CHECK)
    assert "gs_session" in FRAME_CHECK and "gs_lang" in FRAME_CHECK and "data-gs-frame" in FRAME_CHECK


def test_only_the_inbox_has_a_frame_and_its_words_are_translated():
    import inspect

    from govsocial_app import govsocial_app as main
    from govsocial_app.components.i18n import USED_MSGIDS
    from govsocial_app.i18n import catalog

    framed = [p.__name__ for p in main.PAGES if "frame=(" in inspect.getsource(p)]
    assert framed == ["govsocial_app.pages.inbox"]
    # Which msgids a page uses is recorded as it is built; other tests clear the record, so build the inbox here.
    USED_MSGIDS.clear()
    main.inbox.page()
    assert "Loading messages…" in USED_MSGIDS
    assert catalog("ar")["Loading messages…"] != "Loading messages…"

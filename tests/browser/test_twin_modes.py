"""Bilingual twin posts per network, on a phone from the front door: an admin switches the simulator to separate
posts, one per language (Official alerts page, a radio per network); a publisher writes English and Arabic, sees each
language's preview for that network (Arabic right to left, its own post's whole limit) and posts; the app's own
publishing job sends two posts, one per language."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, phone_context, sign_in

pytestmark = pytest.mark.browser

EN = "Boil water notice for the North End until Friday. Bring tap water to a rolling boil for one minute."
AR = "إشعار بغلي المياه في الحي الشمالي حتى يوم الجمعة. اغلوا ماء الصنبور لمدة دقيقة واحدة."


def test_an_admin_splits_a_network_and_a_twin_post_goes_out_as_one_post_per_language(browser, live_app):
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import PostTarget
    from govsocial_app.services.cap import emergency
    from tests.conftest import _SESSION_TMP, point_app_at

    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    try:
        # ---- the admin, on a phone
        ctx = phone_context(browser)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_app.url, "admin@demo.gov")
        page.get_by_role("navigation", name="Main").filter(visible=True).get_by_role("link", name="More").tap()
        page.get_by_role("link", name="Official alerts").tap()
        page.wait_for_url("**/admin/cap**")
        modes = page.get_by_role("list", name="Bilingual posts on each network")
        expect(modes.get_by_role("radio", name=re.compile(r"^X.*: Separate posts, one per language"))).to_be_checked()
        split = modes.get_by_role("radio", name=re.compile(r"^Simulator.*: Separate posts, one per language"))
        expect(split).not_to_be_checked()
        split.tap()
        expect(page.get_by_text("Saved: new twin posts go out this way on that network.")).to_be_visible()
        expect(split).to_be_checked()
        assert emergency.twin_modes()["simulator"] == "separate"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ctx.close()

        # ---- a publisher writes both versions
        ctx = phone_context(browser)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_app.url, "publisher@demo.gov")
        page.get_by_role("navigation", name="Main").filter(visible=True).get_by_role("link", name="Publish").tap()
        page.wait_for_url("**/publish**")
        page.get_by_role("group", name="Post to").get_by_role("checkbox", name=re.compile(r"\(Simulator\)")).first.tap()
        page.get_by_label("Post text").fill(EN)
        page.get_by_label("Arabic text").fill(AR)
        page.get_by_text("Preview each language on each network").tap()
        previews = page.locator("#gs-twin-previews")
        arabic = previews.get_by_label(re.compile(r"العربية · Simulator \(its own post\)"))
        expect(arabic).to_have_text(AR)
        assert arabic.get_attribute("dir") == "rtl" and arabic.get_attribute("lang") == "ar"
        expect(previews.get_by_label(re.compile(r"English · Simulator \(its own post\)"))).to_have_text(EN)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        started = datetime.now(timezone.utc)
        page.get_by_role("button", name="Post now").tap()
        expect(page.get_by_text("Publishing now.").first).to_be_visible()

        # ---- the app's publishing job sends one post per language
        deadline = started.timestamp() + 40
        while datetime.now(timezone.utc).timestamp() < deadline:
            with session_scope() as s:
                targets = s.exec(select(PostTarget).where(PostTarget.text_override.in_([EN, AR]))).all()
            if len(targets) == 2 and {t.status for t in targets} == {"published"}:
                break
            page.wait_for_timeout(500)
        assert sorted((t.language, t.text_override) for t in targets) == [("ar", AR), ("en", EN)]
        assert {t.status for t in targets} == {"published"} and len({t.external_id for t in targets}) == 2
        ctx.close()
    finally:
        from govsocial_app.services import settings_store
        from govsocial_app.services.authz import Actor

        settings_store.set_value(emergency.TWIN_MODES_SETTING, {}, Actor.system("browser test"))  # back to the defaults
        point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")

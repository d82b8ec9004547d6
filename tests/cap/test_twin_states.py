"""The twin-post screens on the real state classes: the admin chooses combined or separate per network (role-checked,
audited, in Arabic too); the composer's counters and previews follow each network's mode; the approver's queue and
the external review page show each language's text in its own direction."""

from __future__ import annotations

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.cap import emergency
from govsocial_app.services.publishing import approval_content, approvals
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.publishing.composer import ComposerInput
from tests.cap.test_twin import AR, EN, LINK, LONG_EN
from tests.cap.test_wire_states import app_state, as_role, sub  # noqa: F401  (fixtures)
from tests.publishing.conftest import make_profile


def test_the_admin_chooses_per_network_and_a_manager_cannot(app_state, as_role):  # noqa: F811
    from govsocial_app.state.admin_cap import CapAdminState

    as_role("manager")
    st = sub(app_state, CapAdminState)
    with pytest.raises(PermissionDenied):
        st.set_twin_mode("x", "combined")
    as_role("admin")
    st.load()
    rows = {r["network"]: r for r in st.twin_modes}
    assert rows["x"]["mode"] == rows["bluesky"]["mode"] == "separate" and rows["mastodon"]["mode"] == "combined"
    st.set_twin_mode("mastodon", "separate")
    assert st.error == "" and {r["network"]: r["mode"] for r in st.twin_modes}["mastodon"] == "separate"
    assert emergency.twin_modes()["mastodon"] == "separate"
    app_state.lang = "ar"
    st.set_twin_mode("mastodon", "both")
    assert st.error == "اختر منشورًا واحدًا يجمع اللغتين أو منشورات منفصلة."
    with session_scope() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "cap.twin.mode")).all()) == 1


def test_the_composer_counts_and_previews_each_language_in_each_networks_mode(app_state, as_role, tmp_path):  # noqa: F811
    from govsocial_app.state.publish import PublishState

    x = make_profile(tmp_path, network="x", handle="@riverton_x", profile_key="rx")
    masto = make_profile(tmp_path, network="mastodon", handle="@riverton@social.example", profile_key="rm")
    as_role("publisher")
    st = sub(app_state, PublishState)
    st.load()
    st.selected = [str(x), str(masto)]
    st.text, st.link = LONG_EN, LINK
    st.set_second_text(AR)
    counts = {(c.label.split(" · ")[1].split(" (")[0], c.language): c for c in st.lang_counts}
    xen, xar = counts[("X", "en")], counts[("X", "ar")]
    assert (xen.mode, xen.limit, xen.over) == ("separate", 280, False) and xar.preview.startswith(AR) and xar.direction == "rtl"
    men, mar = counts[("Mastodon", "en")], counts[("Mastodon", "ar")]
    assert men.mode == mar.mode == "combined" and men.limit < 500 and mar.limit < 500  # the shared budget
    assert "its own post" in xen.label and "one combined post" in men.label


def test_the_approver_reads_each_language_in_its_direction_inside_and_outside(app_state, as_role, actor_factory, tmp_path):  # noqa: F811
    from govsocial_app.api_publishing import _post_text
    from govsocial_app.state.approvals import ApprovalsState

    admin = actor_factory("admin")
    sim = make_profile(tmp_path)
    approvals.require_for_profile(admin, sim, approvals.save_workflow(admin, "Sign-off", [StepSpec("Managers", "any", role="manager")]))
    emergency.set_twin_mode(admin, "simulator", "separate")
    emergency.save(actor_factory("publisher"), ComposerInput(text=EN, link=LINK, profile_ids=[sim]), action="now", second_text=AR)
    as_role("manager")
    st = sub(app_state, ApprovalsState)
    st.load()
    (card,) = st.mine
    assert [n.label.rsplit(" · ", 1)[1] for n in card.networks] == ["English", "Arabic"]
    assert card.networks[1].paragraphs[0].dir == "rtl" and card.networks[1].paragraphs[0].lang == "ar"
    assert card.networks[0].paragraphs[0].dir == "ltr"

    # The external page: a post per language takes its direction; a combined post gives each paragraph its own.
    T = approval_content.TargetContent
    arabic = approval_content.render(T(1, "simulator", "@a", AR, "ar"), "")
    assert _post_text(arabic) == f'<div class="post" dir="rtl" lang="ar">{AR}</div>'
    both = approval_content.render(T(1, "simulator", "@a", emergency.combined(EN, AR + " <b>!</b>"), "en+ar"), LINK)
    html = _post_text(both)
    assert f'<p dir="ltr">{EN}</p>' in html and f'<p dir="rtl" lang="ar">{AR} &lt;b&gt;!&lt;/b&gt;</p>' in html

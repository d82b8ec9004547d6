"""External approvers: the link goes to them alone by email (staff never see it), a one-time code proves the address,
the key never appears in a URL a server logs, and images reach them through their own session. Real SMTP (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from govsocial_app import api_publishing
from govsocial_app.services.publishing import approval_content, approval_external, approvals, composer, views
from govsocial_app.services.publishing.approval_external import FormError, LinkError
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput, MediaRef
from tests.publishing.conftest import make_profile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 80
TEXT = "Curfew lifted <b>tonight</b>"
MAYOR = "mayor@city.gov"
KEY_IN_MAIL = re.compile(r"/approve(?:\?lang=ar)?#([A-Za-z0-9_\-]{40,})")
CODE_IN_MAIL = re.compile(r"\b(\d{6})\b")


def _session():
    from govsocial_app.db.engine import session_scope

    return session_scope()


def _audit(action):
    from govsocial_app.db.models import AuditLog

    with _session() as s:
        return s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _invites():
    from govsocial_app.db.models import ApprovalInvite

    with _session() as s:
        return s.exec(select(ApprovalInvite).order_by(ApprovalInvite.id)).all()


def _mails_to(peer, address):
    return [r.message for r in peer.received if address in r.rcpt_tos]


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _key(message) -> str:
    [key] = set(KEY_IN_MAIL.findall(_body(message)))
    return key


def _code(message) -> str:
    return CODE_IN_MAIL.search(message["Subject"]).group(1)


@pytest.fixture
def setup(smtp_configured, tmp_path, actor_factory):
    admin, author, manager = actor_factory("admin", "Avery Admin"), actor_factory("publisher", "Parker Publisher"), actor_factory("manager")
    pid = make_profile(tmp_path, handle="@riverton")
    approvals.require_for_profile(admin, pid, approvals.save_workflow(
        admin, "Mayor", [StepSpec("Mayor's office", "any", externals=(("Mayor's office", MAYOR),))]))
    info = composer.store_media(author, "map.png", PNG)
    r = composer.save(author, ComposerInput(text=TEXT, link="https://riverton.gov/curfew", profile_ids=[pid],
                                              media=[MediaRef(info.id, "Map of the curfew area")]), action="now")
    return {"admin": admin, "author": author, "manager": manager, "post_id": r.post_id, "profile": pid, "peer": smtp_configured}


def _deliver(**kw):
    return asyncio.run(approval_external.deliver(**kw))


class Recorder:
    """A TestClient that remembers every URL it requested, as an access log would."""

    def __init__(self):
        self.client = TestClient(Starlette(routes=api_publishing.routes()), base_url="http://127.0.0.1:3000")
        self.urls: list[str] = []

    def get(self, path, **kw):
        res = self.client.get(path, **kw)
        self.urls += [str(r.url) for r in (*res.history, res)]
        return res

    def post(self, path, **kw):
        res = self.client.post(path, **kw)
        self.urls += [str(r.url) for r in (*res.history, res)]
        return res


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


# ---------------------------------------------------------------- the link goes to the approver only


def test_the_link_is_emailed_to_the_approver_and_no_one_on_staff_can_get_it(setup):
    peer = setup["peer"]
    assert _deliver().sent == 1
    [mail] = _mails_to(peer, MAYOR)
    assert len(peer.received) == 1 and mail["To"] == MAYOR
    key = _key(mail)
    assert "Parker Publisher" in _body(mail) and "one-time code" in _body(mail)
    # The server keeps only a hash of the key; nothing a member of staff can read holds it.
    [invite] = _invites()
    assert invite.key_hash and invite.key_hash != key and invite.status == "sent"
    for who in ("author", "manager", "admin"):
        assert key not in repr(approvals.queue(setup[who], all_pending=True))
    assert not hasattr(approvals, "external_links") and not hasattr(approval_external, "external_links")
    with _session() as s:
        from govsocial_app.db.models import AuditLog

        assert all(key not in repr(row.detail) for row in s.exec(select(AuditLog)).all())
    [sent] = _audit("approval.link_sent")
    assert sent.detail["email"] == MAYOR
    # Staff see that it went, not what it says.
    [item] = approvals.queue(setup["admin"], all_pending=True)
    assert [(e.email, e.msgid) for e in item.externals] == [(MAYOR, "Link sent {when}")]


def test_the_whole_external_flow_over_http(setup):
    peer = setup["peer"]
    _deliver()
    key = _key(_mails_to(peer, MAYOR)[0])
    web = Recorder()

    start = web.get("/approve")
    assert start.status_code == 200 and '<script src="/approve/open.js"' in start.text and TEXT not in start.text
    assert web.get("/approve/open.js").headers["content-type"].startswith("text/javascript")

    opened = web.post("/approve/open", data={"key": key}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/approve?lang=en"
    cookie = opened.headers["set-cookie"]
    assert "gs_approval=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/approve" in cookie
    code_page = web.get("/approve")
    assert "m•••@city.gov" in code_page.text and "Curfew lifted" not in code_page.text  # nothing shown before the code
    assert web.get("/approve/image/1").status_code == 404

    code = _code(peer.wait_for(2)[1].message)
    bad = "000000" if code != "000000" else "111111"
    wrong = web.post("/approve/code", data={"code": bad, "csrf": _csrf(code_page.text)})
    assert wrong.status_code == 422 and "That code is not right. 4 tries left." in wrong.text
    assert web.post("/approve/code", data={"code": code, "csrf": "forged"}).status_code == 403
    web.post("/approve/code", data={"code": code, "csrf": _csrf(code_page.text)})

    review = web.get("/approve")
    assert review.status_code == 200
    assert "Curfew lifted &lt;b&gt;tonight&lt;/b&gt;\n\nhttps://riverton.gov/curfew" in review.text  # escaped, never rendered
    assert "@riverton" in review.text and 'alt="Map of the curfew area"' in review.text and "Version 1" in review.text
    assert review.headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in review.headers["content-security-policy"]
    image = web.get("/approve/image/1")
    assert image.status_code == 200 and image.content == PNG and image.headers["cache-control"] == "private, no-store"
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', review.text).group(1)
    assert seen == approval_content.current_hash(setup["post_id"])

    done = web.post("/approve/decide", data={"name": "Pat Mayor", "decision": "approved", "comment": "Go", "seen": seen,
                                             "csrf": _csrf(review.text)})
    assert done.status_code == 200 and "Your approval has been recorded" in done.text
    assert views.post_view(setup["post_id"]).status == "scheduled"
    [row] = _audit("approval.external_approved")
    assert row.actor_label == f"Pat Mayor <{MAYOR}> (external approver)" and row.detail["content_hash"] == seen
    assert [a.action for a in _audit("approval.code_verified")] == ["approval.code_verified"]
    assert len(_audit("approval.code_wrong")) == 1
    # The session is over (its cookie is gone and the visit closed), and the link with it.
    assert "Curfew lifted" not in web.get("/approve").text
    with pytest.raises(LinkError, match="session has ended"):
        approval_external.review(opened.cookies.get("gs_approval") or cookie.split("gs_approval=")[1].split(";")[0])
    again = web.post("/approve/open", data={"key": key})
    assert again.status_code == 410 and "already decided" in again.text

    # Item 4: the key never travelled in a URL path or query, so no access log can hold it.
    assert web.urls and all(key not in url for url in web.urls)


def test_links_of_the_old_kind_open_nothing(db):
    web = Recorder()
    old = web.get("/approve/eyJwIjoxLCJzIjoxfQ.c2lnbmF0dXJl")
    assert old.status_code == 410 and "expired" in old.text
    assert web.get("/approve/open.js").status_code == 200


def test_arabic_pages_are_right_to_left(setup):
    _deliver()
    key = _key(_mails_to(setup["peer"], MAYOR)[0])
    assert "?lang=ar#" in _body(_mails_to(setup["peer"], MAYOR)[0])
    web = Recorder()
    page = web.post("/approve/open?lang=ar", data={"key": key})
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text and "أرسلنا" in page.text


# ---------------------------------------------------------------- the one-time code


def _open(setup, now=None):
    _deliver(now=now)
    key = _key(_mails_to(setup["peer"], MAYOR)[-1])
    return approval_external.open_link(key, now=now)


def test_codes_are_stored_hashed_expire_and_lock_after_five_wrong_tries(setup):
    t0 = datetime.now(timezone.utc)
    mail = _open(setup, now=t0)
    from govsocial_app.db.models import ApprovalVisit

    with _session() as s:
        [visit] = s.exec(select(ApprovalVisit)).all()
        assert visit.code_hash and mail.code not in repr(visit.model_dump()) and mail.sid not in repr(visit.model_dump())
    with pytest.raises(FormError, match="expired"):
        approval_external.check_code(mail.sid, mail.code, now=t0 + timedelta(minutes=10, seconds=1))

    mail = approval_external.new_code(mail.sid, now=t0 + timedelta(minutes=11))
    wrong = "999999" if mail.code != "999999" else "888888"
    for left in (4, 3, 2, 1):
        with pytest.raises(FormError) as err:
            approval_external.check_code(mail.sid, wrong, now=t0 + timedelta(minutes=12))
        assert err.value.params == {"left": str(left)}
    with pytest.raises(FormError, match="Too many wrong codes"):
        approval_external.check_code(mail.sid, wrong, now=t0 + timedelta(minutes=12))
    with pytest.raises(FormError):  # even the right code is dead now
        approval_external.check_code(mail.sid, mail.code, now=t0 + timedelta(minutes=12))
    assert len(_audit("approval.code_wrong")) == 5

    mail = approval_external.new_code(mail.sid, now=t0 + timedelta(minutes=13))
    approval_external.check_code(mail.sid, f" {mail.code[:3]} {mail.code[3:]} ", now=t0 + timedelta(minutes=14))
    assert approval_external.review(mail.sid, now=t0 + timedelta(minutes=14)).stage == "review"


def test_at_most_five_codes_an_hour_reach_one_address(setup):
    t0 = datetime.now(timezone.utc)
    mail = _open(setup, now=t0)
    for i in range(4):
        approval_external.new_code(mail.sid, now=t0 + timedelta(minutes=i + 1))
    with pytest.raises(FormError, match="Too many codes"):
        approval_external.new_code(mail.sid, now=t0 + timedelta(minutes=6))
    # Opening the link again does not reset the count.
    key = _key(_mails_to(setup["peer"], MAYOR)[-1])
    with pytest.raises(FormError, match="Too many codes"):
        approval_external.open_link(key, now=t0 + timedelta(minutes=7))
    approval_external.open_link(key, now=t0 + timedelta(minutes=61, seconds=1))


def test_the_content_is_hidden_until_the_code_is_confirmed(setup):
    mail = _open(setup)
    view = approval_external.review(mail.sid)
    assert view.stage == "code" and view.targets == () and view.content_hash == ""
    with pytest.raises(LinkError):
        approval_external.image(mail.sid, 1)
    with pytest.raises(FormError, match="code from the email first"):
        approval_external.decide(mail.sid, "Pat", "approved", "", approval_content.current_hash(setup["post_id"]))


def test_the_decision_is_bound_to_what_the_approver_read(setup):
    mail = _open(setup)
    approval_external.check_code(mail.sid, mail.code)
    seen = approval_external.review(mail.sid).content_hash
    with pytest.raises(FormError, match="changed while you were reading"):
        approval_external.decide(mail.sid, "Pat", "approved", "", "0" * 64)
    assert approval_external.decide(mail.sid, "Pat", "approved", "", seen).finished


# ---------------------------------------------------------------- links die when they should


def test_staff_can_resend_which_replaces_the_old_link(setup):
    t0 = datetime.now(timezone.utc)
    _deliver(now=t0)
    old = _key(_mails_to(setup["peer"], MAYOR)[0])
    with pytest.raises(UserError, match="less than a minute"):
        approval_external.resend(setup["author"], setup["post_id"], now=t0 + timedelta(seconds=30))
    ids = approval_external.resend(setup["manager"], setup["post_id"], now=t0 + timedelta(minutes=2))
    assert _deliver(ids=ids, now=t0 + timedelta(minutes=2)).sent == 1
    new = _key(_mails_to(setup["peer"], MAYOR)[1])
    assert new != old
    with pytest.raises(LinkError, match="replaced by a newer one"):
        approval_external.open_link(old, now=t0 + timedelta(minutes=3))
    approval_external.open_link(new, now=t0 + timedelta(minutes=3))
    [row] = _audit("approval.link_resend")
    assert row.detail["emails"] == [MAYOR] and row.actor_id == setup["manager"].user_id
    from govsocial_app.services.authz import PermissionDenied

    with pytest.raises(PermissionDenied):
        approval_external.resend(setup["author"].__class__(None, "viewer", "viewer"), setup["post_id"])


def test_a_changed_post_kills_the_link_and_a_new_one_is_sent(setup):
    _deliver()
    old = _key(_mails_to(setup["peer"], MAYOR)[0])
    composer.save(setup["author"], ComposerInput(text="Curfew lifted at midnight", profile_ids=[setup["profile"]]), action="now",
                    post_id=setup["post_id"])
    with pytest.raises(LinkError, match="no longer needs a decision from this link"):
        approval_external.open_link(old)
    assert _deliver().sent == 1
    approval_external.open_link(_key(_mails_to(setup["peer"], MAYOR)[1]))


def test_links_expire_after_72_hours(setup):
    t0 = datetime.now(timezone.utc)
    _deliver(now=t0)
    key = _key(_mails_to(setup["peer"], MAYOR)[0])
    with pytest.raises(LinkError, match="expired"):
        approval_external.open_link(key, now=t0 + timedelta(hours=72, seconds=1))
    for bad in ("", "x" * 43, key[:-1]):
        with pytest.raises(LinkError, match="not valid"):
            approval_external.open_link(bad, now=t0)


def test_an_unreachable_mail_server_is_retried_then_the_author_is_told(db, tmp_path, actor_factory):
    import socket

    from govsocial_app.services import mailer

    admin, author = actor_factory("admin"), actor_factory("publisher")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    mailer.save_config(mailer.SmtpConfig("127.0.0.1", dead, starttls=False, sender="x@test.gov"), admin)
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Legal", [StepSpec("Legal", "any", externals=(("Legal", "legal@city.gov"),))]))
    r = composer.save(author, ComposerInput(text="Notice", profile_ids=[pid]), action="now")
    t = datetime.now(timezone.utc)
    for _ in range(approval_external.MAX_SEND_ATTEMPTS):
        report = _deliver(now=t)
        assert report.failed == 1
        [invite] = _invites()
        assert invite.key_hash is None  # a key that reached no one is forgotten
        t = (invite.next_attempt_at.replace(tzinfo=timezone.utc) if invite.next_attempt_at else t) + timedelta(seconds=1)
    [invite] = _invites()
    assert invite.status == "failed" and invite.attempts == approval_external.MAX_SEND_ATTEMPTS
    from govsocial_app.db.models import Alert

    with _session() as s:
        titles = [a.data["i18n"]["title"] for a in s.exec(select(Alert)).all() if author.user_id in a.data.get("user_ids", [])]
    assert approval_external.SEND_FAILED in titles
    [item] = approvals.queue(admin, all_pending=True)
    assert item.externals[0].msgid == "Could not send the link: {error}" and item.post_id == r.post_id


# ---------------------------------------------------------------- images for staff


def test_staff_images_come_from_short_lived_private_addresses(setup, actor_factory):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    [item] = approvals.queue(setup["admin"], all_pending=True)
    url = approvals.media_url(setup["manager"].user_id, item.media[0].media_id)
    assert url.startswith("/api/approval-media/") and "/_upload" not in url
    web = Recorder()
    res = web.get(url)
    assert res.status_code == 200 and res.content == PNG and res.headers["content-type"] == "image/png"
    assert res.headers["cache-control"] == "private, no-store"
    later = datetime.now(timezone.utc) + approvals.MEDIA_URL_TTL + timedelta(seconds=1)
    assert approvals.open_media(url.rsplit("/", 1)[1], now=later) is None
    forged = url.replace(f"/{setup['manager'].user_id}.", f"/{setup['admin'].user_id}.")
    assert web.get(forged).status_code == 404
    auth.set_active(setup["manager"].user_id, False, Actor.system("test"))
    assert web.get(url).status_code == 404  # a deactivated user's address stops working at once

"""HTTP routes for publishing: the per-user iCal feed, the external approvers' pages (plain HTML forms, no account; one
small script reads the link's key from the URL fragment), and private images for approvers."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from govsocial_app.config import get_settings
from govsocial_app.i18n import is_rtl, translate
from govsocial_app.services import mailer
from govsocial_app.services.publishing import approval_content, approval_external, approvals, ical
from govsocial_app.services.errors import UserError

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c2024}
main{max-width:640px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border:1px solid #dfe3e6;border-radius:12px;padding:16px;margin:16px 0}
.post{white-space:pre-wrap;overflow-wrap:anywhere;font-size:17px;margin:8px 0}
.net{font-weight:600;margin:0}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border-radius:8px;border:1px solid #dfe3e6;display:block}
figcaption{font-size:14px;color:#60646c;margin-top:4px}
label{display:block;margin:12px 0 4px;font-weight:600}
input,textarea{width:100%;box-sizing:border-box;font:inherit;padding:10px;border:1px solid #b9bbc6;border-radius:8px;min-height:44px}
input[name=code]{font-size:24px;letter-spacing:.3em;text-align:center;direction:ltr}
fieldset{border:0;padding:0;margin:12px 0}
.choice{display:flex;gap:8px;align-items:center;min-height:44px}
.choice input{width:auto;min-height:0}
button{font:inherit;font-weight:600;padding:12px 20px;border-radius:8px;border:0;background:#3e63dd;color:#fff;min-height:44px;cursor:pointer}
button.secondary{background:transparent;color:#3e63dd;border:1px solid #3e63dd}
nav.lang{display:flex;gap:12px;justify-content:flex-end}nav.lang a{display:inline-flex;align-items:center;min-height:44px;color:#3e63dd}
.muted{color:#60646c;font-size:14px}.error{background:#ffefef;border-color:#f3b0a2;color:#8c1d18}.ok{background:#eefbf3;border-color:#9fd9b4}
.ltr{direction:ltr;unicode-bidi:isolate}
"""
# Reads the link's key from the URL fragment (never sent to any server, so never in an access log), drops it from
# the address bar and the history, and posts it once in a form body.
_OPEN_JS = """(function () {
  var key = location.hash.slice(1);
  if (!key) return;
  history.replaceState(null, "", location.pathname + location.search);
  var main = document.getElementById("gs-main"), opening = document.getElementById("gs-opening");
  if (main) main.hidden = true;
  if (opening) opening.hidden = false;
  var form = document.getElementById("gs-open");
  form.elements.key.value = decodeURIComponent(key);
  form.submit();
})();
"""
_CSP = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
COOKIE = "gs_approval"


def _lang(request: Request, form: dict | None = None) -> str:
    wanted = request.query_params.get("lang") or (form or {}).get("lang") or request.headers.get("accept-language", "")
    return "ar" if str(wanted)[:2].lower() == "ar" else "en"


def _t(lang: str):
    return lambda m, **p: html.escape(translate(m, lang, **p))


def _page(lang: str, title: str, body: str, status: int = 200, *, switch: bool = True) -> HTMLResponse:
    _ = _t(lang)
    other, other_name = ("en", "English") if lang == "ar" else ("ar", "العربية")
    nav = f'<nav class="lang" aria-label="{_("Language")}"><a href="/approve?lang={other}" lang="{other}">{other_name}</a></nav>' if switch else ""
    doc = (
        f'<!doctype html><html lang="{lang}" dir="{"rtl" if is_rtl(lang) else "ltr"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        f'<title>{_(title)} · GovSocial</title><style>{_STYLE}</style><script src="/approve/open.js" defer></script></head><body><main>'
        f"{nav}<h1>{_(title)}</h1>"
        f'<p id="gs-opening" role="status" hidden>{_("Opening your approval link…")}</p>'
        f'<div id="gs-main">{body}</div>'
        # Always present, so a link opened while an older visit is still on this device replaces it.
        f'<form id="gs-open" method="post" action="/approve/open?lang={lang}" hidden><input type="hidden" name="key"></form>'
        "</main></body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=_NO_STORE)


_NO_STORE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
             "X-Content-Type-Options": "nosniff", "Content-Security-Policy": _CSP}


def _ltr(text: str) -> str:
    return f"\u2066{text}\u2069"


def _when(dt: datetime | None) -> str:
    # Isolated left-to-right, so "2026-12-06 13:55 UTC" reads the same inside an Arabic sentence.
    return _ltr(dt.strftime("%Y-%m-%d %H:%M UTC")) if dt else ""


def _error_card(message: str) -> str:
    return f'<div class="card error" role="alert">{html.escape(message)}</div>'


def _client(request: Request) -> tuple[str, str]:
    return (request.client.host if request.client else ""), request.headers.get("user-agent", "")[:300]


def _form_error(lang: str, exc: UserError) -> str:
    if isinstance(exc, approval_external.FormError):
        return translate(exc.msgid, lang, **exc.params)
    return translate(str(exc), lang)


def _start_page(lang: str, error: str = "") -> str:
    _ = _t(lang)
    return "".join([
        _error_card(error) if error else "",
        f'<p>{_("Open the approval link from your email on this device. It shows the post once you confirm a code we email to you.")}</p>',
        '<noscript><form method="post" action="/approve/open?lang=' + lang + '" class="card">',
        f'<p>{_("This page reads your link with JavaScript, which is off. Paste the part of the link after the # sign here instead.")}</p>',
        f'<label for="key">{_("Link key")}</label><input id="key" name="key" required autocomplete="off" class="ltr">',
        f'<p><button type="submit">{_("Open")}</button></p></form></noscript>',
    ])


def _code_page(lang: str, sid: str, view: approval_external.ReviewView, error: str = "") -> str:
    _ = _t(lang)
    csrf = approval_external.csrf_token(sid)
    sent = (_("To confirm it is you, we emailed a 6-digit code to {email}. It works for 10 minutes.", email=_ltr(view.email_masked))
            if view.code_sent else _("No code is waiting for you: send a new one."))
    return "".join([
        f'<p>{sent}</p>',
        _error_card(error) if error else "",
        f'<form method="post" action="/approve/code?lang={lang}" class="card">',
        f'<input type="hidden" name="csrf" value="{csrf}">',
        f'<label for="code">{_("Code from the email")}</label>',
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required autofocus>',
        f'<p><button type="submit">{_("Confirm")}</button></p></form>',
        f'<form method="post" action="/approve/new-code?lang={lang}"><input type="hidden" name="csrf" value="{csrf}">',
        f'<button type="submit" class="secondary">{_("Send a new code")}</button></form>',
    ])


def _post_text(r) -> str:
    """A network's text. Where its paragraphs run in different directions (a combined twin post: English, then
    Arabic), each paragraph gets its own; else the whole text takes the one it has (Arabic: right to left)."""
    directions = {d for _, d in r.paragraphs}
    if len(directions) > 1:
        return '<div class="post">' + "".join(
            f'<p dir="{d}"{LANG_AR if d == "rtl" else ""}>{html.escape(p)}</p>' for p, d in r.paragraphs) + "</div>"
    direction = "rtl" if directions == {"rtl"} else "auto"
    return f'<div class="post" dir="{direction}"{LANG_AR if direction == "rtl" else ""}>{html.escape(r.text)}</div>'


LANG_AR = ' lang="ar"'


def _review_page(lang: str, sid: str, view: approval_external.ReviewView, error: str = "", values: dict | None = None) -> str:
    _ = _t(lang)
    v = {k: html.escape(str(x)) for k, x in (values or {}).items()}
    when = _("Planned for {when}", when=_when(view.scheduled_at)) if view.scheduled_at else _("To go out as soon as it is approved")
    checked = {d: " checked" if v.get("decision") == d else "" for d in ("approved", "rejected")}
    parts = [
        f'<p>{_("You have been asked to approve this post before it is published.")} '
        f'{_("This is exactly what each network will receive.")}</p>',
        f'<p class="muted">{_("Version {n}", n=str(view.version))} · {_("Step")}: {html.escape(view.step_name)} · {when}</p>',
    ]
    for r in view.targets:
        note = translate(r.note_msgid, lang, **dict(r.note_params)) if r.note_msgid else ""
        parts += [
            '<section class="card">',
            f'<p class="net">{html.escape(r.label)} · <span class="ltr">{html.escape(r.handle)}</span>'
            + (f' · {html.escape(translate(approval_content.LANGUAGE_LABELS[r.language], lang))}' if r.language in approval_content.LANGUAGE_LABELS else "")
            + '</p>',
            # Each paragraph in its own direction: a twin post's Arabic reads right to left, its English left to right.
            _post_text(r),
            f'<p class="muted">{html.escape(note)}</p>' if note else "",
            "</section>",
        ]
    if view.images:
        parts.append(f'<section class="card"><p class="net">{_("Images")}</p>')
        for n, alt in enumerate(view.images, start=1):
            parts.append(f'<figure><img src="/approve/image/{n}" alt="{html.escape(alt)}">'
                         f'<figcaption>{_("Image {n}, described as:", n=str(n))} <bdi>{html.escape(alt)}</bdi></figcaption></figure>')
        parts.append("</section>")
    parts += [
        f'<p class="muted">{_("You confirmed your address, {email}, with a code.", email=_ltr(view.email))} '
        f'{_("This link works until {when}", when=_when(view.expires))}</p>',
        _error_card(error) if error else "",
        f'<form method="post" action="/approve/decide?lang={lang}" class="card">',
        f'<input type="hidden" name="csrf" value="{approval_external.csrf_token(sid)}">',
        f'<input type="hidden" name="seen" value="{html.escape(view.content_hash)}">',
        f'<label for="name">{_("Your name")}</label><input id="name" name="name" required autocomplete="name" dir="auto" value="{v.get("name", html.escape(view.invited_name))}">',
        f'<fieldset><legend><strong>{_("Your decision")}</strong></legend>',
        f'<label class="choice"><input type="radio" name="decision" value="approved" required{checked["approved"]}> {_("Approve")}</label>',
        f'<label class="choice"><input type="radio" name="decision" value="rejected"{checked["rejected"]}> {_("Reject")}</label></fieldset>',
        f'<label for="comment">{_("Comment (needed to reject)")}</label><textarea id="comment" name="comment" rows="3" dir="auto">{v.get("comment", "")}</textarea>',
        f'<p><button type="submit">{_("Send my decision")}</button></p>',
        "</form>",
    ]
    return "".join(parts)


def _sid(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


async def _render(request: Request, lang: str, error: str = "", values: dict | None = None, status: int = 200) -> Response:
    sid = _sid(request)
    if not sid:
        return _page(lang, "Approve a post", _start_page(lang, error), status)
    try:
        view = await anyio.to_thread.run_sync(lambda: approval_external.review(sid))
    except UserError as exc:
        return _page(lang, "Approval link", _start_page(lang, translate(str(exc), lang)), 410)
    if view.stage == "code":
        return _page(lang, "Confirm it is you", _code_page(lang, sid, view, error), status)
    return _page(lang, "Approve a post", _review_page(lang, sid, view, error, values), status)


async def approve_page(request: Request) -> Response:
    return await _render(request, _lang(request))


async def approve_script(_request: Request) -> Response:
    return Response(_OPEN_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


def _set_cookie(response: Response, sid: str) -> None:
    secure = get_settings().public_url.startswith("https://")
    response.set_cookie(COOKIE, sid, max_age=int(approval_external.VISIT_TTL.total_seconds()) + 600, path="/approve",
                        httponly=True, samesite="strict", secure=secure)


async def _send_code(mail: approval_external.CodeMail) -> str:
    subject, text = approval_external.code_mail_text(mail.code)
    try:
        await mailer.send_mail([mail.email], subject, text)
        error = ""
    except Exception as exc:  # noqa: BLE001 - the visitor is told and can ask for a new code; the reason is audited
        error = str(exc)[:300] or type(exc).__name__
    await anyio.to_thread.run_sync(lambda: approval_external.code_sent(mail.sid, error))
    return error


async def approve_open(request: Request) -> Response:
    form = await request.form()
    lang = _lang(request, form)
    key = str(form.get("key", ""))[:300]
    ip, ua = _client(request)
    try:
        mail = await anyio.to_thread.run_sync(lambda: approval_external.open_link(key, client_ip=ip, user_agent=ua))
    except UserError as exc:
        return _page(lang, "Approval link", _start_page(lang, _form_error(lang, exc)), 410)
    await _send_code(mail)
    response = RedirectResponse(f"/approve?lang={lang}", status_code=303)  # the page says if the code did not go
    _set_cookie(response, mail.sid)
    return response


async def _checked_form(request: Request) -> tuple[dict, str, str] | Response:
    form = await request.form()
    lang, sid = _lang(request, form), _sid(request)
    if not approval_external.check_csrf(sid, str(form.get("csrf", ""))):
        return _page(lang, "Approval link", _start_page(lang, translate(approval_external.SESSION_ENDED, lang)), 403)
    return {k: str(v)[:2000] for k, v in form.items()}, lang, sid


async def approve_code(request: Request) -> Response:
    checked = await _checked_form(request)
    if isinstance(checked, Response):
        return checked
    values, lang, sid = checked
    ip, ua = _client(request)
    try:
        await anyio.to_thread.run_sync(lambda: approval_external.check_code(sid, values.get("code", ""), client_ip=ip, user_agent=ua))
    except approval_external.LinkError as exc:
        return _page(lang, "Approval link", _start_page(lang, translate(str(exc), lang)), 410)
    except UserError as exc:
        return await _render(request, lang, _form_error(lang, exc), status=422)
    return RedirectResponse(f"/approve?lang={lang}", status_code=303)


async def approve_new_code(request: Request) -> Response:
    checked = await _checked_form(request)
    if isinstance(checked, Response):
        return checked
    _values, lang, sid = checked
    try:
        mail = await anyio.to_thread.run_sync(lambda: approval_external.new_code(sid))
    except approval_external.LinkError as exc:
        return _page(lang, "Approval link", _start_page(lang, translate(str(exc), lang)), 410)
    except UserError as exc:
        return await _render(request, lang, _form_error(lang, exc), status=429)
    if await _send_code(mail):
        return await _render(request, lang, translate(approval_external.CODE_NOT_SENT, lang), status=503)
    return RedirectResponse(f"/approve?lang={lang}", status_code=303)


async def approve_decide(request: Request) -> Response:
    checked = await _checked_form(request)
    if isinstance(checked, Response):
        return checked
    values, lang, sid = checked
    ip, ua = _client(request)
    try:
        result = await anyio.to_thread.run_sync(lambda: approval_external.decide(
            sid, values.get("name", ""), values.get("decision", ""), values.get("comment", ""), values.get("seen", ""),
            client_ip=ip, user_agent=ua))
    except approval_external.LinkError as exc:
        return _page(lang, "Approval link", _error_card(translate(str(exc), lang)), 410)
    except UserError as exc:
        return await _render(request, lang, _form_error(lang, exc), values, status=409 if str(exc) == approval_external.CHANGED else 422)
    done = "Thank you. Your approval has been recorded." if result.decision == "approved" else "Thank you. Your rejection and comment have been sent to the author."
    response = _page(lang, "Decision recorded", f'<div class="card ok" role="status">{html.escape(translate(done, lang))}</div>', switch=False)
    response.delete_cookie(COOKIE, path="/approve")
    return response


async def approve_image(request: Request) -> Response:
    sid = _sid(request)
    try:
        n = int(request.path_params["n"])
        path, mime = await anyio.to_thread.run_sync(lambda: approval_external.image(sid, n))
    except (UserError, ValueError):
        return Response("Not found\n", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})
    return _private_file(path, mime)


def _private_file(path: str, mime: str) -> Response:
    if not Path(path).is_file():
        return Response("Not found\n", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                                                        "Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "no-referrer"})


async def staff_media(request: Request) -> Response:
    """An image waiting for approval, for the signed-in approver whose short-lived address this is."""
    token = request.path_params["token"]
    found = await anyio.to_thread.run_sync(lambda: approvals.open_media(token))
    if found is None:
        return Response("Not found\n", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})
    return _private_file(*found)


async def approve_legacy(request: Request) -> Response:
    """Links made before approvals were emailed with a code carried their key in the path; they no longer open anything."""
    lang = _lang(request)
    return _page(lang, "Approval link", _start_page(lang, translate(approval_external.EXPIRED, lang)), 410)


async def ical_feed(request: Request) -> Response:
    token = request.path_params["token"]
    body = await anyio.to_thread.run_sync(lambda: ical.feed_for_token(token))
    if body is None:
        return Response("Not found\n", status_code=404, media_type="text/plain")
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="govsocial.ics"'})


def routes() -> list[Route]:
    """Add these to the Starlette app in govsocial_app/api.py (`build_api`)."""
    return [
        Route("/api/ical/{token}.ics", ical_feed, methods=["GET"]),
        Route("/api/approval-media/{token}", staff_media, methods=["GET"]),
        Route("/approve", approve_page, methods=["GET"]),
        Route("/approve/open.js", approve_script, methods=["GET"]),
        Route("/approve/open", approve_open, methods=["POST"]),
        Route("/approve/code", approve_code, methods=["POST"]),
        Route("/approve/new-code", approve_new_code, methods=["POST"]),
        Route("/approve/decide", approve_decide, methods=["POST"]),
        Route("/approve/image/{n}", approve_image, methods=["GET"]),
        Route("/approve/{token}", approve_legacy, methods=["GET", "POST"]),  # last: after every named /approve/ route
    ]

"""HTTP routes for publishing: the per-user iCal feed and the external approvers' page (plain HTML, no account, no JavaScript)."""

from __future__ import annotations

import html
from datetime import datetime

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from govsocial_app.i18n import is_rtl, translate
from govsocial_app.services import approvals, ical
from govsocial_app.services.errors import UserError

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c2024}
main{max-width:640px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border:1px solid #dfe3e6;border-radius:12px;padding:16px;margin:16px 0}
.post{white-space:pre-wrap;font-size:17px}
label{display:block;margin:12px 0 4px;font-weight:600}
input,textarea{width:100%;box-sizing:border-box;font:inherit;padding:10px;border:1px solid #b9bbc6;border-radius:8px;min-height:44px}
fieldset{border:0;padding:0;margin:12px 0}
.choice{display:flex;gap:8px;align-items:center;min-height:44px}
.choice input{width:auto;min-height:0}
button{font:inherit;font-weight:600;padding:12px 20px;border-radius:8px;border:0;background:#3e63dd;color:#fff;min-height:44px;cursor:pointer}
.muted{color:#60646c;font-size:14px}.error{background:#ffefef;border-color:#f3b0a2;color:#8c1d18}.ok{background:#eefbf3;border-color:#9fd9b4}
"""


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "ar" if wanted[:2].lower() == "ar" else "en"


def _page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    _ = lambda m, **p: html.escape(translate(m, lang, **p))  # noqa: E731
    doc = (
        f'<!doctype html><html lang="{lang}" dir="{"rtl" if is_rtl(lang) else "ltr"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{_(title)} · GovSocial</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{_(title)}</h1>{body}</main></body></html>"
    )
    # The token is in the URL: never let it leak to another site through a Referer header, nor be cached.
    return HTMLResponse(doc, status_code=status, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
                                                          "X-Frame-Options": "DENY"})


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else ""


def _form(lang: str, token: str, view: approvals.ExternalView, error: str = "", values: dict | None = None) -> str:
    _ = lambda m, **p: html.escape(translate(m, lang, **p))  # noqa: E731
    v = {k: html.escape(str(x)) for k, x in (values or {}).items()}
    when = _("Planned for {when}", when=_when(view.scheduled_at)) if view.scheduled_at else _("To go out as soon as it is approved")
    parts = [
        f'<p>{_("You have been asked to approve this post before it is published.")}</p>',
        '<div class="card">',
        f'<div class="post">{html.escape(view.text)}</div>',
        f'<p class="muted">{html.escape(view.link)}</p>' if view.link else "",
        "".join(f'<p class="muted">{_("Image, described as:")} {html.escape(alt)}</p>' for alt in view.images),
        f'<p class="muted">{_("Profiles")}: {html.escape(", ".join(view.profiles))} · {when}</p>',
        f'<p class="muted">{_("Step")}: {html.escape(view.step_name)} · {_("This link works until {when}", when=_when(view.expires))}</p>',
        "</div>",
        f'<div class="card error" role="alert">{html.escape(error)}</div>' if error else "",
        f'<form method="post" action="/approve/{html.escape(token)}?lang={lang}" class="card">',
        f'<label for="name">{_("Your name")}</label><input id="name" name="name" required autocomplete="name" value="{v.get("name", html.escape(view.invited_name))}">',
        f'<label for="email">{_("Your email address")}</label><input id="email" name="email" type="email" required autocomplete="email" value="{v.get("email", "")}">',
        f'<p class="muted">{_("Use the address this link was sent to.")}</p>',
        f'<fieldset><legend><strong>{_("Your decision")}</strong></legend>',
        f'<label class="choice"><input type="radio" name="decision" value="approved" required> {_("Approve")}</label>',
        f'<label class="choice"><input type="radio" name="decision" value="rejected"> {_("Reject")}</label></fieldset>',
        f'<label for="comment">{_("Comment (needed to reject)")}</label><textarea id="comment" name="comment" rows="3">{v.get("comment", "")}</textarea>',
        f'<p><button type="submit">{_("Send my decision")}</button></p>',
        "</form>",
    ]
    return "".join(parts)


async def approve_page(request: Request) -> Response:
    token, lang = request.path_params["token"], _lang(request)
    try:
        view = await anyio.to_thread.run_sync(lambda: approvals.external_view(token))
    except UserError as exc:
        return _page(lang, "Approval link", f'<div class="card error" role="alert">{html.escape(translate(str(exc), lang))}</div>', 410)
    return _page(lang, "Approve a post", _form(lang, token, view))


async def approve_submit(request: Request) -> Response:
    token, lang = request.path_params["token"], _lang(request)
    form = await request.form()
    values = {k: str(form.get(k, ""))[:2000] for k in ("name", "email", "decision", "comment")}
    client_ip = request.client.host if request.client else ""
    try:
        result = await anyio.to_thread.run_sync(lambda: approvals.decide_external(
            token, values["name"], values["email"], values["decision"], values["comment"],
            client_ip=client_ip, user_agent=request.headers.get("user-agent", "")[:300]))
    except approvals.LinkError as exc:
        return _page(lang, "Approval link", f'<div class="card error" role="alert">{html.escape(translate(str(exc), lang))}</div>', 410)
    except UserError as exc:
        try:
            view = await anyio.to_thread.run_sync(lambda: approvals.external_view(token))
        except UserError as gone:
            return _page(lang, "Approval link", f'<div class="card error" role="alert">{html.escape(translate(str(gone), lang))}</div>', 410)
        return _page(lang, "Approve a post", _form(lang, token, view, translate(str(exc), lang), values), 422)
    done = "Thank you. Your approval has been recorded." if result.decision == "approved" else "Thank you. Your rejection and comment have been sent to the author."
    return _page(lang, "Decision recorded", f'<div class="card ok" role="status">{html.escape(translate(done, lang))}</div>')


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
        Route("/approve/{token}", approve_page, methods=["GET"]),
        Route("/approve/{token}", approve_submit, methods=["POST"]),
    ]

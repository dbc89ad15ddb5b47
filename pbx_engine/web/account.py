"""The caller's own view (seed 002): sign in with line and card PIN, see balance, minutes, last
top-ups and the month's calls, download the month's statement as a PDF, sign out."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from cards import statement_pdf
from cards.clock import aware, utcnow
from cards.errors import InvalidInput
from cards.phone import to_e164
from cards.services import caller_view, statements
from cards.services.call_records import month_bounds
from cards.services.caller_view import SignIn
from cards.services.projects import get_project
from pbx_engine.web import i18n
from pbx_engine.web.guard import LANG, PageError, check_csrf, render, see_other, set_cookie
from pbx_engine.web.limits import monotonic_ms
from pbx_engine.web.site import SITE, Caller
from rating import Unit

SESSION_COOKIE = "mc_session"


def _caller(request: web.Request) -> Caller | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    caller = request.app[SITE].callers.get(token) if token else None
    if caller is None or caller.project != request.match_info["project"]:
        return None
    return caller


def _month(request: web.Request) -> tuple[str, datetime, datetime]:
    text = request.query.get("month") or utcnow().strftime("%Y-%m")
    try:
        start, end = month_bounds(text[:7])
    except InvalidInput as exc:
        raise PageError(400, "bad_request") from exc
    return text[:7], start, end


async def show(request: web.Request) -> web.StreamResponse:
    project = request.match_info["project"]
    await get_project(request.app[SITE].db, project)  # an unknown project is a 404 page
    caller = _caller(request)
    if caller is None:
        return render(request, "sign_in.html", {"project": project, "problem": None})
    month, start, end = _month(request)
    found = await caller_view.account(request.app[SITE].db, caller.card_id, start, end)
    masked = "…" + found.serial[-4:]
    return render(request, "account.html", {"project": project, "a": found, "masked": masked,
                                            "month": month})  # fmt: skip


async def sign_in(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    project = request.match_info["project"]
    await get_project(site.db, project)
    form = await request.post()
    check_csrf(request, form)
    started = monotonic_ms()
    typed_line, pin = str(form.get("line", ""))[:40], str(form.get("pin", ""))[:20].strip()
    try:
        line = to_e164(typed_line)
    except InvalidInput:
        return render(request, "sign_in.html", {"project": project, "problem": "bad_line"})
    site.count_lookup(request, line)
    result = await caller_view.sign_in(site.db, project, line, pin, secret=site.pin_secret)
    await site.floor(started)
    if result.status is SignIn.OK and result.card_id is not None:
        response = see_other(f"/pay/{project}/account")
        token = site.callers.add(Caller(project, result.card_id))
        set_cookie(response, site.settings, SESSION_COOKIE, token)
        return response
    problem = "locked" if result.status is SignIn.LOCKED else "bad_pin"
    return render(request, "sign_in.html", {"project": project, "problem": problem})


async def sign_out(request: web.Request) -> web.StreamResponse:
    project = request.match_info["project"]
    check_csrf(request, await request.post())
    request.app[SITE].callers.drop(request.cookies.get(SESSION_COOKIE, ""))
    response = see_other(f"/pay/{project}/account")
    set_cookie(response, request.app[SITE].settings, SESSION_COOKIE, "", max_age=0)
    return response


async def statement(request: web.Request) -> web.StreamResponse:
    caller = _caller(request)
    if caller is None:
        return see_other(f"/pay/{request.match_info['project']}/account")
    month, start, end = _month(request)
    found = await statements.card_statement(request.app[SITE].db, caller.card_id, start, end)
    lang = request[LANG]
    texts = i18n.texts(lang)
    unit = Unit(found.unit)

    def money(value: int) -> str:
        return i18n.amount(value, unit, lang)

    rows = [
        (i18n.local(aware(line.at)).strftime("%d.%m.%Y %H:%M"), "…" + line.card[-4:], line.kind,
         money(line.amount), money(line.balance_after), line.detail)
        for line in found.lines
    ]  # fmt: skip
    totals = {"opening": money(found.opening),
              **{name: money(total) for name, total in found.totals().items()},
              "closing": money(found.closing)}  # fmt: skip
    title = f"{texts['statement_pdf']} {month}: {texts['card']} …{found.customer[-4:]}"
    # reportlab takes tens of milliseconds: off the loop that keeps the calls' time.
    data = await asyncio.to_thread(statement_pdf.render, title, rows, totals)
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="statement-{month}.pdf"'},
    )

"""The top-up flow (seeds 001, 003): line and serial → the masked card → one of the project's
denominations → the payment → the order's page with the new balance."""

from __future__ import annotations

from aiohttp import web

from cards.errors import InvalidInput
from cards.phone import to_e164
from cards.services import orders
from cards.services.orders import PayableCard
from cards.services.projects import get_project
from pbx_engine.web.guard import PageError, check_csrf, render, see_other
from pbx_engine.web.limits import monotonic_ms
from pbx_engine.web.site import SITE, Flow

MAX_SERIAL = 24


async def start(request: web.Request) -> web.StreamResponse:
    project = request.match_info["project"]
    await get_project(request.app[SITE].db, project)  # an unknown project is a 404 page
    return render(request, "start.html", {"project": project, "problem": None})


async def lookup(request: web.Request) -> web.StreamResponse:
    """The neutral answer: an unknown line, a line without a card and a wrong serial all get
    the same page, status and time class (the answer waits for ``Site.floor``)."""
    site = request.app[SITE]
    project = request.match_info["project"]
    await get_project(site.db, project)
    form = await request.post()
    check_csrf(request, form)
    started = monotonic_ms()
    typed_line, serial = str(form.get("line", ""))[:40], str(form.get("serial", "")).strip()
    try:
        line = to_e164(typed_line)
    except InvalidInput:
        return render(request, "start.html", {"project": project, "problem": "bad_line"})
    if not (serial.isascii() and serial.isalnum() and 4 <= len(serial) <= MAX_SERIAL):
        return render(request, "start.html", {"project": project, "problem": "bad_serial"})
    site.count_lookup(request, line)
    card = await orders.find_card_for_payment(site.db, project=project, line=line, serial=serial)
    await site.floor(started)
    if card is None:
        return render(request, "start.html", {"project": project, "problem": "not_found"})
    token = site.flows.add(Flow(project, line, card.serial))
    return see_other(f"/pay/{project}/card?flow={token}")


async def _flow_card(request: web.Request) -> tuple[str, PayableCard]:
    """The card of the flow named in the request, looked up again (balance, refusal now)."""
    site = request.app[SITE]
    project = request.match_info["project"]
    token = request.query.get("flow", "")
    flow = site.flows.get(token) if token else None
    if flow is None or flow.project != project:
        raise PageError(410, "expired_flow")
    card = await orders.find_card_for_payment(
        site.db, project=project, line=flow.line, serial=flow.serial
    )
    if card is None:
        raise PageError(410, "expired_flow")
    return token, card


async def card(request: web.Request) -> web.StreamResponse:
    token, found = await _flow_card(request)
    return render(request, "card.html", {"project": request.match_info["project"],
                                         "c": found, "flow": token})  # fmt: skip


def _amount(text: str, found: PayableCard) -> int | None:
    """One of the card's project's denominations, else None (a typed amount is never taken)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return None
    value = int(text)
    return value if value in found.denominations else None


async def checkout(request: web.Request) -> web.StreamResponse:
    token, found = await _flow_card(request)
    project = request.match_info["project"]
    value = _amount(request.query.get("amount", ""), found)
    if value is None:
        return render(request, "card.html", {"project": project, "c": found, "flow": token,
                                             "problem": "wrong_amount"}, 422)  # fmt: skip
    return render(request, "checkout.html", {"project": project, "c": found, "flow": token,
                                             "amount": value, "providers": PROVIDERS})  # fmt: skip


async def pay(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    check_csrf(request, form)
    project = request.match_info["project"]
    token = str(form.get("flow", ""))
    request = request.clone(rel_url=request.rel_url.with_query(flow=token))
    token, found = await _flow_card(request)
    value = _amount(str(form.get("amount", "")), found)
    provider = str(form.get("provider", PROVIDERS[0]))
    if value is None or provider not in PROVIDERS:
        return render(request, "card.html", {"project": project, "c": found, "flow": token,
                                             "problem": "wrong_amount"}, 422)  # fmt: skip
    if found.refusal is not None:
        raise PageError(409, "refused")
    raise PageError(501, "error")


async def order(request: web.Request) -> web.StreamResponse:
    project = request.match_info["project"]
    view = await orders.order_view(request.app[SITE].db, request.match_info["reference"][:20])
    if view is None or view.project != project:
        raise PageError(404, "no_order")
    return render(request, "order.html", {"project": project, "o": view})


PROVIDERS = ("transfer", "webhook")

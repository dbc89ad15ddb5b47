"""The top-up flow (seeds 001, 003): line and serial → the masked card → one of the project's
denominations → the payment → the order's page with the new balance."""

from __future__ import annotations

from aiohttp import web

from cards.domain import OrderStatus
from cards.errors import InvalidInput
from cards.phone import to_e164
from cards.services import orders
from cards.services.orders import PayableCard
from cards.services.projects import get_project
from pbx_engine.payments.provider import ProviderUnavailable, Redirect
from pbx_engine.web.guard import PageError, check_csrf, render, see_other
from pbx_engine.web.limits import monotonic_ms
from pbx_engine.web.site import SITE, Flow
from rating import Unit

MAX_SERIAL = 24
ACTOR = "pay page"


async def _selling(request: web.Request) -> str:
    """The project of the address, when it sells credit online: a money project (a minutes
    project's cards are sold as cards); an unknown project is a 404 page."""
    project = await get_project(request.app[SITE].db, request.match_info["project"])
    if project.unit != Unit.MONEY:
        raise PageError(404, "no_payments")
    return project.name


async def start(request: web.Request) -> web.StreamResponse:
    project = await _selling(request)
    return render(request, "start.html", {"project": project, "problem": None})


async def lookup(request: web.Request) -> web.StreamResponse:
    """The neutral answer: an unknown line, a line without a card and a wrong serial all get
    the same page, status and time class (the answer waits for ``Site.floor``)."""
    site = request.app[SITE]
    project = await _selling(request)
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


async def _flow_card(request: web.Request, token: str) -> tuple[str, PayableCard]:
    """The card of the flow ``token`` stands for, looked up again (balance, refusal now)."""
    site = request.app[SITE]
    project = request.match_info["project"]
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
    token, found = await _flow_card(request, request.query.get("flow", ""))
    return render(request, "card.html", {"project": request.match_info["project"],
                                         "c": found, "flow": token})  # fmt: skip


def _amount(text: str, found: PayableCard) -> int | None:
    """One of the card's project's denominations, else None (a typed amount is never taken)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return None
    value = int(text)
    return value if value in found.denominations else None


async def checkout(request: web.Request) -> web.StreamResponse:
    token, found = await _flow_card(request, request.query.get("flow", ""))
    project = request.match_info["project"]
    value = _amount(request.query.get("amount", ""), found)
    if value is None:
        return render(request, "card.html", {"project": project, "c": found, "flow": token,
                                             "problem": "wrong_amount"}, 422)  # fmt: skip
    providers = request.app[SITE].offered(project)
    if not providers:
        raise PageError(503, "no_payments")
    return render(request, "checkout.html", {"project": project, "c": found, "flow": token,
                                             "amount": value, "providers": providers})  # fmt: skip


async def pay(request: web.Request) -> web.StreamResponse:
    """Create the order and start its payment: to the provider's page, or to the order's page
    with the transfer's details. Only a denomination and an offered provider are taken."""
    site = request.app[SITE]
    form = await request.post()
    check_csrf(request, form)
    project = request.match_info["project"]
    token, found = await _flow_card(request, str(form.get("flow", "")))
    value = _amount(str(form.get("amount", "")), found)
    offered = site.offered(project)
    provider = str(form.get("provider", ""))
    if value is None or provider not in offered:
        return render(request, "card.html", {"project": project, "c": found, "flow": token,
                                             "problem": "wrong_amount"}, 422)  # fmt: skip
    if found.refusal is not None or site.payments is None:
        raise PageError(409, "refused")
    flow = site.flows.get(token)
    try:
        view, step = await site.payments.start(
            project=project, serial=found.serial, amount=value, provider=provider, actor=ACTOR
        )
    except ProviderUnavailable as exc:
        raise PageError(503, "error") from exc
    if flow is not None:
        site.paid.keep(view.reference, flow)  # the order's page shows the minutes then
    if isinstance(step, Redirect):
        return see_other(step.url)
    return see_other(f"/pay/{project}/orders/{view.reference}")


async def order(request: web.Request) -> web.StreamResponse:
    """Where every payment comes back to: the order's state; once credited the new balance
    (and the minutes, when this browser made the order)."""
    site = request.app[SITE]
    project = request.match_info["project"]
    view = await orders.order_view(site.db, request.match_info["reference"][:20])
    if view is None or view.project != project:
        raise PageError(404, "no_order")
    minutes = None
    flow = site.paid.get(view.reference)
    if flow is not None and view.status in (OrderStatus.CREDITED, OrderStatus.CAPTURED):
        card = await orders.find_card_for_payment(site.db, project=project, line=flow.line,
                                                  serial=flow.serial)  # fmt: skip
        minutes = card.minutes_left if card is not None else None
    steps = None
    if view.status is OrderStatus.CREATED and view.provider == "transfer" and site.payments:
        steps = await site.payments.provider(project, "transfer").begin(view)
    return render(request, "order.html", {"project": project, "o": view, "minutes": minutes,
                                          "instructions": steps})  # fmt: skip

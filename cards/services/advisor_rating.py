"""An answering advisor's own tariff rates the call (issue 23, seed 004's price per offer): the
call's hold, taken before the hunt with the number's tariff, is rated anew at the answer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cards.db import Database
from cards.domain import HoldState
from cards.models import Advisor, Project, Reservation
from cards.models import Tariff as TariffRow
from cards.services.credit_line import spendable
from cards.services.holds import hold_rating, remember, tariff_snapshot
from cards.services.ledger import held, locked_card
from cards.services.projects import rating_tariff
from rating import ChargingStart, Unit, affordable_seconds, quote

REPLACED = "standard"
"""The only tariff choice an advisor's own tariff replaces: a caller's individual price and the
first-caller tariff are deals with that caller, and stay."""


@dataclass(frozen=True)
class AdvisorRating:
    """What the hold covers once the answering advisor is known. ``changed``: it is rated with
    the advisor's tariff now; ``affordable_s`` 0: the card affords no billable step of it (the
    hold is left as it was, for the call's settlement to release)."""

    changed: bool
    affordable_s: int = 0
    price_per_minute: int | None = None
    after_announcement: bool = False


async def rate_for_advisor(db: Database, hold_id: int, advisor_id: int) -> AdvisorRating:
    """In one transaction under the hold's and the card's locks: if the advisor has a tariff of
    its own and the hold rates with the number's standard one, re-snapshot the hold with the
    advisor's tariff and hold what the card's credit affords at it (the hold's own amount counts
    as available: it is this call's)."""
    async with db.transaction() as session:
        reservation = await session.get(Reservation, hold_id, with_for_update=True)
        if reservation is None or reservation.state != HoldState.OPEN:
            return AdvisorRating(changed=False)  # settled elsewhere: the call learns it there
        found = (
            await session.execute(
                select(TariffRow, Project.unit)
                .join(Advisor, Advisor.tariff_id == TariffRow.id)
                .join(Project, Project.id == TariffRow.project_id)
                .where(Advisor.id == advisor_id)
            )
        ).first()
        info = dict(reservation.info)
        if found is None or info.get("tariff_reason") != REPLACED:
            return AdvisorRating(changed=False)
        row, unit = found
        if row.id == info["tariff_id"]:
            return AdvisorRating(changed=False)
        card = await locked_card(session, reservation.card_id)
        _, cls = hold_rating(reservation)
        tariff = rating_tariff(row, unit)
        credit = reservation.amount + await spendable(session, card, lock=True)
        credit -= await held(session, card.id)
        affordable = affordable_seconds(tariff, cls, max(credit, 0))
        price = tariff.rate_for(cls) if tariff.unit is Unit.MONEY else None
        after = tariff.charging_start is ChargingStart.AFTER_ANNOUNCEMENT
        cover = quote(tariff, cls, affordable)
        if cover.billed_seconds == 0:
            return AdvisorRating(True, 0, price, after)
        reservation.amount = cover.cost
        info.update(tariff_id=row.id, tariff_reason="advisor", tariff=tariff_snapshot(tariff))
        reservation.info = info
        remember(hold_id, (tariff, cls))
        return AdvisorRating(True, affordable, price, after)

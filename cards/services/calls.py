"""The call's money path (the CGRateS MaxUsage/Debit shape): authorize → extend → settle.

The engine hands in seconds and gets seconds back; every cost is computed here with the rating
core from the tariff snapshot taken at authorization, so a tariff edited mid-call changes nothing
for that call. Each step is one transaction under the card's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import aware, utcnow
from cards.credit import mark_changed
from cards.db import Database
from cards.domain import HoldState
from cards.errors import InvalidInput, NotFound
from cards.models import CallRecord, Card, FirstCaller, LinePrice, Number, Project, Reservation
from cards.models import Tariff as TariffRow
from cards.phone import to_e164
from cards.services.activation import usable_refusal
from cards.services.credit_line import spendable
from cards.services.customers import after_charge
from cards.services.holds import (
    floor_cost,
    forget,
    hold_rating,
    rating_of,
    remember,
    remembered,
    tariff_snapshot,
)
from cards.services.ledger import HELD_COLUMN, held, locked_card
from cards.services.projects import rating_tariff
from cards.services.reservations import CallOutcome, add_record, charge_hold
from cards.services.routing import caller_class
from rating import (
    ChargingStart,
    Quote,
    Unit,
    affordable_seconds,
    quote,
)

OVERSHOOT_MS = 500
"""How far past the authorized limit ``L()``'s own cut may land and still count as the limit."""


@dataclass(frozen=True)
class Authorization:
    """A hold and the talk seconds it covers, or a refusal (``hold_id`` None) with its cause."""

    hold_id: int | None
    affordable_s: int
    refusal: str | None = None
    tariff_id: int | None = None
    tariff_reason: str = "standard"
    price_per_minute: int | None = None
    """Money projects: the caller's rate in 1/10,000 EUR a minute, for the tariff announcement."""
    after_announcement: bool = False
    """Charging starts when the tariff announcement in the bridge has ended (seed 003)."""


_AUTHORIZE_READ = (
    select(Number, Project, TariffRow, LinePrice.tariff_id, FirstCaller, HELD_COLUMN)
    .join(Project, Project.id == Number.project_id)
    .join(TariffRow, TariffRow.id == Number.tariff_id)
    .outerjoin(
        LinePrice,
        and_(LinePrice.project_id == Number.project_id, LinePrice.line == bindparam("caller")),
    )
    .outerjoin(
        FirstCaller,
        and_(FirstCaller.project_id == Number.project_id, FirstCaller.line == bindparam("caller")),
    )
    .where(Number.e164 == bindparam("e164"))
)
"""Authorize's one read after the card's lock (built once: it runs on every call): the number,
its project and standard tariff, the caller's individual price and first-caller entry, and what
the card's open holds keep (``held_card``). The tariff choice then needs no other read."""


async def authorize(
    db: Database,
    *,
    card_id: int,
    dialed: str,
    caller: str,
    call_id: str,
    payphone: bool = False,
    now: datetime | None = None,
) -> Authorization:
    """Pick the tariff, hold what the card's available credit affords, say how many seconds."""
    moment = now or utcnow()
    async with db.transaction() as session:
        card = await locked_card(session, card_id)
        if usable_refusal(card, moment):
            return Authorization(None, 0, refusal="card_unusable")
        # After the lock, so the held sum counts the hold of a call we waited for.
        found = (
            await session.execute(
                _AUTHORIZE_READ, {"e164": to_e164(dialed), "caller": caller, "held_card": card_id}
            )
        ).first()
        if found is None:
            raise InvalidInput(f"{dialed} is not an advisor number with a tariff")
        number, project, row, individual, entry, holding = found
        tariff_id, reason = choose_tariff(number, individual, entry, moment)
        if tariff_id != row.id:
            row = await session.get_one(TariffRow, tariff_id)
        tariff = rating_tariff(row, project.unit)
        cls = caller_class(caller, payphone=payphone)
        credit = await spendable(session, card, lock=True) - int(holding)
        affordable = affordable_seconds(tariff, cls, max(credit, 0))
        hold = quote(tariff, cls, affordable)
        price = tariff.rate_for(cls) if tariff.unit is Unit.MONEY else None
        after = tariff.charging_start is ChargingStart.AFTER_ANNOUNCEMENT
        if hold.billed_seconds == 0:
            # Less than one billable step (initial block and connect fee included).
            return Authorization(None, 0, "no_credit", row.id, reason, price, after)
        hold_id = (
            await session.execute(
                _OPEN,
                {
                    "card_id": card_id,
                    "call_id": call_id,
                    "amount": hold.cost,
                    "used_at_checkpoint": 0,
                    "created_at": moment,
                    "checkpoint_at": moment,
                    "state": HoldState.OPEN,
                    "info": {
                        "project_id": project.id,
                        "caller": caller,
                        "dialed": number.e164,
                        "tariff_id": row.id,
                        "tariff_reason": reason,
                        "caller_class": str(cls),
                        "tariff": tariff_snapshot(tariff),
                    },
                },
            )
        ).scalar_one()
        remember(hold_id, (tariff, cls))
        return Authorization(hold_id, affordable, None, row.id, reason, price, after)


def choose_tariff(
    number: Number, individual: int | None, entry: FirstCaller | None, now: datetime
) -> tuple[int, str]:
    """Individual line price, else first-caller tariff while the caller is new (``entry`` is
    the caller on the project's first-caller list, if there), else standard. The first-caller
    list is written when a call is billed (``settle``), never here."""
    assert number.tariff_id is not None
    if individual is not None:
        return individual, "individual"
    if number.first_caller_tariff_id is None:
        return number.tariff_id, "standard"
    if entry is None:
        return number.first_caller_tariff_id, "first_caller"
    if entry.by_hand:  # a known caller the operator listed: not new
        return number.tariff_id, "standard"
    limited = bool(number.first_caller_days or number.first_caller_calls)
    within_days = not number.first_caller_days or now < aware(entry.first_call_at) + timedelta(
        days=number.first_caller_days
    )
    within_calls = not number.first_caller_calls or entry.calls < number.first_caller_calls
    if limited and within_days and within_calls:
        return number.first_caller_tariff_id, "first_caller"
    return number.tariff_id, "standard"


async def _open_hold(session: AsyncSession, hold_id: int) -> Reservation | None:
    reservation = await session.get(Reservation, hold_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"no hold {hold_id}")
    return reservation if reservation.state == HoldState.OPEN else None


async def follow_credit(db: Database, hold_id: int, talked_s: int) -> int:
    """Move a live call's hold with the card's credit; the talk seconds it now covers.

    A top-up raises the hold to all the available credit. A debit that left the card below its
    holds lowers this one by what is missing, never below ``talked_s``, what the call has talked
    (the debit left a notice for that: ``holds.SHORTEN_NOTICE_S``). A hold closed elsewhere (a
    recovering engine settled it) covers nothing more: 0, and the call ends.
    """
    async with db.transaction() as session:
        reservation = await _open_hold(session, hold_id)
        if reservation is None:
            return 0
        card = await locked_card(session, reservation.card_id)
        tariff, cls = hold_rating(reservation)
        spent = await spendable(session, card, lock=True)
        credit = reservation.amount + spent - await held(session, card.id)
        target = max(credit, floor_cost(reservation, talked_s))
        affordable = affordable_seconds(tariff, cls, max(target, 0))
        reservation.amount = quote(tariff, cls, affordable).cost
        return affordable


_HOLDS = cast(Table, Reservation.__table__)
_OPEN = insert(_HOLDS).returning(_HOLDS.c.id)
_COST = bindparam("b_cost", type_=_HOLDS.c.amount.type)
_USED = case((_HOLDS.c.amount < _COST, _HOLDS.c.amount), else_=_COST)
_TALK = bindparam("b_talk", type_=_HOLDS.c.talked_at_checkpoint.type)
_CHECKPOINT = (
    update(_HOLDS)
    .where(_HOLDS.c.id == bindparam("b_hold"), _HOLDS.c.state == HoldState.OPEN)
    .values(
        # Never lower what an earlier checkpoint recorded, never pass what the hold covers.
        used_at_checkpoint=case(
            (_HOLDS.c.used_at_checkpoint > _USED, _HOLDS.c.used_at_checkpoint), else_=_USED
        ),
        checkpoint_at=bindparam("b_at", type_=_HOLDS.c.checkpoint_at.type),
        talked_at_checkpoint=case(
            (_HOLDS.c.talked_at_checkpoint > _TALK, _HOLDS.c.talked_at_checkpoint), else_=_TALK
        ),
    )
)
"""Built once: a Core statement run for many holds at once costs one compile, not one each."""


async def checkpoint(
    db: Database, talked: Mapping[int, int], *, now: datetime | None = None
) -> None:
    """Record what live calls have cost so far (hold id → seconds talked), all in one
    transaction (the engine's writer sends a chunk of holds at a time): a crash then settles
    each at most one interval short. The holds' ratings are remembered from their
    authorization; only a hold this process did not authorize is read."""
    if not talked:
        return
    moment = now or utcnow()
    async with db.transaction() as session:
        ratings = {hold: rating for hold in talked if (rating := remembered(hold)) is not None}
        unknown = [hold for hold in talked if hold not in ratings]
        if unknown:
            rows = await session.execute(
                select(Reservation.id, Reservation.info).where(Reservation.id.in_(unknown))
            )
            ratings.update({hold: rating_of(info) for hold, info in rows})
            if missing := sorted(set(unknown) - ratings.keys()):
                raise NotFound(f"no hold {missing[0]}")
        params = [
            {
                "b_hold": hold,
                "b_cost": quote(*ratings[hold], talk_s).cost,
                "b_at": moment,
                "b_talk": talk_s,
            }
            for hold, talk_s in talked.items()
        ]
        await session.execute(_CHECKPOINT, params)


@dataclass(frozen=True)
class Settlement:
    """Everything the engine knows at hang-up; plain values, so the journal can keep it."""

    call_id: str
    hold_id: int | None
    talk_s: int
    project_id: int
    caller: str
    dialed: str
    arrived_at: datetime
    ended_at: datetime
    hangup_cause: str
    hangup_side: str
    card_id: int | None = None
    advisor: str | None = None
    answered_at: datetime | None = None
    charge_start_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settlement:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise InvalidInput(f"settlement: unknown field {key!r}")
            is_time = key.endswith("_at") and value is not None
            values[key] = datetime.fromisoformat(value) if is_time else value
        return cls(**values)


def dialplan_talk_s(answered_ms: int, limit_ms: int) -> int:
    """Talk seconds of a call the dialplan bridged (AGI mode), from ${ANSWEREDTIME_MS}: started
    seconds, but a call cut by ``L()`` at its authorized limit talked that limit — not one second
    more for the few ms Asterisk's own cut lands after it."""
    talk_s = -(-max(answered_ms, 0) // 1000)
    if limit_ms > 0 and limit_ms < answered_ms < limit_ms + OVERSHOOT_MS:
        return -(-limit_ms // 1000)
    return talk_s


_CLOSE = (
    update(_HOLDS)
    .where(_HOLDS.c.id == bindparam("b_hold"), _HOLDS.c.state == HoldState.OPEN)
    .values(state=bindparam("b_state"))
    .returning(_HOLDS.c.card_id, _HOLDS.c.amount, _HOLDS.c.info)
)
"""Close an open hold and read it in one statement (its row lock is the settle's lock)."""


async def settle(db: Database, s: Settlement) -> CallRecord:
    """Bill the call once: one ledger entry and one call record. Settling the same call again
    changes nothing and returns the first record (the journal and retries rely on it)."""
    if s.talk_s < 0:
        raise InvalidInput("talk seconds cannot be negative")
    talked = s.charge_start_at is not None
    async with db.transaction() as session:
        closed = None
        rating = None
        if s.hold_id is not None:
            rating = remembered(s.hold_id)
            forget(s.hold_id)
            params = {
                "b_hold": s.hold_id,
                "b_state": HoldState.SETTLED if talked else HoldState.RELEASED,
            }
            closed = (await session.execute(_CLOSE, params)).first()
        if closed is None:
            # An open hold has no record yet (closing it writes the record): only a call
            # without one, or one settled already, can have been billed before.
            done = await session.scalar(select(CallRecord).where(CallRecord.call_id == s.call_id))
            if done is not None:
                return done
            if s.hold_id is not None and await session.get(Reservation, s.hold_id) is None:
                raise NotFound(f"no hold {s.hold_id}")
            return await add_record(session, s.call_id, _outcome(s), s.card_id, charged=0)
        card_id, amount, info = closed
        if not talked:
            await mark_changed(session, card_id)  # the hold's credit is free again
            return await add_record(session, s.call_id, _outcome(s), s.card_id, charged=0)
        tariff, cls = rating or rating_of(info)
        billed = quote(tariff, cls, s.talk_s)
        outcome = _outcome(s, billed, info["tariff_id"])
        record, customer = await charge_hold(session, s.call_id, card_id, amount, outcome)
        if customer is not None:
            await after_charge(session, await session.get_one(Card, card_id), s.ended_at)
        if info.get("tariff_reason") == "first_caller":
            await _remember_first_caller(session, info, s.ended_at)
        return record


def _outcome(
    s: Settlement, billed: Quote | None = None, tariff_id: int | None = None
) -> CallOutcome:
    return CallOutcome(
        project_id=s.project_id,
        caller=s.caller,
        dialed=s.dialed,
        arrived_at=s.arrived_at,
        ended_at=s.ended_at,
        used=billed.cost if billed else 0,
        billed_seconds=billed.billed_seconds if billed else 0,
        cost=billed.cost if billed else 0,
        tariff_id=tariff_id,
        advisor=s.advisor,
        answered_at=s.answered_at,
        charge_start_at=s.charge_start_at,
        quote=billed.as_dict() if billed else {},
        hangup_cause=s.hangup_cause,
        hangup_side=s.hangup_side,
    )


async def _remember_first_caller(
    session: AsyncSession, info: dict[str, Any], now: datetime
) -> None:
    """Seed 003: every caller that got the first-caller tariff is on the project's list."""
    project_id, line = int(info["project_id"]), str(info["caller"])
    entry = await session.scalar(
        select(FirstCaller).where(FirstCaller.project_id == project_id, FirstCaller.line == line)
    )
    if entry is None:
        session.add(FirstCaller(project_id=project_id, line=line, first_call_at=now, calls=1))
    else:
        entry.calls += 1

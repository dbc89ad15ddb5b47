"""An advisor's live state in the database, shared by every engine (issue 23): a call claims
the advisors it rings (``idle`` → ``ringing``) in one conditional write, so an advisor ringing
or talking for any engine is never offered a second call; the answering one becomes
``talking``; the end of the call gives every claim back, the talker after its wrap-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import aware, utcnow
from cards.db import Database
from cards.domain import HoldState
from cards.hunt import Member, Strategy, next_offer
from cards.models import Advisor, CallAttempt, HuntGroup, HuntMember, Number, Reservation
from cards.phone import to_e164


@dataclass(frozen=True)
class Candidate:
    """An advisor claimed for the call: ring it."""

    advisor_id: int
    name: str
    dial_string: str
    tariff_id: int | None = None
    """The advisor's own tariff: the call is rated anew with it if this advisor answers."""


def _candidate(a: Advisor) -> Candidate:
    return Candidate(a.id, a.name, a.dial_string, a.tariff_id)


@dataclass(frozen=True)
class Offer:
    """The advisors claimed for the next attempt (none: nobody is left) and the group's timing."""

    candidates: tuple[Candidate, ...]
    ring_timeout_s: int
    overall_timeout_s: int
    wrapup_s: int = 0
    extension_missed: bool = False


def _ms(moment: datetime) -> int:
    return int(aware(moment).timestamp() * 1000)


def _free(advisor: Advisor, now: datetime) -> bool:
    ready = advisor.ready_at is None or aware(advisor.ready_at) <= now
    return advisor.logged_in and advisor.state == "idle" and ready


def _claimable(now: datetime) -> object:
    return and_(
        Advisor.state == "idle",
        Advisor.logged_in.is_(True),
        or_(Advisor.ready_at.is_(None), Advisor.ready_at <= now),
    )


async def claim(
    db: Database,
    call_id: str,
    dialed: str,
    tried: frozenset[int],
    *,
    extension: str | None = None,
    now: datetime | None = None,
) -> Offer:
    """Claim whom the number's group offers next, never one of ``tried``; the advisor with
    ``extension`` first when the caller chose one and it is free."""
    moment = now or utcnow()
    async with db.transaction() as session:
        number = await session.scalar(select(Number).where(Number.e164 == to_e164(dialed)))
        group = None
        if number is not None:
            group = await session.scalar(select(HuntGroup).where(HuntGroup.number_id == number.id))
        if group is None:  # number or group taken away since the look-up: nobody to offer
            return Offer((), 0, 0)
        missed = False
        if extension is not None:
            chosen = await _claim_extension(session, group, call_id, extension, moment)
            if chosen is not None:
                timing = (group.ring_timeout_s, group.overall_timeout_s, group.wrapup_s)
                return Offer((chosen,), *timing)
            missed = True
        candidates = await _claim_in_group(session, group, call_id, tried, moment)
        return Offer(
            candidates, group.ring_timeout_s, group.overall_timeout_s, group.wrapup_s, missed
        )


async def _claim_extension(
    session: AsyncSession, group: HuntGroup, call_id: str, extension: str, now: datetime
) -> Candidate | None:
    """The group's advisor with this extension, claimed if free; None: unknown or not free."""
    advisor = await session.scalar(
        select(Advisor)
        .join(HuntMember, HuntMember.advisor_id == Advisor.id)
        .where(HuntMember.group_id == group.id, Advisor.extension == extension)
    )
    if advisor is None:
        return None
    result = await session.execute(
        update(Advisor)
        .where(Advisor.id == advisor.id, _claimable(now))  # type: ignore[arg-type]
        .values(state="ringing", call_id=call_id, state_since=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return _candidate(advisor)


async def _claim_in_group(
    session: AsyncSession,
    group: HuntGroup,
    call_id: str,
    tried: frozenset[int],
    now: datetime,
) -> tuple[Candidate, ...]:
    rows = (
        await session.scalars(
            select(Advisor)
            .join(HuntMember, HuntMember.advisor_id == Advisor.id)
            .where(HuntMember.group_id == group.id)
            .order_by(HuntMember.position)
        )
    ).all()
    by_id = {a.id: a for a in rows}
    taken: set[int] = set()
    while True:
        members = [
            Member(
                a.id,
                a.id not in taken and _free(a, now),
                _ms(a.last_call_end or a.created_at),
                a.calls_taken,
            )
            for a in rows
        ]
        offer = next_offer(Strategy(group.strategy), members, tried, group.last_offered)
        if not offer:
            return ()
        claimed = []
        for advisor_id in offer:
            # Another engine may have claimed it since the read: the write decides.
            result = await session.execute(
                update(Advisor)
                .where(Advisor.id == advisor_id, _claimable(now))  # type: ignore[arg-type]
                .values(state="ringing", call_id=call_id, state_since=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(by_id[advisor_id])
            else:
                taken.add(advisor_id)
        if claimed:
            group.last_offered = claimed[-1].id
            return tuple(_candidate(a) for a in claimed)


async def answered(
    db: Database, call_id: str, advisor_id: int, now: datetime | None = None
) -> None:
    """The advisor's leg answered: ``talking`` until the call ends."""
    async with db.transaction() as session:
        await session.execute(
            update(Advisor)
            .where(Advisor.id == advisor_id, Advisor.call_id == call_id)
            .values(state="talking", state_since=now or utcnow())
        )


async def release(
    db: Database, call_id: str, advisor_ids: frozenset[int], *, now: datetime | None = None
) -> None:
    """Attempts of this call that ended unanswered: their advisors are free again at once.
    Another call's claim is never touched."""
    async with db.transaction() as session:
        await session.execute(
            update(Advisor)
            .where(Advisor.id.in_(advisor_ids), Advisor.call_id == call_id)
            .values(state="idle", call_id=None, state_since=now or utcnow())
        )


@dataclass(frozen=True)
class AttemptRow:
    advisor_id: int | None
    advisor: str
    dial_string: str
    outcome: str
    started_at: datetime
    ring_ms: int


async def finish(
    db: Database,
    call_id: str,
    attempts: list[AttemptRow],
    *,
    answered: int | None,
    wrapup_s: int,
    now: datetime | None = None,
) -> None:
    """The end of a hunted call, in one transaction: every attempt on record, every claim of
    the call given back; the advisor who ``answered`` counts the call and is offered the next
    one after its wrap-up."""
    moment = now or utcnow()
    async with db.transaction() as session:
        rate = None
        if answered is not None:
            rate = await session.scalar(select(Advisor.payout_rate).where(Advisor.id == answered))
        session.add_all(
            CallAttempt(
                call_id=call_id,
                position=i,
                payout_rate=rate if a.outcome == "answered" else None,
                **vars(a),
            )
            for i, a in enumerate(attempts)
        )
        idle = {"state": "idle", "call_id": None, "state_since": moment}
        if answered is not None:
            await session.execute(
                update(Advisor)
                .where(Advisor.id == answered, Advisor.call_id == call_id)
                .values(
                    **idle,
                    last_call_end=moment,
                    ready_at=moment + timedelta(seconds=wrapup_s),
                    calls_taken=Advisor.calls_taken + 1,
                )
            )
        await session.execute(update(Advisor).where(Advisor.call_id == call_id).values(**idle))


ORPHAN_GRACE_S = 30
"""A claim is an orphan once its call has no open hold for this long: the end of a call
settles first and gives its claims back a moment later."""


async def release_orphans(db: Database, *, now: datetime | None = None) -> list[str]:
    """Give back the claims of calls that hold nothing any more — an engine died, or the end of
    its call could not reach the database — so their advisors take calls again. Every hunted
    call holds from before its first claim until it is settled."""
    moment = now or utcnow()
    live = select(Reservation.call_id).where(Reservation.state == HoldState.OPEN)
    orphaned = and_(
        Advisor.call_id.is_not(None),
        Advisor.state_since <= moment - timedelta(seconds=ORPHAN_GRACE_S),
        Advisor.call_id.not_in(live),
    )
    async with db.transaction() as session:
        names = list((await session.scalars(select(Advisor.name).where(orphaned))).all())
        if names:
            await session.execute(
                update(Advisor)
                .where(orphaned)
                .values(state="idle", call_id=None, state_since=moment)
                .execution_options(synchronize_session=False)
            )
        return names

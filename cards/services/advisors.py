"""Advisors as records of their own (issue 23): add, read, change and remove them, each change
audited in its own transaction; and the live state every engine sharing the database reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.amounts import show_amount
from cards.clock import aware, utcnow
from cards.db import Database
from cards.errors import Conflict, InvalidInput, NotFound
from cards.models import Advisor, HuntMember, Project, Tariff
from cards.pins import check_secret, hash_pin, new_pin
from cards.services.operator_log import note
from cards.services.projects import find_project, find_tariff, settings_of

_EXTENSION = re.compile(r"[0-9]{1,8}", re.ASCII)
PIN_DOMAIN = "advisor:"
"""Prefixed to an advisor's PIN before hashing: its hash never equals a card PIN's."""
STATES = ("logged_out", "available", "wrap_up", "ringing", "talking")


def extension(text: str) -> str:
    """An advisor's extension ("Beraterdurchwahl"): 1–8 digits a caller can type."""
    if not _EXTENSION.fullmatch(text):
        raise InvalidInput(f"extension {text[:20]!r}: 1–8 digits")
    return text


def payout_rate(value: int) -> int:
    """Payout per talked minute in 1/10,000 EUR (at most 1,000 EUR a minute)."""
    return validate.whole(value, "payout rate", high=10_000_000)


def pin_hash(secret: bytes, project_id: int, pin: str) -> str:
    return hash_pin(secret, project_id, PIN_DOMAIN + pin)


def live_state(advisor: Advisor, now: datetime) -> str:
    """One of ``STATES``: what a caller would meet now."""
    if advisor.state != "idle":
        return advisor.state
    if not advisor.logged_in:
        return "logged_out"
    if advisor.ready_at is not None and aware(advisor.ready_at) > now:
        return "wrap_up"
    return "available"


@dataclass(frozen=True)
class Issued:
    """An advisor just written, and its login PIN when one was made (shown once, never kept)."""

    advisor: Advisor
    project: Project
    pin: str | None = None
    tariff: str | None = None
    """The name of the advisor's own tariff, if it has one."""


async def _fresh_pin(session: AsyncSession, project: Project, secret: bytes) -> tuple[str, str]:
    check_secret(project, secret)
    query = select(Advisor.pin_hash).where(Advisor.project_id == project.id)
    taken = set((await session.scalars(query)).all())
    while True:
        pin = new_pin(settings_of(project).pin_length)
        digest = pin_hash(secret, project.id, pin)
        if digest not in taken:
            return pin, digest


async def _unique(session: AsyncSession, advisor: Advisor) -> None:
    """Name and extension are the project's own: refuse a second one with a clear line."""
    clauses = [Advisor.name == advisor.name]
    if advisor.extension is not None:
        clauses.append(Advisor.extension == advisor.extension)
    for clause, what in zip(clauses, ("name", "extension"), strict=False):
        other = await session.scalar(
            select(Advisor.id).where(Advisor.project_id == advisor.project_id, clause)
        )
        if other is not None and other != advisor.id:
            raise Conflict(f"another advisor of this project has this {what}")


def describe(advisor: Advisor, tariff: str | None = None) -> str:
    ext = f", extension {advisor.extension}" if advisor.extension else ""
    own = f", tariff {tariff}" if tariff else ""
    payout = show_amount(advisor.payout_rate, "money")
    return f"advisor {advisor.name}: {advisor.dial_string}, payout {payout}/min{ext}{own}"


async def _tariff_name(session: AsyncSession, advisor: Advisor) -> str | None:
    if advisor.tariff_id is None:
        return None
    return await session.scalar(select(Tariff.name).where(Tariff.id == advisor.tariff_id))


async def add_advisor(
    db: Database,
    project_ref: str | int,
    name: str,
    dial_string: str,
    *,
    secret: bytes,
    payout: int = 0,
    ext: str | None = None,
    tariff: str | None = None,
    actor: str = "cardadmin",
    reason: str | None = None,
    now: datetime | None = None,
) -> Issued:
    """Add an advisor, logged in; ``tariff``: one of the project's tariffs, rating the calls
    this advisor answers (seed 004's price per offer)."""
    moment = now or utcnow()
    row = Advisor(
        name=validate.name(name, "advisor name"),
        dial_string=validate.dial_string(dial_string),
        payout_rate=payout_rate(payout),
        extension=None if ext is None else extension(ext),
        logged_in=True,
        state="idle",
        calls_taken=0,
        state_since=moment,
        created_at=moment,
    )
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row.project_id = project.id
        if tariff is not None:
            row.tariff_id = (await find_tariff(session, project, tariff)).id
        await _unique(session, row)
        pin, row.pin_hash = await _fresh_pin(session, project, secret)
        session.add(row)
        await session.flush()
        await note(
            session, actor=actor, action="advisor_add", project_id=project.id,
            subject=describe(row, tariff), reason=reason, now=moment,
        )  # fmt: skip
        return Issued(row, project, pin, tariff)


async def find_advisor(session: AsyncSession, project: Project, name: str) -> Advisor:
    row = await session.scalar(
        select(Advisor).where(Advisor.project_id == project.id, Advisor.name == name.strip())
    )
    if row is None:
        raise NotFound(f"project {project.name} has no advisor {name.strip()[:80]!r}")
    return row


async def list_advisors(db: Database, project_ref: str | int) -> list[Issued]:
    """Every advisor of the project, each with its own tariff's name."""
    async with db.read() as session:
        project = await find_project(session, project_ref)
        query = (
            select(Advisor, Tariff.name)
            .outerjoin(Tariff, Tariff.id == Advisor.tariff_id)
            .where(Advisor.project_id == project.id)
            .order_by(Advisor.id)
        )
        return [Issued(a, project, None, name) for a, name in await session.execute(query)]


async def list_for_project(db: Database, project_id: int) -> list[tuple[Advisor, str | None]]:
    """The API's read (a token knows its project by id): each advisor and its own tariff."""
    async with db.read(snapshot=False) as session:
        query = (
            select(Advisor, Tariff.name)
            .outerjoin(Tariff, Tariff.id == Advisor.tariff_id)
            .where(Advisor.project_id == project_id)
            .order_by(Advisor.id)
        )
        return [(a, name) for a, name in await session.execute(query)]


async def get_advisor(db: Database, project_ref: str | int, name: str) -> Issued:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        row = await find_advisor(session, project, name)
        return Issued(row, project, None, await _tariff_name(session, row))


@dataclass(frozen=True)
class Change:
    """What ``advisor set`` changes; None leaves a field as it is."""

    dial_string: str | None = None
    payout: int | None = None
    ext: str | None = None
    """An extension, or "" to take it away."""
    new_pin: bool = False
    tariff: str | None = None
    """One of the project's tariffs, or "" to take the advisor's own tariff away."""


async def set_advisor(
    db: Database,
    project_ref: str | int,
    name: str,
    change: Change,
    *,
    secret: bytes | None = None,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> Issued:
    if change == Change():
        raise InvalidInput(
            "nothing to change: give a new dial string, payout, extension, tariff or PIN"
        )
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = await find_advisor(session, project, name)
        if change.dial_string is not None:
            row.dial_string = validate.dial_string(change.dial_string)
        if change.payout is not None:
            row.payout_rate = payout_rate(change.payout)
        if change.ext is not None:
            row.extension = extension(change.ext) if change.ext else None
        if change.tariff is not None:
            own = await find_tariff(session, project, change.tariff) if change.tariff else None
            row.tariff_id = None if own is None else own.id
        await _unique(session, row)
        pin = None
        if change.new_pin:
            if secret is None:
                raise InvalidInput("a new PIN needs the PIN secret")
            pin, row.pin_hash = await _fresh_pin(session, project, secret)
        await session.flush()
        tariff = await _tariff_name(session, row)
        subject = describe(row, tariff) + (", new PIN" if pin else "")
        await note(
            session, actor=actor, action="advisor_set", project_id=project.id,
            subject=subject, reason=reason,
        )  # fmt: skip
        return Issued(row, project, pin, tariff)


async def remove_advisor(
    db: Database,
    project_ref: str | int,
    name: str,
    *,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> str:
    """Remove an advisor that takes no call now and rings in no group."""
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = await find_advisor(session, project, name)
        if row.state != "idle":
            raise Conflict(f"advisor {row.name} is {row.state} now: remove it after the call")
        if await session.scalar(select(HuntMember.id).where(HuntMember.advisor_id == row.id)):
            raise Conflict(f"advisor {row.name} rings in a number's group: take it out first")
        await note(
            session, actor=actor, action="advisor_remove", project_id=project.id,
            subject=describe(row, await _tariff_name(session, row)), reason=reason,
        )  # fmt: skip
        await session.delete(row)
        return row.name


async def api_view(
    db: Database, project_id: int, now: datetime | None = None
) -> list[dict[str, object]]:
    """``GET /v1/advisors``: every advisor of the token's project with its live state."""
    moment = now or utcnow()
    return [advisor_view(a, moment, t) for a, t in await list_for_project(db, project_id)]


def advisor_view(a: Advisor, now: datetime, tariff: str | None) -> dict[str, object]:
    """One advisor as the API shows it (OpenAPI schema ``Advisor``)."""
    return {
        "name": a.name,
        "extension": a.extension,
        "state": live_state(a, now),
        "payout_rate": a.payout_rate,
        "calls_taken": a.calls_taken,
        "tariff": tariff,
    }


async def set_login(
    db: Database,
    project_ref: str | int,
    name: str,
    logged_in: bool,
    *,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> Issued:
    """Log an advisor in or out: only logged-in advisors are offered calls (a call ringing or
    talking now goes on). State survives an engine restart: it is in the database."""
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = await find_advisor(session, project, name)
        if row.logged_in != logged_in:
            row.logged_in = logged_in
            action = "advisor_login" if logged_in else "advisor_logout"
            await note(
                session, actor=actor, action=action, project_id=project.id,
                subject=f"advisor {row.name} logged {'in' if logged_in else 'out'}",
                reason=reason,
            )  # fmt: skip
        return Issued(row, project, None, await _tariff_name(session, row))

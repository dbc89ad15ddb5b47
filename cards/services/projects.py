"""Projects, their numbers and tariffs; converting a stored tariff into a rating Tariff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.amounts import show_amount
from cards.clock import utcnow
from cards.db import Database
from cards.errors import Conflict, InvalidInput, NotFound
from cards.models import Number, Project, Tariff
from cards.phone import is_toll_free, to_e164
from cards.services.operator_log import note
from cards.settings import ProjectSettings
from prompts.languages import LANGUAGES
from rating import CallerClass, ChargingStart, Increments, Unit
from rating import Tariff as RatingTariff


async def create_project(
    db: Database,
    name: str,
    unit: str,
    settings: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Project:
    name = validate.name(name, "project name")
    try:
        the_unit = Unit(unit)
    except ValueError as exc:
        raise InvalidInput(f"unit must be minutes or money, got {unit!r}") from exc
    checked = ProjectSettings.from_dict(settings or {})
    project = Project(
        name=name, unit=the_unit.value, settings=checked.as_dict(), created_at=now or utcnow()
    )
    try:
        async with db.transaction() as session:
            session.add(project)
    except IntegrityError as exc:
        raise Conflict(f"project {name!r} exists") from exc
    return project


async def find_project(session: AsyncSession, ref: str | int) -> Project:
    """A project by id or by name."""
    text = str(ref).strip()
    query = select(Project).where(
        Project.id == int(text)
        if text.isascii() and text.isdigit() and len(text) < 10
        else Project.name == text
    )
    project = await session.scalar(query)
    if project is None:
        raise NotFound(f"no project {text!r}")
    return project


async def get_project(db: Database, ref: str | int) -> Project:
    async with db.read() as session:
        return await find_project(session, ref)


async def list_projects(db: Database) -> list[Project]:
    async with db.read() as session:
        return list((await session.scalars(select(Project).order_by(Project.id))).all())


def settings_of(project: Project) -> ProjectSettings:
    return ProjectSettings.from_dict(project.settings)


async def set_tariff(
    db: Database,
    project_ref: str | int,
    name: str,
    *,
    increments: Increments,
    rates: dict[str, int],
    connect_fee: int = 0,
    charging_start: str = "answer",
    free_seconds: int = 0,
    rounding_step: int = 1,
    max_call_seconds: int = 14_400,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> Tariff:
    """Create or replace the tariff ``name`` of a project; validated by the rating core first."""
    name = validate.name(name, "tariff name")
    validate.whole(connect_fee, "connect fee")
    validate.whole(free_seconds, "free seconds")
    validate.whole(max_call_seconds, "max call seconds", low=1)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = await session.scalar(
            select(Tariff).where(Tariff.project_id == project.id, Tariff.name == name)
        ) or Tariff(project_id=project.id, name=name)
        row.initial, row.subsequent = increments.initial, increments.subsequent
        row.rates = dict(rates)
        row.connect_fee = connect_fee
        row.charging_start = charging_start
        row.free_seconds = free_seconds
        row.rounding_step = rounding_step
        row.max_call_seconds = max_call_seconds
        rating_tariff(row, project.unit)
        session.add(row)
        await session.flush()
        prices = ", ".join(
            f"{k} {show_amount(v, project.unit) if project.unit == 'money' else f'x{v}'}"
            for k, v in sorted(rates.items())
        )
        await note(
            session, actor=actor, action="tariff", project_id=project.id,
            subject=f"tariff {name}: {increments.initial}/{increments.subsequent}, {prices}",
            reason=reason,
        )  # fmt: skip
        return row


def rating_tariff(row: Tariff, unit: str) -> RatingTariff:
    """The pure rating object for a stored tariff; InvalidInput when it does not make sense."""
    rates = {CallerClass(k): int(v) for k, v in row.rates.items()}
    try:
        return RatingTariff(
            Unit(unit),
            Increments(row.initial, row.subsequent),
            prices=rates if unit == Unit.MONEY else {},
            multipliers=rates if unit == Unit.MINUTES else {},
            connect_fee=row.connect_fee,
            charging_start=ChargingStart(row.charging_start),
            free_seconds=row.free_seconds,
            rounding_step=row.rounding_step,
            max_call_seconds=row.max_call_seconds,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"tariff {row.name!r}: {exc}") from exc


async def find_tariff(session: AsyncSession, project: Project, name: str) -> Tariff:
    row = await session.scalar(
        select(Tariff).where(Tariff.project_id == project.id, Tariff.name == name)
    )
    if row is None:
        raise NotFound(f"project {project.name!r} has no tariff {name!r}")
    return row


async def get_tariff(db: Database, project_ref: str | int, name: str) -> tuple[Project, Tariff]:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        return project, await find_tariff(session, project, name)


async def add_number(
    db: Database,
    project_ref: str | int,
    number: str,
    role: str,
    *,
    destination: str | None = None,
    tariff: str | None = None,
    first_caller_tariff: str | None = None,
    first_caller_days: int = 0,
    first_caller_calls: int = 0,
    accepts_mobile: bool | None = None,
    accepts_foreign: bool | None = None,
    accepts_payphone: bool = True,
    default_advisor: bool = False,
    lang: str | None = None,
) -> Number:
    """Route a number to the engine; 0800 numbers refuse mobile and foreign callers by default."""
    if role not in ("card", "advisor", "login"):
        raise InvalidInput(f"role must be card, advisor or login, got {role!r}")
    if lang is not None and lang not in LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    validate.whole(first_caller_days, "first-caller days", high=36_500)
    validate.whole(first_caller_calls, "first-caller calls")
    e164 = to_e164(number)
    free = is_toll_free(e164)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = Number(
            project_id=project.id,
            e164=e164,
            role=role,
            accepts_mobile=(not free) if accepts_mobile is None else accepts_mobile,
            accepts_foreign=(not free) if accepts_foreign is None else accepts_foreign,
            accepts_payphone=accepts_payphone,
            is_default_advisor=default_advisor,
            first_caller_days=first_caller_days,
            first_caller_calls=first_caller_calls,
            lang=lang,
        )
        if role == "advisor":
            if not destination or not tariff:
                raise InvalidInput("an advisor number needs --destination and --tariff")
            row.destination = validate.dial_string(destination)
            row.tariff_id = (await find_tariff(session, project, tariff)).id
            if first_caller_tariff:
                row.first_caller_tariff_id = (
                    await find_tariff(session, project, first_caller_tariff)
                ).id
        elif destination or tariff or default_advisor:
            raise InvalidInput(f"a {role} number has no destination, tariff or default flag")
        if await session.scalar(select(Number.id).where(Number.e164 == e164)):
            raise Conflict(f"{e164} is already routed")
        session.add(row)
        await session.flush()
        return row


async def list_numbers(db: Database, project_ref: str | int | None = None) -> list[Number]:
    async with db.read() as session:
        query = select(Number).order_by(Number.id)
        if project_ref is not None:
            query = query.where(Number.project_id == (await find_project(session, project_ref)).id)
        return list((await session.scalars(query)).all())


async def find_number(session: AsyncSession, number: str) -> Number:
    e164 = to_e164(number)
    row = await session.scalar(select(Number).where(Number.e164 == e164))
    if row is None:
        raise NotFound(f"{e164} is not routed to minutecard")
    return row


async def remove_number(db: Database, number: str) -> str:
    async with db.transaction() as session:
        row = await find_number(session, number)
        await session.delete(row)
        return row.e164

"""What the engine asks before a call: the dialed number, the caller's card, the tariff to use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select

from cards.clock import utcnow
from cards.db import Database
from cards.domain import NumberRole
from cards.errors import InvalidInput
from cards.models import Card, HuntGroup, LineBinding, Number, OpeningHours, Project, Tariff
from cards.opening_hours import Hours
from cards.phone import LineKind, line_kind, to_e164
from cards.services.activation import usable_refusal
from cards.services.credit_line import spendable
from cards.services.ledger import held
from cards.services.projects import rating_tariff, settings_of
from cards.settings import ProjectSettings
from rating import CallerClass, Unit, affordable_seconds


@dataclass(frozen=True)
class Route:
    """The dialed number as the engine needs it; ``number`` None when it is not ours."""

    number: Number | None
    project: Project | None = None
    settings: ProjectSettings | None = None
    accepts_caller: bool = True
    card_id: int | None = None
    default_advisor: str | None = None
    lang: str = "de"
    hunts: bool = False
    """The number rings a group of advisors (issue 23)."""
    closed: bool = False
    """Outside the number's opening hours now (issue 23)."""
    extensions: bool = False
    """Its callers may choose an advisor by extension (issue 23)."""


def prompt_language(caller: str | None, fixed: str | None = None) -> str:
    """The number's fixed language, else German for German callers and English for the rest."""
    if fixed:
        return fixed
    return "de" if caller and caller.startswith("+49") else "en"


def caller_kind(caller: str, *, payphone: bool = False) -> LineKind:
    return LineKind.PAYPHONE if payphone else line_kind(caller)


CALLER_FORMATS = ("national", "international")
"""How a trunk sends caller numbers: ``national`` (0…, 00…, or +…) or ``international``
(country code without + or 00, e.g. 4930123456). Never guessed: 4915112345678 read as national
is a "valid" +49 4915112345678 (ASTERISK-NOTES, "Caller numbers")."""


def caller_class(caller: str, *, payphone: bool = False) -> CallerClass:
    """The price class of a caller line; payphones pay the fixed-line price."""
    kind = caller_kind(caller, payphone=payphone)
    return CallerClass.FIXED if kind is LineKind.PAYPHONE else CallerClass(kind.value)


def normalise_caller(raw: str | None, trunk_format: str = "national") -> str | None:
    """E.164 of a caller number, or None for anonymous / empty / unparseable ones."""
    if not raw or raw.strip().lower() in {"anonymous", "unknown", "restricted", "private"}:
        return None
    text = raw.strip()
    if trunk_format == "international" and text.isdigit():
        text = "+" + text
    try:
        return to_e164(text)
    except InvalidInput:
        return None


# Built once: routing runs on every call, and building a statement takes more CPU than the
# database takes to run it.
_ROUTE_READ = (
    select(Number, Project, Card, HuntGroup.extensions, OpeningHours.hours)
    .join(Project, Project.id == Number.project_id)
    .outerjoin(HuntGroup, HuntGroup.number_id == Number.id)
    .outerjoin(OpeningHours, OpeningHours.number_id == Number.id)
    .outerjoin(
        LineBinding,
        and_(LineBinding.project_id == Project.id, LineBinding.line == bindparam("caller")),
    )
    .outerjoin(Card, Card.id == LineBinding.card_id)
    .where(Number.e164 == bindparam("e164"))
)
"""One read: the number, its project, the card bound to this caller's line and the number's
group of advisors and opening hours, if any."""
_DEFAULT_ADVISOR = select(Number.e164).where(
    Number.project_id == bindparam("project"),
    Number.role == NumberRole.ADVISOR,
    Number.is_default_advisor.is_(True),
)


async def route(
    db: Database, dialed: str, caller: str, *, payphone: bool = False, now: datetime | None = None
) -> Route:
    moment = now or utcnow()
    try:
        e164 = to_e164(dialed)
    except InvalidInput:
        return Route(None)
    async with db.read(snapshot=False) as session:
        found = (await session.execute(_ROUTE_READ, {"e164": e164, "caller": caller})).first()
        if found is None:
            return Route(None)
        number, project, card, extensions, hours = found
        kind = caller_kind(caller, payphone=payphone)
        accepts = {
            LineKind.MOBILE: number.accepts_mobile,
            LineKind.FOREIGN: number.accepts_foreign,
            LineKind.PAYPHONE: number.accepts_payphone,
        }
        default = None
        if number.role == NumberRole.CARD:  # only a card number offers the default advisor
            default = await session.scalar(_DEFAULT_ADVISOR, {"project": project.id})
        return Route(
            number,
            project,
            settings_of(project),
            accepts.get(kind, True),
            None if card is None or usable_refusal(card, moment) else card.id,
            default,
            prompt_language(caller, number.lang),
            extensions is not None,  # a group's column: None when there is no group
            hours is not None and not Hours.from_json(hours).is_open(moment),
            bool(extensions),
        )


async def card_seconds(db: Database, card_id: int, caller: str, *, payphone: bool = False) -> int:
    """Talk seconds a card is worth to this caller: its seconds for minute cards; for money
    cards what the project's default (else first) advisor tariff affords."""
    async with db.read() as session:
        card = await session.get_one(Card, card_id)
        project = await session.get_one(Project, card.project_id)
        available = await spendable(session, card) - await held(session, card_id)
        if project.unit == Unit.MINUTES:
            return max(available, 0)
        number = await session.scalar(
            select(Number)
            .where(
                Number.project_id == project.id,
                Number.role == NumberRole.ADVISOR,
                Number.tariff_id.is_not(None),
            )
            .order_by(Number.is_default_advisor.desc(), Number.id)
        )
        if number is None or number.tariff_id is None:
            return 0
        row = await session.get_one(Tariff, number.tariff_id)
    cls = caller_class(caller, payphone=payphone)
    return affordable_seconds(rating_tariff(row, project.unit), cls, max(available, 0))

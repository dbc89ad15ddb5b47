"""Online top-up orders (issue 24): the card a caller pays for, a new order, and what an order
looks like to the caller's page, the API and the CLI. The moves are in ``order_moves``."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.clock import aware, utcnow
from cards.db import Database
from cards.domain import NumberRole, OrderStatus
from cards.errors import CardsError, InvalidInput, NotFound
from cards.models import Card, LineBinding, Number, Order, Project
from cards.models import Tariff as TariffRow
from cards.money_rules import Move, check_move
from cards.phone import to_e164
from cards.services.ledger import check_topup
from cards.services.projects import find_project, rating_tariff
from cards.services.routing import caller_class
from cards.settings import ProjectSettings
from rating import Unit, affordable_seconds

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Digits and capitals without 0/O, 1/I/L: read aloud or typed into a bank form unmistakably."""
PROVIDERS = ("transfer", "webhook", "paypal")
REFERENCE_LENGTH = len("MC-XXXX-XXXX")


def new_reference() -> str:
    """``MC-XXXX-XXXX``: 31^8 (about 2^39) from the system's CSPRNG."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"MC-{body[:4]}-{body[4:]}"


def masked(serial: str) -> str:
    return f"…{serial[-4:]}"


@dataclass(frozen=True)
class PayableCard:
    """A card the caller proved to know (line and serial); ``refusal`` when it cannot be paid."""

    serial: str
    masked_serial: str
    project: str
    project_label: str
    balance: int
    minutes_left: int
    denominations: list[int]
    refusal: str | None


@dataclass(frozen=True)
class OrderView:
    reference: str
    project: str
    project_id: int
    status: OrderStatus
    amount: int
    credited: int
    masked_serial: str
    provider: str
    created_at: datetime
    authorized_at: datetime | None
    credited_at: datetime | None
    captured_at: datetime | None
    closed_at: datetime | None
    balance_after: int | None
    taken_back: int
    receivable: int
    note: str | None
    provider_order_id: str | None
    authorization_id: str | None

    def as_json(self) -> dict[str, object]:
        """The API's and ``--json``'s shape: times in ISO 8601, amounts as integers."""

        def when(at: datetime | None) -> str | None:
            return aware(at).isoformat() if at else None

        return {
            "reference": self.reference,
            "project": self.project,
            "status": self.status.value,
            "amount": self.amount,
            "credited": self.credited,
            "card": self.masked_serial,
            "provider": self.provider,
            "created_at": when(self.created_at),
            "authorized_at": when(self.authorized_at),
            "credited_at": when(self.credited_at),
            "captured_at": when(self.captured_at),
            "closed_at": when(self.closed_at),
            "balance_after": self.balance_after,
            "taken_back": self.taken_back,
            "receivable": self.receivable,
            "note": self.note,
        }


def view_of(order: Order, card: Card, project: Project) -> OrderView:
    return OrderView(
        reference=order.reference, project=project.name, project_id=project.id,
        status=order.status,
        amount=order.amount, credited=order.credited, masked_serial=masked(card.serial),
        provider=order.provider, created_at=order.created_at, authorized_at=order.authorized_at,
        credited_at=order.credited_at, captured_at=order.captured_at, closed_at=order.closed_at,
        balance_after=order.balance_after, taken_back=order.taken_back,
        receivable=order.receivable, note=order.note, provider_order_id=order.provider_order_id,
        authorization_id=order.authorization_id,
    )  # fmt: skip


def refusal_of(card: Card, now: datetime) -> str | None:
    """Why no top-up may be paid for the card now (``money_rules``: its ``code``), or None."""
    try:
        check_move(card, Move.TOPUP, now)
    except CardsError as exc:
        return exc.code
    return None


def _serial_matches(card_serial: str, typed: str) -> bool:
    """The whole serial or its last four digits, compared in constant time."""
    text = typed.strip()
    if len(text) == 4 and text.isascii() and text.isdigit():
        return hmac.compare_digest(card_serial[-4:].encode(), text.encode())
    return hmac.compare_digest(card_serial.encode(), text.encode("utf-8", "replace"))


async def _minutes_left(session: AsyncSession, project: Project, line: str, credit: int) -> int:
    """Whole minutes the credit buys at the project's standard tariff (the default advisor
    number's, else the first advisor number's) from this line; 0 when it has none."""
    row = await session.scalar(
        select(TariffRow)
        .join(Number, Number.tariff_id == TariffRow.id)
        .where(Number.project_id == project.id, Number.role == NumberRole.ADVISOR)
        .order_by(Number.is_default_advisor.desc(), Number.id)
        .limit(1)
    )
    if row is None or credit <= 0:
        return 0
    return affordable_seconds(rating_tariff(row, project.unit), caller_class(line), credit) // 60


async def find_card_for_payment(
    db: Database, *, project: str, line: str, serial: str
) -> PayableCard | None:
    """The card bound to ``line`` (national or international, as typed) in ``project`` when
    ``serial`` is its serial or the serial's last four digits; None for any mismatch, so the page
    answers an unknown line and a wrong serial alike."""
    if not (project.isprintable() and serial.isprintable()):
        return None  # PostgreSQL refuses a NUL in text: never ask it
    try:
        e164 = to_e164(line)
    except InvalidInput:
        return None
    async with db.read() as session:
        found = (
            await session.execute(
                select(Card, Project)
                .join(LineBinding, LineBinding.card_id == Card.id)
                .join(Project, Project.id == LineBinding.project_id)
                .where(Project.name == project.strip(), LineBinding.line == e164)
            )
        ).first()
        if found is None or not _serial_matches(found[0].serial, serial):
            return None
        card, row = found
        settings = ProjectSettings.from_dict(row.settings)
        return PayableCard(
            serial=card.serial,
            masked_serial=masked(card.serial),
            project=row.name,
            project_label=str(row.settings.get("label") or row.name),
            balance=card.balance,
            minutes_left=await _minutes_left(session, row, e164, card.balance),
            denominations=list(settings.denominations),
            refusal=refusal_of(card, utcnow()),
        )


async def create_order(
    db: Database, *, project: str, serial: str, amount: int, provider: str, actor: str
) -> OrderView:
    """A new order for one of the project's denominations on a card that can take a top-up now;
    nothing moves until the provider authorizes."""
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown payment provider {provider!r}; one of {', '.join(PROVIDERS)}")
    validate.whole(amount, "amount", low=1)
    if not (project.isprintable() and serial.isprintable()):
        raise NotFound("no such card")
    async with db.transaction() as session:
        row = await find_project(session, project)
        if row.unit != Unit.MONEY:
            raise InvalidInput(f"project {row.name} counts minutes: it sells no credit online")
        card = await session.scalar(
            select(Card).where(Card.serial == serial.strip(), Card.project_id == row.id)
        )
        if card is None:
            raise NotFound(f"no card {serial[:24]!r} in project {row.name}")
        now = utcnow()
        check_move(card, Move.TOPUP, now)
        settings = ProjectSettings.from_dict(row.settings)
        if not settings.denominations:
            raise InvalidInput(f"project {row.name} has no denominations to sell online")
        check_topup(settings, amount, row.unit)
        reference = new_reference()
        while await session.scalar(select(Order.id).where(Order.reference == reference)):
            reference = new_reference()  # one in 2^39 per order: drawn again, never reused
        order = Order(
            reference=reference, project_id=row.id, card_id=card.id, amount=amount,
            provider=provider, status=OrderStatus.CREATED, actor=validate.label(actor, "actor"),
            created_at=now, credited=0, taken_back=0, receivable=0,
        )  # fmt: skip
        session.add(order)
        await session.flush()
        return view_of(order, card, row)


def plausible(reference: str) -> bool:
    """Worth asking the database for (PostgreSQL refuses a NUL; no reference is longer)."""
    return reference.isprintable() and len(reference.strip()) <= REFERENCE_LENGTH


async def order_view(db: Database, reference: str) -> OrderView | None:
    if not plausible(reference):
        return None
    async with db.read() as session:
        found = (await session.execute(_with_card(reference.strip().upper()))).first()
    if found is None:
        return None
    order, card, project = found
    return view_of(order, card, project)


def _with_card(reference: str) -> Select[Order, Card, Project]:
    return (
        select(Order, Card, Project)
        .join(Card, Card.id == Order.card_id)
        .join(Project, Project.id == Order.project_id)
        .where(Order.reference == reference)
    )


def cursor_of(order_id: int) -> str:
    return base64.urlsafe_b64encode(f"o{order_id}".encode()).decode().rstrip("=")


class BadCursor(InvalidInput):
    code = "after"


MAX_ID_DIGITS = 18
"""Below 2**63: an id PostgreSQL's bigint and SQLite's integer take (a longer one is forged)."""


def _after_id(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor("after: not a cursor this list gave") from exc
    digits = text[1:]
    if not (text.startswith("o") and digits.isascii() and digits.isdigit()):
        raise BadCursor("after: not a cursor this list gave")
    if len(digits) > MAX_ID_DIGITS:
        raise BadCursor("after: not a cursor this list gave")
    return int(digits)


@dataclass(frozen=True)
class OrderPage:
    items: list[OrderView]
    next_after: str | None


async def list_orders(
    db: Database,
    *,
    project_id: int | None = None,
    status: OrderStatus | None = None,
    limit: int = 100,
    after: str | None = None,
) -> OrderPage:
    """Newest first, ``limit`` at a time; ``next_after`` continues after the page's last."""
    validate.whole(limit, "limit", low=1, high=500)
    query = (
        select(Order, Card, Project)
        .join(Card, Card.id == Order.card_id)
        .join(Project, Project.id == Order.project_id)
        .order_by(Order.id.desc())
        .limit(limit + 1)
    )
    if project_id is not None:
        query = query.where(Order.project_id == project_id)
    if status is not None:
        query = query.where(Order.status == status)
    if after:
        query = query.where(Order.id < _after_id(after))
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    page = rows[:limit]
    items = [view_of(order, card, project) for order, card, project in page]
    return OrderPage(items, cursor_of(page[-1][0].id) if len(rows) > limit else None)

"""The tables of the money domain (SQLAlchemy 2 declarative); migrations mirror them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

from cards.domain import (
    CardStatus,
    CustomerKind,
    EntryKind,
    EnumText,
    HoldState,
    NumberRole,
    OrderStatus,
    TokenScope,
)
from rating import Unit

Money = BigInteger  # 1/10,000 EUR or card seconds, per the project's unit


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Project(Base):
    """A billing profile (seed 003): owns numbers, tariffs and cards; its unit is fixed."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    unit: Mapped[Unit] = mapped_column(EnumText(Unit, 16))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    pin_key: Mapped[str | None] = mapped_column(String(16), default=None)
    """Fingerprint of the PIN secret its PINs are hashed with (``pins.fingerprint``)."""


class Tariff(Base):
    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(80))
    initial: Mapped[int] = mapped_column(Integer)
    subsequent: Mapped[int] = mapped_column(Integer)
    rates: Mapped[dict[str, Any]] = mapped_column(default=dict)
    connect_fee: Mapped[int] = mapped_column(Money, default=0)
    charging_start: Mapped[str] = mapped_column(String(24), default="answer")
    free_seconds: Mapped[int] = mapped_column(Integer, default=0)
    rounding_step: Mapped[int] = mapped_column(Integer, default=1)
    max_call_seconds: Mapped[int] = mapped_column(Integer, default=14_400)


class Number(Base):
    """An E.164 number routed to the engine: a card (activation) or an advisor number."""

    __tablename__ = "numbers"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[NumberRole] = mapped_column(EnumText(NumberRole, 8))
    destination: Mapped[str | None] = mapped_column(String(120))
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))
    first_caller_tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))
    first_caller_days: Mapped[int] = mapped_column(Integer, default=0)
    first_caller_calls: Mapped[int] = mapped_column(Integer, default=0)
    accepts_mobile: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_foreign: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_payphone: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default_advisor: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str | None] = mapped_column(String(2))
    """Prompt language fixed for this number; None: follow the caller (German for +49)."""


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("project_id", "pin_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[CardStatus] = mapped_column(EnumText(CardStatus, 12), default=CardStatus.NEW)
    balance: Mapped[int] = mapped_column(Money, default=0)
    sold_price: Mapped[int] = mapped_column(Money, default=0)
    label: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    batch: Mapped[int | None] = mapped_column(Integer, default=None)
    """The project's batch the card was created in (1, 2, …); its label is the batch's label."""
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), default=None)
    """A postpaid customer's cards share its credit line (``services.credit_line``)."""


class LineBinding(Base):
    """One card per caller line per project; a card is bound to at most one line."""

    __tablename__ = "line_bindings"
    __table_args__ = (UniqueConstraint("project_id", "line"), UniqueConstraint("card_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    line: Mapped[str] = mapped_column(String(20))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    bound_at: Mapped[datetime]


class LedgerEntry(Base):
    """Append-only: the balance of a card is the sum of its entries."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_card_at", "card_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    kind: Mapped[EntryKind] = mapped_column(EnumText(EntryKind, 16))
    amount: Mapped[int] = mapped_column(Money)
    balance_after: Mapped[int] = mapped_column(Money)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class Reservation(Base):
    """What a live call holds of a card (seed 000: reserve, then capture)."""

    __tablename__ = "reservations"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    call_id: Mapped[str] = mapped_column(String(120), unique=True)
    amount: Mapped[int] = mapped_column(Money)
    used_at_checkpoint: Mapped[int] = mapped_column(Money, default=0)
    talked_at_checkpoint: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Talk seconds at the last checkpoint: a recovered call's record bills them."""
    created_at: Mapped[datetime]
    checkpoint_at: Mapped[datetime]
    state: Mapped[HoldState] = mapped_column(
        EnumText(HoldState, 10), default=HoldState.OPEN, index=True
    )
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallRecord(Base):
    """EVN: one row per call that reached the rating stage, searchable by caller."""

    __tablename__ = "call_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(120), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))
    caller: Mapped[str] = mapped_column(String(20), index=True)
    dialed: Mapped[str] = mapped_column(String(20))
    advisor: Mapped[str | None] = mapped_column(String(120))
    arrived_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    charge_start_at: Mapped[datetime | None]
    ended_at: Mapped[datetime]
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[int] = mapped_column(Money, default=0)
    charged: Mapped[int] = mapped_column(Money, default=0)
    quote: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hangup_cause: Mapped[str | None] = mapped_column(String(60))
    hangup_side: Mapped[str | None] = mapped_column(String(12))


class FirstCaller(Base):
    """Callers that got the first-caller tariff (seed 003 "Anruferliste")."""

    __tablename__ = "first_callers"
    __table_args__ = (UniqueConstraint("project_id", "line"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    line: Mapped[str] = mapped_column(String(20))
    first_call_at: Mapped[datetime]
    calls: Mapped[int] = mapped_column(Integer, default=0)
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Put on the list by the operator (a known caller): never gets the first-caller tariff."""


class LinePrice(Base):
    """An individual tariff for one caller line (seed 004 "individuelle Staffelung")."""

    __tablename__ = "line_prices"
    __table_args__ = (UniqueConstraint("project_id", "line"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    line: Mapped[str] = mapped_column(String(20))
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariffs.id"))


class PinFailure(Base):
    __tablename__ = "pin_failures"
    __table_args__ = (
        Index("ix_pin_failures_line", "project_id", "line", "at"),
        Index("ix_pin_failures_card", "card_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    line: Mapped[str] = mapped_column(String(20))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    at: Mapped[datetime]
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token of one project for the balance API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    scope: Mapped[TokenScope] = mapped_column(EnumText(TokenScope, 8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    name: Mapped[str | None] = mapped_column(String(50), default=None)
    """Whose token it is (a shop, a service): the ledger's actor names it."""


class ApiReplay(Base):
    """The first answer to an ``Idempotency-Key`` of a project, replayed to every repeat."""

    __tablename__ = "api_replays"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class OperatorAction(Base):
    """The audit trail of operator changes: who, what, on which card or project, and why."""

    __tablename__ = "operator_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(24))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(200))


class Customer(Base):
    """An account that owns cards (seed 002): ``prepaid`` (cut off at zero) or ``postpaid`` (a
    credit limit, billed monthly, and early once the open charges pass ``threshold``)."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[CustomerKind] = mapped_column(EnumText(CustomerKind, 10))
    credit_limit: Mapped[int] = mapped_column(Money, default=0)
    threshold: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime]


class CustomerPayment(Base):
    """A payment of a postpaid customer against what it was billed (its receivable)."""

    __tablename__ = "customer_payments"
    __table_args__ = (UniqueConstraint("customer_id", "reference"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[int] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class AccountSettlement(Base):
    """A postpaid card's open charges billed to its customer: the card's balance is set back to
    zero by a ``settlement`` ledger entry of the same amount."""

    __tablename__ = "settlements"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    amount: Mapped[int] = mapped_column(Money)
    cause: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class Advisor(Base):
    """A person who takes calls (issue 23): a dial string, a login PIN (keyed hash, like card
    PINs), a payout rate per talked minute in 1/10,000 EUR, and the live state every engine
    sharing the database reads before offering a call (``idle``, ``ringing``, ``talking``)."""

    __tablename__ = "advisors"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        UniqueConstraint("project_id", "pin_hash"),
        UniqueConstraint("project_id", "extension"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(80))
    dial_string: Mapped[str] = mapped_column(String(120))
    pin_hash: Mapped[str] = mapped_column(String(64))
    payout_rate: Mapped[int] = mapped_column(Money, default=0)
    extension: Mapped[str | None] = mapped_column(String(8), default=None)
    logged_in: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(8), default="idle")
    call_id: Mapped[str | None] = mapped_column(String(120), default=None)
    """The call that claimed the advisor (ringing or talking), None when idle."""
    state_since: Mapped[datetime]
    last_call_end: Mapped[datetime | None] = mapped_column(default=None)
    """When the advisor's last answered call ended: longest-idle orders by it."""
    ready_at: Mapped[datetime | None] = mapped_column(default=None)
    """The end of the wrap-up after that call: no call is offered before it."""
    calls_taken: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class HuntGroup(Base):
    """How an advisor number rings its advisors: strategy and timeouts (issue 23). A number
    without a group rings its own dial string (a group of one)."""

    __tablename__ = "hunt_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id"), unique=True)
    strategy: Mapped[str] = mapped_column(String(12))
    ring_timeout_s: Mapped[int] = mapped_column(Integer)
    overall_timeout_s: Mapped[int] = mapped_column(Integer)
    wrapup_s: Mapped[int] = mapped_column(Integer)
    extensions: Mapped[bool] = mapped_column(Boolean, default=False)
    """The caller may type an advisor's extension and # after the announcement."""
    last_offered: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"), default=None)
    """Round-robin's memory: the advisor offered the group's last call."""


class HuntMember(Base):
    __tablename__ = "hunt_members"
    __table_args__ = (UniqueConstraint("group_id", "advisor_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("hunt_groups.id", ondelete="CASCADE"))
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    position: Mapped[int] = mapped_column(Integer)


class CallAttempt(Base):
    """One advisor rung for a hunted call (issue 23): who, how it ended, how long it rang."""

    __tablename__ = "call_attempts"
    __table_args__ = (Index("ix_call_attempts_advisor_at", "advisor_id", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(120), index=True)
    position: Mapped[int] = mapped_column(Integer)
    advisor_id: Mapped[int | None] = mapped_column(Integer)
    """No foreign key: an advisor removed later keeps its attempts (and its name here)."""
    advisor: Mapped[str] = mapped_column(String(80))
    dial_string: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime]
    ring_ms: Mapped[int] = mapped_column(Integer)
    payout_rate: Mapped[int | None] = mapped_column(Money, default=None)
    """The answering advisor's payout per minute when the call ended (1/10,000 EUR)."""


class OpeningHours(Base):
    """When an advisor number takes calls (issue 23): ``cards.opening_hours.Hours`` as JSON."""

    __tablename__ = "opening_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id"), unique=True)
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Order(Base):
    """A caller's online top-up (issue 24): reserved at a payment provider, credited to the card,
    then captured (``services.order_states`` holds its transitions). A capture that fails after
    the credit takes back what is unused (``taken_back``) and keeps the rest as ``receivable``."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("provider", "provider_order_id"),
        UniqueConstraint("provider", "authorization_id"),
        UniqueConstraint("provider", "capture_id"),
        Index("ix_orders_project_status", "project_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[OrderStatus] = mapped_column(EnumText(OrderStatus, 12))
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    provider_order_id: Mapped[str | None] = mapped_column(String(120), default=None)
    authorization_id: Mapped[str | None] = mapped_column(String(120), default=None)
    capture_id: Mapped[str | None] = mapped_column(String(120), default=None)
    authorized_at: Mapped[datetime | None] = mapped_column(default=None)
    credited_at: Mapped[datetime | None] = mapped_column(default=None)
    captured_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    """When it became failed, expired or voided."""
    credited: Mapped[int] = mapped_column(Money, default=0)
    """What the card got: the amount and its bonus."""
    balance_after: Mapped[int | None] = mapped_column(Money, default=None)
    taken_back: Mapped[int] = mapped_column(Money, default=0)
    receivable: Mapped[int] = mapped_column(Money, default=0)
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    """Why it failed or was voided, for the operator."""


class PaymentEvent(Base):
    """A provider's callback event id, kept so a replayed event is refused (issue 24)."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("project_id", "provider", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(120))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    at: Mapped[datetime]

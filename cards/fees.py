"""What the platform bills a line operator for a month (seed 004): a pure function of the month's
usage and the fee schedule. Money in 1/10,000 EUR, time in seconds; nothing here reads a database.

Per-minute fees are charged on the month's seconds: sum = seconds × rate / 60, rounded half up
to 1/10,000 EUR once per line (never per call, so no call pays a rounded-up minute twice).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from cards.errors import InvalidInput

EUR = 10_000


class LineSystem(StrEnum):
    BASIC = "basic"
    PROFESSIONAL = "professional"


@dataclass(frozen=True)
class FeeSchedule:
    """The seed's figures; each can be configured (``report operator --schedule FILE``)."""

    setup: int = 59 * EUR
    """Once, in the project's first month (the system with its geographic number)."""
    minimum_usage: int = 2 * EUR
    minimum_minutes: int = 100
    """A month with fewer talked minutes than this pays ``minimum_usage``."""
    feed_in_per_minute: int = 800
    """Per talked minute on a geographic number, 5 ct termination included."""
    usage_per_minute: int = 400
    """Per talked minute on the Professional system; none on Basic."""
    freephone_per_minute: int = 0
    """Per talked minute on an 0800 number: the seed defers to the 0800 price list (set it)."""
    card_fee: int = 1 * EUR
    loaded_minute_fee: int = 500
    card_fees_charged: bool = False
    """The seed announces the card fees but does not charge them yet: shown, not summed."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "card_fees_charged":
                if not isinstance(value, bool):
                    raise InvalidInput("card_fees_charged must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{f.name} must be a whole number >= 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeeSchedule:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown fee schedule keys: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class MonthUsage:
    """One project's month as the platform counts it."""

    first_month: bool
    system: LineSystem
    geographic_seconds: int
    freephone_seconds: int
    cards_issued: int
    loaded_seconds: int
    """Minutes put on cards (issued and recharged, bonus included); minute projects only."""


@dataclass(frozen=True)
class FeeLine:
    item: str
    quantity: int
    """Seconds for per-minute lines, a count otherwise."""
    per: str
    """``minute`` (quantity in seconds), ``card``, ``month`` or ``once``."""
    rate: int
    amount: int
    announced: bool = False
    """Announced by the platform but not charged: shown, left out of the total."""


@dataclass(frozen=True)
class FeeReport:
    lines: list[FeeLine]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines if not line.announced)

    @property
    def announced(self) -> int:
        return sum(line.amount for line in self.lines if line.announced)


def per_minute(seconds: int, rate: int) -> int:
    """``seconds`` at ``rate`` a minute, rounded half up to 1/10,000 EUR."""
    return (seconds * rate * 2 + 60) // 120


def operator_fees(usage: MonthUsage, schedule: FeeSchedule) -> FeeReport:
    lines: list[FeeLine] = []
    if usage.first_month:
        lines.append(FeeLine("set-up", 1, "once", schedule.setup, schedule.setup))
    talked = usage.geographic_seconds + usage.freephone_seconds
    if talked < schedule.minimum_minutes * 60:
        lines.append(
            FeeLine("minimum usage", 1, "month", schedule.minimum_usage, schedule.minimum_usage)
        )
    minutes = [
        ("feed-in, geographic", usage.geographic_seconds, schedule.feed_in_per_minute),
        ("0800 minutes", usage.freephone_seconds, schedule.freephone_per_minute),
    ]
    if usage.system is LineSystem.PROFESSIONAL:
        minutes.append(("usage, Professional", talked, schedule.usage_per_minute))
    for item, seconds, rate in minutes:
        if seconds:
            lines.append(FeeLine(item, seconds, "minute", rate, per_minute(seconds, rate)))
    announced = not schedule.card_fees_charged
    if usage.cards_issued:
        amount = usage.cards_issued * schedule.card_fee
        lines.append(
            FeeLine(
                "cards issued", usage.cards_issued, "card", schedule.card_fee, amount, announced
            )
        )
    if usage.loaded_seconds:
        rate = schedule.loaded_minute_fee
        amount = per_minute(usage.loaded_seconds, rate)
        lines.append(
            FeeLine("minutes loaded", usage.loaded_seconds, "minute", rate, amount, announced)
        )
    return FeeReport(lines)

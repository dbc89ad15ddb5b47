"""Tariff data: unit, per-class rates, billing increments, connect fee, charging start, rounding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from rating.ints import require_int

UNITS_PER_EUR = 10_000
"""Money is kept in 1/10,000 EUR (seed 003 prices like 1.99 EUR/min need no float)."""

FREE_START_CHOICES = (10, 20, 30)
"""Seed 003: charging may start 10, 20 or 30 s after answer."""


class Unit(StrEnum):
    """What a project's credit counts: card seconds (seed 004) or 1/10,000 EUR (seed 003)."""

    MINUTES = "minutes"
    MONEY = "money"


class CallerClass(StrEnum):
    """Caller type for per-class prices (seed 003: Festnetz/Mobilfunk); missing ones use FIXED."""

    FIXED = "fixed"
    MOBILE = "mobile"
    FOREIGN = "foreign"


class ChargingStart(StrEnum):
    """When the charging clock starts (seed 003 "Beginn der Gebührenberechnung").

    ANSWER and AFTER_ANNOUNCEMENT both bill from the clock origin the engine passes in: for
    AFTER_ANNOUNCEMENT the engine starts that origin when the tariff announcement ends. FREE bills
    only the seconds after ``Tariff.free_seconds`` of the answered call.
    """

    ANSWER = "answer"
    AFTER_ANNOUNCEMENT = "after_announcement"
    FREE = "free"


@dataclass(frozen=True, slots=True)
class Increments:
    """Billing increments, A2Billing's initblock/billingblock, CGRateS' RateIncrement.

    The first ``initial`` seconds are billed as a block as soon as one chargeable second exists;
    every later started ``subsequent`` block is billed whole: 60/60 bills 61 s as 120 s, 1/1 as
    61 s, 30/6 bills 31 s as 36 s (CGRateS #118).
    """

    initial: int
    subsequent: int

    def __post_init__(self) -> None:
        require_int("initial increment", self.initial, minimum=1)
        require_int("subsequent increment", self.subsequent, minimum=1)

    @classmethod
    def parse(cls, text: str) -> Increments:
        """Parse ``"60/60"``-style text; raise ValueError with a message fit for an operator."""
        parts = text.strip().split("/")
        if len(parts) != 2 or not all(
            p.strip().isascii() and p.strip().isdigit() and len(p.strip()) <= 6 for p in parts
        ):
            raise ValueError(f"increments must look like 60/60 or 30/6, got {text!r}")
        initial, subsequent = (int(p) for p in parts)
        if initial < 1 or subsequent < 1:
            raise ValueError(f"increments must be at least 1/1, got {text!r}")
        return cls(initial, subsequent)

    def billed(self, chargeable: int) -> int:
        """Billed seconds for ``chargeable`` seconds: 0, the initial block, then whole blocks."""
        if chargeable <= 0:
            return 0
        if chargeable <= self.initial:
            return self.initial
        extra = chargeable - self.initial
        return self.initial + -(-extra // self.subsequent) * self.subsequent

    def __str__(self) -> str:
        return f"{self.initial}/{self.subsequent}"


def _frozen_rates(name: str, rates: Mapping[CallerClass, int]) -> Mapping[CallerClass, int]:
    clean = {}
    for key, value in rates.items():
        clean[CallerClass(key)] = require_int(f"{name}[{key}]", value)
    return MappingProxyType(clean)


@dataclass(frozen=True, slots=True)
class Tariff:
    """One tariff. Money rates are 1/10,000 EUR per minute; minute rates are card s per talk s.

    ``connect_fee`` is in the project's unit (1/10,000 EUR or card seconds) and is charged once per
    call that bills at least one second (never per debit: CGRateS #16). ``rounding_step`` is the
    money grid in 1/10,000 EUR the per-call usage cost is rounded *up* to, once per call (1 = the
    finest grid, 100 = whole cents; CGRateS RoundingMethod *up*, #260). ``max_call_seconds`` caps
    one call even when the credit would allow more (a free tariff would never end otherwise).
    """

    unit: Unit
    increments: Increments
    prices: Mapping[CallerClass, int] = field(default_factory=dict)
    multipliers: Mapping[CallerClass, int] = field(default_factory=dict)
    connect_fee: int = 0
    charging_start: ChargingStart = ChargingStart.ANSWER
    free_seconds: int = 0
    rounding_step: int = 1
    max_call_seconds: int = 4 * 3600

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit(self.unit))
        object.__setattr__(self, "charging_start", ChargingStart(self.charging_start))
        if not isinstance(self.increments, Increments):
            raise TypeError("increments must be an Increments")
        object.__setattr__(self, "prices", _frozen_rates("price", self.prices))
        object.__setattr__(self, "multipliers", _frozen_rates("multiplier", self.multipliers))
        require_int("connect_fee", self.connect_fee)
        require_int("free_seconds", self.free_seconds)
        require_int("rounding_step", self.rounding_step, minimum=1)
        require_int("max_call_seconds", self.max_call_seconds, minimum=1)
        if self.charging_start is ChargingStart.FREE:
            if self.free_seconds not in FREE_START_CHOICES:
                raise ValueError(f"free start must be one of {FREE_START_CHOICES} s")
        elif self.free_seconds:
            raise ValueError("free_seconds needs charging_start=free")
        if self.unit is Unit.MONEY and CallerClass.FIXED not in self.prices:
            raise ValueError("a money tariff needs a fixed-line price")
        if self.unit is Unit.MINUTES:
            if self.prices:
                raise ValueError("a minutes tariff has multipliers, not prices")
            if any(m < 1 for m in self.multipliers.values()):
                raise ValueError("multipliers must be at least 1")
        elif self.multipliers:
            raise ValueError("a money tariff has prices, not multipliers")

    def rate_for(self, caller_class: CallerClass) -> int:
        """The per-class rate (price or multiplier); a class without its own uses the fixed one."""
        caller_class = CallerClass(caller_class)
        table = self.prices if self.unit is Unit.MONEY else self.multipliers
        default = 1 if self.unit is Unit.MINUTES else 0
        return table.get(caller_class, table.get(CallerClass.FIXED, default))

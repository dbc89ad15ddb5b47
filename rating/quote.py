"""Costing a call: billed seconds, cost, the affordable seconds of a credit, the warning instant.

All seconds are counted from the charging origin the engine passes in (answer, or the end of the
tariff announcement); free seconds of a FREE charging start are removed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rating.ints import ceil_div, require_int
from rating.tariff import CallerClass, Tariff, Unit


@dataclass(frozen=True, slots=True)
class Quote:
    """The breakdown a call record keeps: how ``talk_seconds`` became ``cost``."""

    unit: Unit
    caller_class: CallerClass
    increments: str
    talk_seconds: int
    free_seconds: int
    chargeable_seconds: int
    billed_seconds: int
    rate: int
    usage: int
    connect_fee: int
    cost: int

    def as_dict(self) -> dict[str, int | str]:
        data = asdict(self)
        data["unit"] = str(self.unit)
        data["caller_class"] = str(self.caller_class)
        return data


def _usage(tariff: Tariff, rate: int, billed: int) -> int:
    if tariff.unit is Unit.MINUTES:
        return billed * rate
    # One rounding per call, up, on the tariff's grid (CGRateS #260: 0.174 on a cent grid is 0.18).
    return ceil_div(billed * rate, 60 * tariff.rounding_step) * tariff.rounding_step


def quote(tariff: Tariff, caller_class: CallerClass, talk_seconds: int) -> Quote:
    """Cost of a call that lasted ``talk_seconds`` from the charging origin."""
    require_int("talk_seconds", talk_seconds)
    caller_class = CallerClass(caller_class)
    chargeable = max(0, talk_seconds - tariff.free_seconds)
    billed = tariff.increments.billed(chargeable)
    rate = tariff.rate_for(caller_class)
    usage = _usage(tariff, rate, billed)
    # A call that ends inside the free part bills nothing, the connect fee included.
    fee = tariff.connect_fee if billed else 0
    return Quote(
        unit=tariff.unit,
        caller_class=caller_class,
        increments=str(tariff.increments),
        talk_seconds=talk_seconds,
        free_seconds=talk_seconds - chargeable,
        chargeable_seconds=chargeable,
        billed_seconds=billed,
        rate=rate,
        usage=usage,
        connect_fee=fee,
        cost=usage + fee,
    )


def minimum_cost(tariff: Tariff, caller_class: CallerClass) -> int:
    """What the first billable step costs (initial block plus connect fee): less credit, no call."""
    return quote(tariff, caller_class, tariff.free_seconds + 1).cost


def _max_billed(tariff: Tariff, rate: int, budget: int) -> int | None:
    """Largest billed seconds whose usage fits ``budget``; None when the rate is free."""
    if rate == 0:
        return None
    if tariff.unit is Unit.MINUTES:
        return budget // rate
    steps = budget // tariff.rounding_step
    return (60 * steps * tariff.rounding_step) // rate


def affordable_seconds(tariff: Tariff, caller_class: CallerClass, credit: int) -> int:
    """Largest talk seconds n with cost(n) <= credit, capped at the tariff's max call length.

    Counts the initial block and the connect fee (A2Billing #22 computed the limit without the
    initial block and let balances go negative). The result always ends on a billed boundary, so
    one more second starts a step that costs more than ``credit``.
    """
    require_int("credit", credit, minimum=None)
    caller_class = CallerClass(caller_class)
    free = tariff.free_seconds
    cap = tariff.max_call_seconds
    budget = credit - tariff.connect_fee
    if budget < 0:
        return min(free, cap)
    max_billed = _max_billed(tariff, tariff.rate_for(caller_class), budget)
    if max_billed is None:
        return cap
    inc = tariff.increments
    if max_billed < inc.initial:
        return min(free, cap)
    steps = (max_billed - inc.initial) // inc.subsequent
    return min(free + inc.initial + steps * inc.subsequent, cap)


def warning_instant(affordable: int, lead: int) -> int:
    """Second (from the charging origin) at which to warn: ``lead`` before the end, or at once."""
    require_int("affordable", affordable)
    require_int("lead", lead)
    return max(0, affordable - lead)

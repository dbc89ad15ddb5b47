"""What a call's hold rates with (the tariff snapshot taken at authorization) and the least a
debit may leave it: what the call has talked."""

from __future__ import annotations

from typing import Any

from cards.models import Reservation
from rating import (
    CallerClass,
    ChargingStart,
    Increments,
    Tariff,
    Unit,
    quote,
)

SHORTEN_NOTICE_S = 10
"""A debit that shortens a live call leaves it this many seconds beyond what it can have talked,
so the engine, told within a second, lowers the hold before the call talks past it."""


def tariff_snapshot(tariff: Tariff) -> dict[str, Any]:
    return {
        "unit": str(tariff.unit),
        "initial": tariff.increments.initial,
        "subsequent": tariff.increments.subsequent,
        "prices": {str(k): v for k, v in tariff.prices.items()},
        "multipliers": {str(k): v for k, v in tariff.multipliers.items()},
        "connect_fee": tariff.connect_fee,
        "charging_start": str(tariff.charging_start),
        "free_seconds": tariff.free_seconds,
        "rounding_step": tariff.rounding_step,
        "max_call_seconds": tariff.max_call_seconds,
    }


def tariff_from_snapshot(data: dict[str, Any]) -> Tariff:
    return Tariff(
        Unit(data["unit"]),
        Increments(int(data["initial"]), int(data["subsequent"])),
        prices={CallerClass(k): int(v) for k, v in data["prices"].items()},
        multipliers={CallerClass(k): int(v) for k, v in data["multipliers"].items()},
        connect_fee=int(data["connect_fee"]),
        charging_start=ChargingStart(data["charging_start"]),
        free_seconds=int(data["free_seconds"]),
        rounding_step=int(data["rounding_step"]),
        max_call_seconds=int(data["max_call_seconds"]),
    )


_LIVE: dict[int, tuple[Tariff, CallerClass]] = {}
_LIVE_MAX = 50_000


def hold_rating(reservation: Reservation) -> tuple[Tariff, CallerClass]:
    """The hold's rating: remembered since its authorization, else read from its snapshot."""
    return _LIVE.get(reservation.id) or rating_of(reservation.info)


def rating_of(info: dict[str, Any]) -> tuple[Tariff, CallerClass]:
    return tariff_from_snapshot(info["tariff"]), CallerClass(info["caller_class"])


def remember(hold_id: int, rating: tuple[Tariff, CallerClass]) -> None:
    """Keep a new hold's rating in memory: its snapshot never changes, so each checkpoint of
    the call can rate without reading it back."""
    if len(_LIVE) >= _LIVE_MAX:  # holds of calls another process settled: start afresh
        _LIVE.clear()
    _LIVE[hold_id] = rating


def remembered(hold_id: int) -> tuple[Tariff, CallerClass] | None:
    return _LIVE.get(hold_id)


def forget(hold_id: int) -> None:
    _LIVE.pop(hold_id, None)


def floor_cost(reservation: Reservation, talked_s: int) -> int:
    """The least this hold may be lowered to when the call has talked ``talked_s``."""
    tariff, cls = hold_rating(reservation)
    return min(reservation.amount, quote(tariff, cls, talked_s).cost)

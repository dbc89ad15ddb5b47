"""The operator's fee report (seed 004), pinned with hand-computed months."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.errors import InvalidInput
from cards.fees import EUR, FeeSchedule, LineSystem, MonthUsage, operator_fees, per_minute

SEED = FeeSchedule()


def month(**kw: object) -> MonthUsage:
    base: dict[str, object] = {
        "first_month": False,
        "system": LineSystem.BASIC,
        "geographic_seconds": 0,
        "freephone_seconds": 0,
        "cards_issued": 0,
        "loaded_seconds": 0,
    }
    return MonthUsage(**{**base, **kw})  # type: ignore[arg-type]


def test_a_quiet_basic_month_pays_the_minimum_fee() -> None:
    """40 talked minutes on the 089 number: 40 × 8 ct = 3.20 EUR, plus 2 EUR for fewer than 100
    minutes: 5.20 EUR."""
    report = operator_fees(month(geographic_seconds=40 * 60), SEED)
    assert [(line.item, line.amount) for line in report.lines] == [
        ("minimum usage", 20_000),
        ("feed-in, geographic", 32_000),
    ]
    assert report.total == 52_000


def test_a_professional_month_pays_usage_on_every_minute() -> None:
    """250 minutes: feed-in 250 × 8 ct = 20 EUR, usage 250 × 4 ct = 10 EUR; no minimum fee."""
    report = operator_fees(month(system=LineSystem.PROFESSIONAL, geographic_seconds=250 * 60), SEED)
    assert {line.item: line.amount for line in report.lines} == {
        "feed-in, geographic": 20 * EUR,
        "usage, Professional": 10 * EUR,
    }
    assert report.total == 30 * EUR


def test_the_first_month_pays_the_set_up_once() -> None:
    """Set-up 59 EUR, 100 minutes exactly (no minimum fee): 59 + 8 = 67 EUR."""
    report = operator_fees(month(first_month=True, geographic_seconds=100 * 60), SEED)
    assert report.total == 67 * EUR
    assert operator_fees(month(geographic_seconds=100 * 60), SEED).total == 8 * EUR


def test_the_announced_card_fees_a_50_minute_card_costs_3_50() -> None:
    """The seed's example: a 50-minute card costs 1 EUR + 50 × 0.05 EUR = 3.50 EUR — shown as
    announced and left out of the total until switched on."""
    usage = month(cards_issued=1, loaded_seconds=50 * 60, geographic_seconds=100 * 60)
    shown = operator_fees(usage, SEED)
    assert shown.announced == 35_000
    assert shown.total == 8 * EUR
    assert all(line.announced for line in shown.lines if line.per in ("card",))
    charged = operator_fees(usage, FeeSchedule(card_fees_charged=True))
    assert charged.total == 8 * EUR + 35_000 and charged.announced == 0


def test_a_recharge_month_charges_the_loaded_minutes_again() -> None:
    """No card issued, 30 minutes recharged: 30 × 0.05 = 1.50 EUR (when charged)."""
    report = operator_fees(month(loaded_seconds=30 * 60, geographic_seconds=6000),
                           FeeSchedule(card_fees_charged=True))  # fmt: skip
    assert [(line.item, line.amount) for line in report.lines][-1] == ("minutes loaded", 15_000)


def test_0800_minutes_at_the_configured_rate_count_toward_the_minimum() -> None:
    schedule = FeeSchedule(freephone_per_minute=1_200)
    report = operator_fees(month(freephone_seconds=60 * 60, geographic_seconds=40 * 60), schedule)
    assert {line.item: line.amount for line in report.lines} == {
        "feed-in, geographic": 32_000,
        "0800 minutes": 72_000,
    }


def test_seconds_are_rated_once_per_line_half_up() -> None:
    assert per_minute(1, 800) == 13  # 13.33… → 13
    assert per_minute(3, 10) == 1  # 0.5 → 1
    assert per_minute(61, 800) == 813


@given(st.integers(0, 10**7), st.integers(0, 10**6))
def test_per_minute_never_drifts_half_a_unit(seconds: int, rate: int) -> None:
    exact_times_60 = seconds * rate
    assert abs(per_minute(seconds, rate) * 60 - exact_times_60) <= 30


def test_a_schedule_with_an_unknown_key_or_a_negative_rate_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown fee schedule keys: feed_in"):
        FeeSchedule.from_dict({"feed_in": 800})
    with pytest.raises(InvalidInput, match="setup must be a whole number"):
        FeeSchedule.from_dict({"setup": -1})

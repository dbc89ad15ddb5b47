"""Hypothesis properties of the rating core: monotone cost, exact affordable seconds, increments."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rating import (
    CallerClass,
    ChargingStart,
    Increments,
    Tariff,
    Unit,
    affordable_seconds,
    quote,
)
from rating.ints import ceil_div

increments = st.builds(Increments, st.integers(1, 120), st.integers(1, 120))
free = st.sampled_from([0, 10, 20, 30])


@st.composite
def tariffs(draw) -> Tariff:
    inc = draw(increments)
    free_s = draw(free)
    start = ChargingStart.FREE if free_s else ChargingStart.ANSWER
    if draw(st.booleans()):
        return Tariff(
            Unit.MONEY,
            inc,
            prices={
                CallerClass.FIXED: draw(st.integers(1, 99_990)),
                CallerClass.MOBILE: draw(st.integers(1, 99_990)),
            },
            connect_fee=draw(st.integers(0, 5_000)),
            charging_start=start,
            free_seconds=free_s,
            rounding_step=draw(st.sampled_from([1, 10, 100])),
            max_call_seconds=10**9,
        )
    return Tariff(
        Unit.MINUTES,
        inc,
        multipliers={CallerClass.FIXED: draw(st.integers(1, 5))},
        connect_fee=draw(st.integers(0, 120)),
        charging_start=start,
        free_seconds=free_s,
        max_call_seconds=10**9,
    )


classes = st.sampled_from(list(CallerClass))
seconds = st.integers(0, 20_000)
credits = st.integers(0, 10**7)


@given(tariffs(), classes, seconds, seconds)
def test_cost_is_monotone(tariff: Tariff, cls: CallerClass, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert quote(tariff, cls, lo).cost <= quote(tariff, cls, hi).cost


@given(tariffs(), classes, credits)
def test_affordable_fits_and_is_the_largest(tariff: Tariff, cls: CallerClass, c: int) -> None:
    n = affordable_seconds(tariff, cls, c)
    assert quote(tariff, cls, n).cost <= c
    # One second more starts the next billable step, and that step no longer fits.
    assert quote(tariff, cls, n + 1).cost > c


@given(tariffs(), classes, seconds)
def test_billed_follows_the_increment_pattern(tariff: Tariff, cls: CallerClass, n: int) -> None:
    q = quote(tariff, cls, n)
    inc = tariff.increments
    assert q.chargeable_seconds == max(0, n - tariff.free_seconds)
    if q.chargeable_seconds == 0:
        assert q.billed_seconds == 0
        assert q.cost == 0
    else:
        assert q.billed_seconds >= max(q.chargeable_seconds, inc.initial)
        assert (q.billed_seconds - inc.initial) % inc.subsequent == 0
        assert q.billed_seconds - q.chargeable_seconds < max(inc.initial, inc.subsequent)


@given(st.integers(1, 99_990), seconds)
def test_one_one_is_ceiling_of_n_times_p_over_60(price: int, n: int) -> None:
    tariff = Tariff(Unit.MONEY, Increments(1, 1), prices={CallerClass.FIXED: price})
    assert quote(tariff, CallerClass.FIXED, n).cost == ceil_div(n * price, 60)

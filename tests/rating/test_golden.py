"""Worked cases of the rating core, computed by hand, including the anchor bugs of other systems."""

from __future__ import annotations

import pytest

from rating import (
    CallerClass,
    ChargingStart,
    Increments,
    Tariff,
    Unit,
    affordable_seconds,
    minimum_cost,
    quote,
    warning_instant,
)

P199 = {CallerClass.FIXED: 19_900}  # 1.99 EUR/min in 1/10,000 EUR


def money(inc: str, prices=None, fee: int = 0, free: int = 0, step: int = 1) -> Tariff:
    return Tariff(
        Unit.MONEY,
        Increments.parse(inc),
        prices=prices or P199,
        connect_fee=fee,
        charging_start=ChargingStart.FREE if free else ChargingStart.ANSWER,
        free_seconds=free,
        rounding_step=step,
    )


def minutes(inc: str, mult: int = 1, fee: int = 0, free: int = 0) -> Tariff:
    return Tariff(
        Unit.MINUTES,
        Increments.parse(inc),
        multipliers={CallerClass.FIXED: mult},
        connect_fee=fee,
        charging_start=ChargingStart.FREE if free else ChargingStart.ANSWER,
        free_seconds=free,
    )


MOBILE = {CallerClass.FIXED: 19_900, CallerClass.MOBILE: 29_900}

# (id, tariff, class, talk seconds, billed seconds, cost)
GOLDEN = [
    ("60/60 61s bills 120", money("60/60"), "fixed", 61, 120, 39_800),
    ("60/60 60s", money("60/60"), "fixed", 60, 60, 19_900),
    ("60/60 0s free", money("60/60"), "fixed", 0, 0, 0),
    ("60/60 1s bills a minute", money("60/60"), "fixed", 1, 60, 19_900),
    ("60/60 one hour", money("60/60"), "fixed", 3600, 3600, 1_194_000),
    ("1/1 61s", money("1/1"), "fixed", 61, 61, 20_232),
    ("1/1 1s rounds up", money("1/1"), "fixed", 1, 1, 332),
    ("60/1 61s", money("60/1"), "fixed", 61, 61, 20_232),
    ("60/1 30s bills 60", money("60/1"), "fixed", 30, 60, 19_900),
    ("30/6 1s (CGRateS #118)", money("30/6"), "fixed", 1, 30, 9_950),
    ("30/6 30s (CGRateS #118)", money("30/6"), "fixed", 30, 30, 9_950),
    ("30/6 31s (CGRateS #118)", money("30/6"), "fixed", 31, 36, 11_940),
    ("30/6 36s (CGRateS #118)", money("30/6"), "fixed", 36, 36, 11_940),
    ("30/6 37s (CGRateS #118)", money("30/6"), "fixed", 37, 42, 13_930),
    ("connect fee 61s", money("60/60", fee=1_000), "fixed", 61, 120, 40_800),
    ("connect fee 0s not charged", money("60/60", fee=1_000), "fixed", 0, 0, 0),
    (
        "connect fee once per call (CGRateS #16)",
        money("60/60", fee=1_000),
        "fixed",
        121,
        180,
        60_700,
    ),
    ("free 10: 10s is free", money("60/60", free=10), "fixed", 10, 0, 0),
    ("free 10: 11s bills a minute", money("60/60", free=10), "fixed", 11, 60, 19_900),
    ("free 20: 80s 1/1", money("1/1", free=20), "fixed", 80, 60, 19_900),
    ("free 30: 31s 1/1 + fee", money("1/1", fee=1_000, free=30), "fixed", 31, 1, 1_332),
    ("free 30: 30s + fee is free", money("1/1", fee=1_000, free=30), "fixed", 30, 0, 0),
    ("mobile price", money("60/60", prices=MOBILE), "mobile", 61, 120, 59_800),
    ("foreign falls back to fixed", money("60/60", prices=MOBILE), "foreign", 61, 120, 39_800),
    (
        "cent grid 0.174 -> 0.18 (CGRateS #260)",
        money("1/1", prices={CallerClass.FIXED: 10_440}, step=100),
        "fixed",
        10,
        10,
        1_800,
    ),
    (
        "fine grid keeps 0.1740",
        money("1/1", prices={CallerClass.FIXED: 10_440}),
        "fixed",
        10,
        10,
        1_740,
    ),
    ("tiny price rounds up", money("1/1", prices={CallerClass.FIXED: 1}), "fixed", 1, 1, 1),
    ("minutes 60/60 61s", minutes("60/60"), "fixed", 61, 120, 120),
    ("minutes 1/1 61s", minutes("1/1"), "fixed", 61, 61, 61),
    ("minutes multiplier 2", minutes("1/1", mult=2), "fixed", 61, 61, 122),
    ("minutes 30/6 31s", minutes("30/6"), "fixed", 31, 36, 36),
    ("minutes connect fee", minutes("60/60", fee=30), "fixed", 1, 60, 90),
    ("minutes free 10", minutes("1/1", free=10), "fixed", 15, 5, 5),
]


@pytest.mark.parametrize(
    ("tariff", "cls", "seconds", "billed", "cost"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden_quote(tariff: Tariff, cls: str, seconds: int, billed: int, cost: int) -> None:
    q = quote(tariff, CallerClass(cls), seconds)
    assert (q.billed_seconds, q.cost) == (billed, cost)
    assert q.usage + q.connect_fee == q.cost


AFFORDABLE = [
    ("1.99 60/60 10 EUR", money("60/60"), "fixed", 100_000, 300),
    ("1.99 1/1 10 EUR", money("1/1"), "fixed", 100_000, 301),
    (
        "A2Billing #22: credit below the initial block affords nothing",
        money("60/60", prices={CallerClass.FIXED: 10_000}),
        "fixed",
        5_000,
        0,
    ),
    (
        "A2Billing #22: 1.5 minutes of credit at 60/60 is one minute",
        money("60/60", prices={CallerClass.FIXED: 10_000}),
        "fixed",
        15_000,
        60,
    ),
    (
        "connect fee counted",
        money("60/60", prices={CallerClass.FIXED: 10_000}, fee=1_000),
        "fixed",
        15_000,
        60,
    ),
    ("credit below connect fee", money("1/1", fee=1_000), "fixed", 500, 0),
    ("free seconds with no credit", money("1/1", free=20), "fixed", 0, 20),
    ("minutes multiplier 2", minutes("1/1", mult=2), "fixed", 1_800, 900),
    ("minutes with fee", minutes("60/60", fee=30), "fixed", 1_800, 1_740),
    ("mobile price", money("60/60", prices=MOBILE), "mobile", 100_000, 180),
    ("cent grid", money("1/1", prices={CallerClass.FIXED: 10_440}, step=100), "fixed", 1_800, 10),
]


@pytest.mark.parametrize(
    ("tariff", "cls", "credit", "seconds"),
    [case[1:] for case in AFFORDABLE],
    ids=[case[0] for case in AFFORDABLE],
)
def test_golden_affordable(tariff: Tariff, cls: str, credit: int, seconds: int) -> None:
    n = affordable_seconds(tariff, CallerClass(cls), credit)
    assert n == seconds
    assert quote(tariff, CallerClass(cls), n).cost <= credit
    assert quote(tariff, CallerClass(cls), n + 1).cost > credit


def test_connect_fee_once_across_checkpoints() -> None:
    """CGRateS #16: debiting a running call in pieces must not charge the fee per piece."""
    tariff = money("60/60", fee=1_000)
    checkpoints = [0, 30, 61, 125, 180, 241]
    previous = 0
    debited = 0
    for n in checkpoints:
        now = quote(tariff, CallerClass.FIXED, n).cost
        debited += now - previous
        previous = now
    assert debited == quote(tariff, CallerClass.FIXED, 241).cost == 5 * 19_900 + 1_000


def test_warning_instant() -> None:
    assert warning_instant(300, 120) == 180
    assert warning_instant(90, 120) == 0
    assert warning_instant(120, 120) == 0


def test_minimum_cost_is_first_step() -> None:
    assert minimum_cost(money("60/60", fee=1_000), CallerClass.FIXED) == 20_900
    assert minimum_cost(money("30/6", free=20), CallerClass.FIXED) == 9_950
    assert minimum_cost(minutes("60/1", mult=2), CallerClass.FIXED) == 120


def test_max_call_seconds_caps_a_free_rate() -> None:
    tariff = Tariff(
        Unit.MONEY, Increments(1, 1), prices={CallerClass.FIXED: 0}, max_call_seconds=7200
    )
    assert affordable_seconds(tariff, CallerClass.FIXED, 0) == 7200


@pytest.mark.parametrize(
    "call",
    [
        lambda: quote(money("60/60"), CallerClass.FIXED, 61.0),
        lambda: affordable_seconds(money("60/60"), CallerClass.FIXED, 10.5),
        lambda: Increments(60.0, 60),
        lambda: Tariff(Unit.MONEY, Increments(1, 1), prices={CallerClass.FIXED: 1.99}),
        lambda: money("60/60", fee=0.1),
        lambda: warning_instant(300, 120.0),
        lambda: quote(money("60/60"), CallerClass.FIXED, True),
    ],
)
def test_float_or_bool_is_a_type_error(call) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Increments.parse("60/0"),
        lambda: Increments.parse("abc"),
        lambda: Increments.parse("60"),
        lambda: money("60/60", free=15),
        lambda: Tariff(Unit.MONEY, Increments(1, 1), prices={CallerClass.MOBILE: 1}),
        lambda: Tariff(Unit.MINUTES, Increments(1, 1), multipliers={CallerClass.FIXED: 0}),
        lambda: Tariff(Unit.MONEY, Increments(1, 1), prices={CallerClass.FIXED: -1}),
    ],
)
def test_bad_tariffs_are_refused(build) -> None:
    with pytest.raises(ValueError):
        build()

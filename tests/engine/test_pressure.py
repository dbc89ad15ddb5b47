"""Overload shedding: the pressure gauge's rule, and the engine refusing new calls at the door
while it holds, taking them again after."""

from __future__ import annotations

import asyncio
import time

from pbx_engine.clock import RealClock
from pbx_engine.pressure import Pressure, ShedLimits, probe_loop_lag
from testbed.astro import ADVISOR_NO
from testbed.engine_world import CALLER, World, eventually
from testbed.fake_ari import FakeClock
from testbed.flows import activate, connect


def test_a_calm_engine_takes_calls() -> None:
    pressure = Pressure(FakeClock(), ShedLimits(loop_lag_ms=100, ari_answer_ms=1_000))
    pressure.loop_lag(100)
    pressure.ari_answer(1_000)
    assert pressure.refusal() is None


def test_a_late_loop_sheds_for_the_window_after_its_last_late_sample() -> None:
    clock = FakeClock()
    pressure = Pressure(clock, ShedLimits(loop_lag_ms=100, ari_answer_ms=0, window_ms=2_000))
    pressure.loop_lag(101)
    assert pressure.refusal() == "loop_lag"
    clock.now += 1_500
    pressure.loop_lag(300)
    clock.now += 1_999
    assert pressure.refusal() == "loop_lag"
    clock.now += 1
    assert pressure.refusal() is None
    pressure.ari_answer(60_000)
    assert pressure.refusal() is None, "a limit of 0 is not watched"


def test_a_slow_asterisk_sheds_too() -> None:
    clock = FakeClock()
    pressure = Pressure(clock, ShedLimits(loop_lag_ms=0, ari_answer_ms=500, window_ms=1_000))
    pressure.ari_answer(501)
    assert pressure.refusal() == "ari_slow"
    assert (pressure.last_ari_ms, pressure.last_lag_ms) == (501, 0)
    clock.now += 1_000
    assert pressure.refusal() is None


async def test_the_probe_reports_how_late_the_loop_woke() -> None:
    """A callback that holds the loop for 300 ms makes the probe's next wake-up that late."""
    pressure = Pressure(RealClock(), ShedLimits(loop_lag_ms=100))
    probe = asyncio.create_task(probe_loop_lag(pressure, RealClock()))
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # the loop blocked, as by a long synchronous step
    await asyncio.sleep(0.05)
    probe.cancel()
    assert pressure.last_lag_ms >= 150
    assert pressure.refusal() == "loop_lag"


async def test_under_pressure_new_calls_hear_congestion_and_live_ones_go_on(world: World) -> None:
    """While Asterisk answers slowly, a new call is hung up unanswered with congestion and
    nothing is held for it; the call already talking is untouched; after the window the next
    call is taken again."""
    await activate(world)
    await connect(world)
    holds_before = world.engine.registry.live_cards()
    world.engine.pressure.ari_answer(world.engine.config.shed.ari_answer_ms + 1)
    await world.ari.caller_dials("c2", ADVISOR_NO, "040111222")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c2"), what="refused")
    assert world.ari.made("DELETE", "/channels/c2")[0].params["reason"] == "congestion"
    assert not world.ari.made("POST", "/channels/c2/answer")
    assert list(world.engine.calls) == ["c1"]
    assert world.engine.registry.live_cards() == holds_before
    assert world.engine.refused == {"ari_slow": 1}
    world.clock.now += world.engine.config.shed.window_ms
    await world.ari.hang_up("c1")
    await eventually(lambda: not world.engine.calls, what="first call ended")
    await world.ari.caller_dials("c3", ADVISOR_NO, CALLER)
    await eventually(lambda: world.ari.made("POST", "/channels/c3-advisor"), what="taken")


def test_lag_samples_land_in_prometheus_buckets() -> None:
    """Bucket i holds samples above bound i-1 and at most bound i (``le``); the last the rest."""
    pressure = Pressure(FakeClock(), ShedLimits())
    for lag in (0, 1, 2, 100, 101, 5_000, 5_001):
        pressure.loop_lag(lag)
    assert pressure.lag_counts == [2, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]
    assert pressure.lag_sum_ms == 10_205

"""A fired or cancelled timer leaves nothing for the cyclic garbage collector: at thousands of
live calls, a cycle per timer made full collections pause the event loop for 100-200 ms."""

from __future__ import annotations

import asyncio
import gc
import types
from collections.abc import Iterator

import pytest

from pbx_engine.clock import RealClock
from pbx_engine.timers import Timers


def _ours(thing: object) -> bool:
    if isinstance(thing, types.FunctionType):
        return thing.__module__.startswith("pbx_engine")
    return type(thing).__module__.startswith("pbx_engine")


@pytest.fixture
def collector_saving_garbage() -> Iterator[None]:
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.usefixtures("collector_saving_garbage")
async def test_timers_fired_and_cancelled_leave_no_cycles_of_ours() -> None:
    clock = RealClock()
    timers = Timers(clock)
    fired: list[str] = []
    start = clock.now_ms()
    for i in range(200):
        timers.start(f"call{i}", "end", start + 30 + i % 10, lambda name, _at: fired.append(name))
        timers.start(f"call{i}", "checkpoint", start + 5_000, lambda name, _at: fired.append(name))
    for i in range(100):
        timers.cancel_group(f"call{i}")  # both of its timers
    for i in range(100, 200):
        timers.cancel(f"call{i}", "checkpoint")
    async with asyncio.timeout(10):
        while len(fired) < 100:
            await asyncio.sleep(0.01)
    gc.collect()
    assert [thing for thing in gc.garbage if _ours(thing)] == []
    assert fired == ["end"] * 100

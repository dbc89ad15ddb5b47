"""The engine's clock: integer milliseconds, and sleeps that land within ~1 ms of a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

FINAL_STEP_MS = 20


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def wall_ms(self) -> int: ...

    async def sleep_until(self, at_ms: int) -> None: ...

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on the loop at ``at_ms`` (soon if that has passed); returns the
        function that cancels it."""
        ...


def _step_ms(left_ms: int) -> int:
    """The next wait towards a deadline ``left_ms`` away. Long epoll waits overshoot by up to
    0.1 % (ASTERISK-NOTES "Timing"): wait most of the way, then re-arm close to the deadline so
    a 1 h timer still fires within ~1 ms."""
    return left_ms - left_ms // 100 - 2 if left_ms > FINAL_STEP_MS else left_ms


class RealClock:
    """Monotonic time for timers, wall time for records and Asterisk's event stamps."""

    def now_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, at_ms: int) -> None:
        while (left := at_ms - self.now_ms()) > 0:
            await asyncio.sleep(_step_ms(left) / 1000)

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Callable[[], None]:
        # A loop handle, re-armed as sleep_until re-arms: a call's timers cost no task of
        # their own (a task per timer was ~5 % of the engine's CPU per call, bench.load).
        return _Deadline(self, at_ms, callback).cancel


class _Deadline:
    """One ``call_at``. No reference cycle outlives it: a fired or cancelled deadline drops its
    handle (a recursive closure here kept a cycle per timer for the full garbage collection,
    whose pauses grew to 100-200 ms at 1,000-2,000 live calls, bench.capacity)."""

    __slots__ = ("_at_ms", "_callback", "_clock", "_handle", "_loop")

    def __init__(self, clock: RealClock, at_ms: int, callback: Callable[[], None]) -> None:
        self._clock, self._at_ms, self._callback = clock, at_ms, callback
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.Handle | None = self._loop.call_soon(self._arm)

    def _arm(self) -> None:
        left = self._at_ms - self._clock.now_ms()
        if left <= 0:
            self._handle = None
            self._callback()
            return
        self._handle = self._loop.call_later(_step_ms(left) / 1000, self._arm)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()  # a cancelled handle lets go of _arm
            self._handle = None


def from_wall(clock: Clock, wall_ms: int | None) -> int:
    """An Asterisk wall-clock stamp on the engine's monotonic clock (never in the future)."""
    now = clock.now_ms()
    if wall_ms is None:
        return now
    return min(now, now - (clock.wall_ms() - wall_ms))


def to_wall(clock: Clock, at_ms: int) -> int:
    """An engine-clock instant as wall-clock epoch milliseconds."""
    return clock.wall_ms() - (clock.now_ms() - at_ms)

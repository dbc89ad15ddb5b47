"""How loaded the engine is now (its event loop's lag, Asterisk's ARI answer times) and whether
a new call may come in: an overloaded engine sheds new calls so the admitted ones keep time."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from dataclasses import dataclass

from pbx_engine.clock import Clock

LAG_PROBE_MS = 100
LAG_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 5_000)
"""Upper bounds of the lag histogram (Prometheus ``le``); a last bucket takes the rest."""


@dataclass(frozen=True)
class ShedLimits:
    """Past either limit, new calls hear congestion for ``window_ms`` after the last sample over
    it (0 switches a signal off). The window is the hysteresis: one slow moment sheds a burst, not
    one call, and admission comes back only after the signal stayed calm that long."""

    loop_lag_ms: int = 100
    ari_answer_ms: int = 1_000
    window_ms: int = 2_000


class Pressure:
    """Samples in, a refusal reason out; no I/O (the probe and the ARI client feed it)."""

    def __init__(self, clock: Clock, limits: ShedLimits) -> None:
        self.clock, self.limits = clock, limits
        self.last_lag_ms = 0
        self.last_ari_ms = 0
        self._lag_over_until = 0
        self._ari_over_until = 0
        self.lag_counts = [0] * (len(LAG_BUCKETS_MS) + 1)
        """Probe samples per lag bucket (not cumulative), the last one past every bound."""
        self.lag_sum_ms = 0

    def loop_lag(self, lag_ms: int) -> None:
        self.last_lag_ms = lag_ms
        self.lag_counts[bisect_left(LAG_BUCKETS_MS, lag_ms)] += 1
        self.lag_sum_ms += lag_ms
        if self.limits.loop_lag_ms and lag_ms > self.limits.loop_lag_ms:
            self._lag_over_until = self.clock.now_ms() + self.limits.window_ms

    def ari_answer(self, answer_ms: int) -> None:
        self.last_ari_ms = answer_ms
        if self.limits.ari_answer_ms and answer_ms > self.limits.ari_answer_ms:
            self._ari_over_until = self.clock.now_ms() + self.limits.window_ms

    def refusal(self) -> str | None:
        """Why a call arriving now is refused ("loop_lag", "ari_slow"), or None to take it."""
        now = self.clock.now_ms()
        if now < self._lag_over_until:
            return "loop_lag"
        if now < self._ari_over_until:
            return "ari_slow"
        return None


async def probe_loop_lag(pressure: Pressure, clock: Clock) -> None:
    """Sleeps ``LAG_PROBE_MS`` again and again; how late each wake-up comes is the loop's lag
    (every timer of every call is that late too)."""
    while True:
        due = clock.now_ms() + LAG_PROBE_MS
        await asyncio.sleep(LAG_PROBE_MS / 1000)
        pressure.loop_lag(max(0, clock.now_ms() - due))

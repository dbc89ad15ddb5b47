"""Named one-shot timers on an injectable clock; starting a name again replaces it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.timers")


class Timers:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, at_ms: int, fire: Callable[[str, int], Awaitable[None]]) -> None:
        self.cancel(name)

        async def run() -> None:
            await self.clock.sleep_until(at_ms)
            self._tasks.pop(name, None)
            try:
                await fire(name, at_ms)
            except Exception:
                log.exception("timer %s failed", name)

        self._tasks[name] = asyncio.get_running_loop().create_task(run(), name=f"timer {name}")

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()

    def cancel_prefix(self, prefix: str) -> None:
        for name in [n for n in self._tasks if n.startswith(prefix)]:
            self.cancel(name)

    def pending(self) -> dict[str, bool]:
        return {name: not task.done() for name, task in self._tasks.items()}

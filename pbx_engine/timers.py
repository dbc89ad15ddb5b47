"""Named one-shot timers on an injectable clock, grouped by call; starting a name again
replaces it, and a call's whole group is cancelled without looking at other calls' timers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.timers")


class Timers:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cancels: dict[str, dict[str, Callable[[], None]]] = {}

    def start(self, group: str, name: str, at_ms: int, fire: Callable[[str, int], None]) -> None:
        self.cancel(group, name)

        def due() -> None:
            self._drop(group, name)
            try:
                fire(name, at_ms)
            except Exception:
                log.exception("timer %s:%s failed", group, name)

        self._cancels.setdefault(group, {})[name] = self.clock.call_at(at_ms, due)

    def cancel(self, group: str, name: str) -> None:
        cancel = self._drop(group, name)
        if cancel is not None:
            cancel()

    def cancel_group(self, group: str) -> None:
        for cancel in self._cancels.pop(group, {}).values():
            cancel()

    def _drop(self, group: str, name: str) -> Callable[[], None] | None:
        timers = self._cancels.get(group)
        if timers is None:
            return None
        cancel = timers.pop(name, None)
        if not timers:
            del self._cancels[group]
        return cancel

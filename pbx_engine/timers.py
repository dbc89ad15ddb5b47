"""Named one-shot timers on an injectable clock; starting a name again replaces it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.timers")


class Timers:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cancels: dict[str, Callable[[], None]] = {}

    def start(self, name: str, at_ms: int, fire: Callable[[str, int], None]) -> None:
        self.cancel(name)

        def due() -> None:
            self._cancels.pop(name, None)
            try:
                fire(name, at_ms)
            except Exception:
                log.exception("timer %s failed", name)

        self._cancels[name] = self.clock.call_at(at_ms, due)

    def cancel(self, name: str) -> None:
        cancel = self._cancels.pop(name, None)
        if cancel is not None:
            cancel()

    def cancel_prefix(self, prefix: str) -> None:
        for name in [n for n in self._cancels if n.startswith(prefix)]:
            self.cancel(name)

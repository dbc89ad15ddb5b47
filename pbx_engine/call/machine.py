"""One call: the current state, the shared context, events in and commands out."""

from __future__ import annotations

import logging

from pbx_engine.call import commands as cmd
from pbx_engine.call.base import Done, State
from pbx_engine.call.common_states import Arriving
from pbx_engine.call.context import CallContext
from pbx_engine.call.events import Event

log = logging.getLogger("minutecard.call")


class Call:
    """Feed events with ``handle``; it returns the commands to run, in order."""

    def __init__(self, call_id: str) -> None:
        self.ctx = CallContext(call_id=call_id)
        self.state: State = Arriving()

    @property
    def state_name(self) -> str:
        return type(self.state).__name__

    @property
    def done(self) -> bool:
        return isinstance(self.state, Done)

    def handle(self, event: Event) -> list[cmd.Command]:
        before = self.state_name
        self.state = self.state.handle(self.ctx, event)
        if self.state_name != before:
            line = f"call {self.ctx.call_id}: {before} -> {self.state_name}"
            self.ctx.log.append(line)
            log.info(line)
        out, self.ctx.out = self.ctx.out, []
        return out

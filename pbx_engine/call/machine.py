"""One call: its state and context; events in, commands out, by the table in transitions.py."""

from __future__ import annotations

import logging

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallContext, CallSetup
from pbx_engine.call.transitions import (
    ENTRY,
    IGNORED,
    TABLE,
    TransitionError,
    UnexpectedEvent,
)
from pbx_engine.call.types import Reenter, State

log = logging.getLogger("minutecard.call")


class Call:
    """Feed events with ``handle``; it returns the commands to run, in order."""

    def __init__(self, setup: CallSetup) -> None:
        self.ctx = CallContext(setup)
        self.unexpected: list[UnexpectedEvent] = []
        self.history: list[State] = [State.ARRIVING]

    @property
    def state(self) -> State:
        return self.ctx.state

    @property
    def done(self) -> bool:
        return self.ctx.state is State.DONE

    def handle(self, event: ev.Event) -> list[cmd.Command]:
        state, kind = self.ctx.state, type(event)
        stamp = getattr(event, "at_ms", None)
        if isinstance(stamp, int):
            self.ctx.now_ms = stamp
        row = TABLE[state].get(kind)
        if row is None:
            if kind in IGNORED[state]:
                log.debug("call %s: %s ignores %s", self.ctx.call_id, state, event)
            else:
                surprise = UnexpectedEvent(self.ctx.call_id, state, event)
                self.unexpected.append(surprise)
                log.warning("call %s: unexpected in %s: %s", self.ctx.call_id, state, event)
            return self._drain()
        answer = row.handler(self.ctx, event)
        target = answer.state if isinstance(answer, Reenter) else answer
        if target not in row.targets:
            raise TransitionError(f"{state} on {kind.__name__} may not lead to {target}")
        if target is not state or isinstance(answer, Reenter):
            log.debug("call %s: %s -> %s", self.ctx.call_id, state, target)
            self.ctx.state = target
            self.history.append(target)
            if target is State.DONE:
                # One line a call for the operator (a line per transition cost more CPU than
                # the machine itself under load): how it ended and the way it went.
                log.info(
                    "call %s: %s (%s) after %s",
                    self.ctx.call_id,
                    self.ctx.ending.cause,
                    self.ctx.ending.side,
                    " -> ".join(self.history),
                )
            entry = ENTRY.get(target)
            if entry is not None:
                entry(self.ctx)
        return self._drain()

    def _drain(self) -> list[cmd.Command]:
        out, self.ctx.out = self.ctx.out, []
        return out

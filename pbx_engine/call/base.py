"""The state base class (dispatch by event type; unexpected events are logged), and the two
ending states every flow shares: Closing and Done."""

from __future__ import annotations

import logging
import re

from pbx_engine.call import commands as cmd
from pbx_engine.call.context import CallContext
from pbx_engine.call.events import Event, Hangup, PlaybackFinished, Shutdown
from prompts import PromptId

log = logging.getLogger("minutecard.call")


def _handler_name(event: Event) -> str:
    return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


class State:
    """One state of a call. Handlers return the next state (often ``self``)."""

    def handle(self, ctx: CallContext, event: Event) -> State:
        handler = getattr(self, _handler_name(event), None)
        if handler is None:
            return self.unexpected(ctx, event)
        return handler(ctx, event)

    def unexpected(self, ctx: CallContext, event: Event) -> State:
        log.debug("call %s: %s ignores %s", ctx.call_id, type(self).__name__, event)
        return self

    def on_hangup(self, ctx: CallContext, event: Hangup) -> State:
        """Default end before a bridge exists: whoever hung up, the call is over."""
        if event.channel not in (ctx.channel, ctx.advisor_channel):
            return self
        return end_unbridged(ctx, event.at_ms, event.cause, "caller")

    def on_shutdown(self, ctx: CallContext, event: Shutdown) -> State:
        ctx.emit(cmd.HangupChannel(ctx.channel, "normal"))
        return end_unbridged(ctx, event.at_ms, event.reason, "engine")


def end_unbridged(ctx: CallContext, at_ms: int, cause: str, side: str) -> State:
    """Close a call that never talked: cancel timers, drop the advisor leg, release, record."""
    ctx.ended_ms = at_ms
    ctx.hangup_cause, ctx.hangup_side = cause, side
    ctx.cancel("pin", "press1")
    if ctx.advisor_channel:
        ctx.emit(cmd.HangupChannel(ctx.advisor_channel, "normal"))
    if ctx.reservation_id is not None:
        ctx.emit(cmd.Release(ctx.reservation_id))
    if ctx.is_advisor_call():
        ctx.emit(cmd.Settle(None, ctx.record()))
    return Done.enter(ctx)


class Done(State):
    """The call is over; late events (a second hang-up, a stale timer) are ignored."""

    @classmethod
    def enter(cls, ctx: CallContext) -> State:
        ctx.emit(
            cmd.Finished(
                {"call_id": ctx.call_id, "cause": ctx.hangup_cause, "side": ctx.hangup_side}
            )
        )
        return cls()

    def on_hangup(self, ctx: CallContext, event: Hangup) -> State:
        return self

    def on_shutdown(self, ctx: CallContext, event: Shutdown) -> State:
        return self


class Closing(State):
    """Say a last prompt (then goodbye where it fits), then hang up and record."""

    @classmethod
    def after(cls, ctx: CallContext, *prompts: PromptId) -> State:
        ctx.play(*prompts)
        return cls()

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id != ctx.waiting_for:
            return self
        ctx.emit(cmd.HangupChannel(ctx.channel, "normal"))
        ctx.ended_ms = event.at_ms
        ctx.hangup_side = ctx.hangup_side or "engine"
        if ctx.is_advisor_call():
            ctx.emit(cmd.Settle(None, ctx.record()))
        return Done.enter(ctx)

    def on_hangup(self, ctx: CallContext, event: Hangup) -> State:
        if event.channel != ctx.channel:
            return self
        ctx.ended_ms = event.at_ms
        ctx.hangup_side = "caller"
        if ctx.is_advisor_call():
            ctx.emit(cmd.Settle(None, ctx.record()))
        return Done.enter(ctx)

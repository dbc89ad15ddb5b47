"""The first states of every call: arriving, and looking up the dialed number."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call.advisor_states import Rating
from pbx_engine.call.base import Closing, State
from pbx_engine.call.context import CallContext
from pbx_engine.call.events import NumberInfo, Started
from pbx_engine.call.pin_states import CollectingPin
from prompts import PromptId


class Arriving(State):
    """Nothing known yet but the channel."""

    def on_started(self, ctx: CallContext, event: Started) -> State:
        ctx.channel, ctx.dialed, ctx.caller = event.channel, event.dialed, event.caller
        ctx.arrived_ms, ctx.payphone = event.at_ms, event.payphone
        if not ctx.caller:
            # No number at all (anonymous, nothing network-asserted): we cannot bind or bill.
            ctx.answer()
            ctx.hangup_cause = "no_caller_number"
            return Closing.after(ctx, PromptId.CLIR_REQUIRED)
        ctx.emit(cmd.LookUp(ctx.dialed, ctx.caller))
        return LookingUp()


class LookingUp(State):
    def on_number_info(self, ctx: CallContext, event: NumberInfo) -> State:
        ctx.info = event
        ctx.answer()
        if event.role is None:
            ctx.hangup_cause = "unknown_number"
            return Closing.after(ctx, PromptId.NUMBER_NOT_REACHABLE)
        if event.role == "card":
            return CollectingPin.prompt(ctx, PromptId.WELCOME, PromptId.ENTER_PIN)
        if not event.accepts_caller:
            ctx.hangup_cause = "caller_not_accepted"
            return Closing.after(ctx, PromptId.NUMBER_NOT_REACHABLE)
        if event.card_id is None:
            return CollectingPin.prompt(ctx, PromptId.NOT_ACTIVATED, PromptId.ENTER_PIN)
        ctx.card_id = event.card_id
        return Rating.ask(ctx)

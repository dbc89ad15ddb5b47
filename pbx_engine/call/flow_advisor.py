"""The advisor number once the caller's card is known: authorize, announce, (hunt and dial: see
``flow_hunt``), bridge, talk (warned or not), and end on the second the hold runs out."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallContext, announced_minutes
from pbx_engine.call.flow_hunt import begin
from pbx_engine.call.types import Cause, Next, Reenter, Side, State, TimerId
from prompts import PromptId, fragments
from prompts.sentences import price_fragments, warning_fragments
from rating import warning_instant

# ---- AUTHORIZING ----------------------------------------------------------------------------


def enter_authorizing(ctx: CallContext) -> None:
    assert ctx.card_id is not None
    ctx.emit(cmd.Authorize(ctx.card_id, ctx.target, ctx.caller))


def on_authorized(ctx: CallContext, event: ev.Authorized) -> Next:
    ctx.money.price_per_minute = event.price_per_minute
    ctx.money.after_announcement = event.after_announcement
    if event.hold_id is None:
        ctx.end_as(event.refusal or Cause.NO_CREDIT, Side.ENGINE, PromptId.NO_CREDIT)
        ctx.ending.prompts += (PromptId.GOODBYE,)
        return State.CLOSING
    ctx.money.hold_id, ctx.money.affordable_s = event.hold_id, event.affordable_s
    return State.ANNOUNCING


# ---- ANNOUNCING: the minutes left (seed 003: at the start of every call) --------------------


def _price_paths(ctx: CallContext) -> list[str]:
    price = ctx.money.price_per_minute
    return [] if price is None else price_fragments(price, ctx.lang)


def enter_announcing(ctx: CallContext) -> None:
    minutes = announced_minutes(ctx.money.affordable_s)
    paths = fragments(PromptId.REMAINING, ctx.lang, minutes=minutes)
    if not ctx.money.after_announcement:
        paths += _price_paths(ctx)
    ctx.play_paths(paths)


def on_announced(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.ANNOUNCING
    return begin(ctx, event.at_ms)


def on_announce_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    return begin(ctx, event.at_ms) if isinstance(event.command, cmd.Play) else State.ANNOUNCING


# ---- credit that changes before or while talking --------------------------------------------


def on_credit_changed(ctx: CallContext, event: ev.CreditChanged) -> Next:
    if ctx.money.hold_id is not None:
        ctx.emit(cmd.FollowCredit(ctx.money.hold_id, ctx.talk_s(event.at_ms)))
    return ctx.state


def on_hold_moved_before_talk(ctx: CallContext, event: ev.HoldMoved) -> Next:
    ctx.money.affordable_s = event.affordable_s
    return ctx.state


# ---- BRIDGING: charging starts when both legs are in the bridge -----------------------------


def enter_bridging(ctx: CallContext) -> None:
    assert ctx.legs.advisor is not None
    ctx.legs.bridge = f"{ctx.call_id}-bridge"
    ctx.emit(cmd.Bridge(ctx.legs.bridge, (ctx.channel, ctx.legs.advisor)))


def on_entered_bridge(ctx: CallContext, event: ev.EnteredBridge) -> Next:
    if event.bridge != ctx.legs.bridge:
        return State.BRIDGING
    ctx.legs.in_bridge.add(event.channel)
    if not {ctx.channel, ctx.legs.advisor} <= ctx.legs.in_bridge:
        return State.BRIDGING
    if ctx.money.after_announcement and ctx.money.price_per_minute is not None:
        return State.ANNOUNCING_TARIFF
    # Asterisk's stamp of the second leg entering: both can hear each other from here.
    return _begin_charging(ctx, event.at_ms)


def on_bridge_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if not isinstance(event.command, cmd.Bridge):
        return ctx.state
    ctx.end_as(Cause.BRIDGE_FAILED, Side.ENGINE, PromptId.ADVISOR_UNAVAILABLE)
    ctx.ending.prompts += (PromptId.GOODBYE,)
    ctx.emit(cmd.HangupChannel(ctx.legs.advisor or ""))
    ctx.settle_once(event.at_ms)
    return State.FAREWELL


# ---- ANNOUNCING_TARIFF: money projects charging "nach Tarifansage" (seed 003) ---------------


def enter_announcing_tariff(ctx: CallContext) -> None:
    ctx.play_paths(_price_paths(ctx), to_bridge=True)


def on_tariff_announced(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.ANNOUNCING_TARIFF
    return _begin_charging(ctx, event.at_ms)


def on_tariff_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if not isinstance(event.command, cmd.Play):
        return State.ANNOUNCING_TARIFF
    return _begin_charging(ctx, event.at_ms)


def _begin_charging(ctx: CallContext, at_ms: int) -> Next:
    ctx.waiting_for = None
    ctx.legs.charge_start_ms = at_ms
    ctx.timer(TimerId.CHECKPOINT, at_ms + ctx.setup.checkpoint_ms)
    return State.WARNED if _warn_at(ctx) <= at_ms else State.TALKING


def _warn_at(ctx: CallContext) -> int:
    assert ctx.legs.charge_start_ms is not None
    lead = warning_instant(ctx.money.affordable_s, ctx.info.warning_lead_s)
    return ctx.legs.charge_start_ms + 1000 * lead


# ---- TALKING and WARNED ---------------------------------------------------------------------


def enter_talking(ctx: CallContext) -> None:
    ctx.timer(TimerId.WARN, _warn_at(ctx))
    ctx.timer(TimerId.END, ctx.end_at_ms())


def enter_warned(ctx: CallContext) -> None:
    """Caller and advisor both hear it: it plays into the bridge."""
    ctx.cancel(TimerId.WARN)
    ctx.timer(TimerId.END, ctx.end_at_ms())
    # The lead the call really has now: the configured one, or less when the call started
    # short of it or a debit brought its end forward.
    left_ms = ctx.end_at_ms() - max(ctx.now_ms, _warn_at(ctx))
    ctx.play_paths(warning_fragments((left_ms + 500) // 1000, ctx.lang), to_bridge=True)


def on_warn_due(ctx: CallContext, event: ev.TimerFired) -> Next:
    return State.WARNED


def on_end_due(ctx: CallContext, event: ev.TimerFired) -> Next:
    # The engine's planned instant, not the timer's wake-up: the call is billed to the second.
    ctx.end_as(Cause.CREDIT_EXHAUSTED, Side.ENGINE, PromptId.CREDIT_EXHAUSTED)
    return _finish(ctx, ctx.end_at_ms())


def on_checkpoint_due(ctx: CallContext, event: ev.TimerFired) -> Next:
    assert ctx.money.hold_id is not None
    ctx.emit(cmd.Checkpoint(ctx.money.hold_id, ctx.talk_s(event.at_ms)))
    ctx.timer(TimerId.CHECKPOINT, event.at_ms + ctx.setup.checkpoint_ms)
    return ctx.state


def on_talking_timer(ctx: CallContext, event: ev.TimerFired) -> Next:
    handler = _TALK_TIMERS.get(event.timer)
    if handler is None or (event.timer is TimerId.WARN and ctx.state is State.WARNED):
        return ctx.state  # a stale PIN or press-1 timer, or a warning already heard
    return handler(ctx, event)


_TALK_TIMERS = {
    TimerId.WARN: on_warn_due,
    TimerId.END: on_end_due,
    TimerId.CHECKPOINT: on_checkpoint_due,
}


def on_hold_moved(ctx: CallContext, event: ev.HoldMoved) -> Next:
    if event.affordable_s == ctx.money.affordable_s:
        return ctx.state
    ctx.money.affordable_s = event.affordable_s
    if ctx.state is State.TALKING or _warn_at(ctx) > event.at_ms:
        # Both timers again: a warning already heard is heard again when a top-up puts the end
        # beyond the lead; a debit that brings the end within the lead warns at once.
        return Reenter(State.TALKING)
    ctx.timer(TimerId.END, ctx.end_at_ms())
    return ctx.state


def on_talking_hangup(ctx: CallContext, event: ev.Hangup) -> Next:
    if event.channel == ctx.channel:
        ctx.end_as(Cause.HANGUP, Side.CALLER, q850=event.q850)
    elif event.channel == ctx.legs.advisor:
        ctx.end_as(Cause.HANGUP, Side.ADVISOR, PromptId.GOODBYE, q850=event.q850)
    else:
        return ctx.state
    # Asterisk's own stamp of the hang-up, never later than the credit allows.
    return _finish(ctx, min(event.at_ms, ctx.end_at_ms()))


def on_talking_shutdown(ctx: CallContext, event: ev.Shutdown) -> Next:
    ctx.end_as(event.cause, Side.ENGINE)
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return _finish(ctx, min(event.at_ms, ctx.end_at_ms()))


def _finish(ctx: CallContext, at_ms: int) -> Next:
    ctx.cancel(TimerId.WARN, TimerId.END, TimerId.CHECKPOINT)
    if ctx.ending.side is not Side.ADVISOR and ctx.legs.advisor:
        ctx.emit(cmd.HangupChannel(ctx.legs.advisor))
    ctx.settle_once(at_ms)
    return State.FAREWELL if ctx.ending.prompts else State.DONE

"""Handlers every flow shares: arriving, looking up the number, closing, farewell, done, and
the ends of a call that never talked."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import FAREWELL_GUARD_MS, CallContext
from pbx_engine.call.types import Cause, Next, Role, Side, State, TimerId
from prompts import PromptId

# ---- ARRIVING -------------------------------------------------------------------------------


def on_started(ctx: CallContext, event: ev.Started) -> Next:
    ctx.arrived_ms = event.at_ms
    ctx.target = ctx.setup.dialed
    if not ctx.setup.caller:
        # No number at all (anonymous, nothing network-asserted): we cannot bind or bill.
        ctx.end_as(Cause.NO_CALLER_NUMBER, Side.ENGINE, PromptId.CLIR_REQUIRED)
        return State.CLOSING
    return State.LOOKING_UP


# ---- LOOKING_UP -----------------------------------------------------------------------------


def enter_looking_up(ctx: CallContext) -> None:
    ctx.emit(cmd.LookUp(ctx.target, ctx.caller))


def on_number_info(ctx: CallContext, event: ev.NumberInfo) -> Next:
    ctx.info = event
    if event.role is None:
        ctx.end_as(Cause.UNKNOWN_NUMBER, Side.ENGINE, PromptId.NUMBER_NOT_REACHABLE)
        return State.CLOSING
    if not event.accepts_caller:
        # The number's caller rules hold whatever its role (an 0800 card number too).
        ctx.end_as(Cause.CALLER_NOT_ACCEPTED, Side.ENGINE, PromptId.NUMBER_NOT_REACHABLE)
        return State.CLOSING
    if event.closed:
        ctx.end_as(Cause.CLOSED, Side.ENGINE, PromptId.CLOSED, PromptId.GOODBYE)
        return State.CLOSING
    ctx.answer()
    if event.role is Role.LOGIN:
        ctx.pin.prompts = (PromptId.ENTER_PIN,)
        return State.COLLECTING_PIN
    if event.role is Role.CARD:
        ctx.pin.prompts = (PromptId.WELCOME, PromptId.ENTER_PIN)
        return State.COLLECTING_PIN
    if event.card_id is None:
        ctx.pin.prompts = (PromptId.NOT_ACTIVATED, PromptId.ENTER_PIN)
        return State.COLLECTING_PIN
    ctx.card_id = event.card_id
    return State.AUTHORIZING


def on_service_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    """The database did not answer a look-up, activation or authorization: say so, hang up."""
    if not isinstance(event.command, cmd.LookUp | cmd.Activate | cmd.ToggleLogin | cmd.Authorize):
        return ctx.state
    ctx.end_as(Cause.SERVICE_UNAVAILABLE, Side.ENGINE, PromptId.SERVICE_UNAVAILABLE)
    return State.CLOSING


# ---- ends of a call that never talked -------------------------------------------------------


def on_hangup_unbridged(ctx: CallContext, event: ev.Hangup) -> Next:
    """Caller or advisor leg gone before any charging: drop the other leg, release, record."""
    side = Side.CALLER if event.channel == ctx.channel else Side.ADVISOR
    if side is Side.ADVISOR and event.channel != ctx.legs.advisor:
        # Neither leg of this call (a stale advisor leg): nothing of this call ends.
        return ctx.state
    ctx.end_as(Cause.HANGUP, side, q850=event.q850)
    return _end_unbridged(ctx, event.at_ms)


def on_shutdown(ctx: CallContext, event: ev.Shutdown) -> Next:
    ctx.end_as(event.cause, Side.ENGINE)
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return _end_unbridged(ctx, event.at_ms)


def _end_unbridged(ctx: CallContext, at_ms: int) -> Next:
    # Timers need no cancel here: DONE's entry cancels them all, and FAREWELL is reached
    # only from states that run none.
    if ctx.legs.advisor and ctx.ending.side is not Side.ADVISOR:
        ctx.emit(cmd.HangupChannel(ctx.legs.advisor))
    ctx.settle_once(at_ms)
    if ctx.ending.side is Side.ADVISOR:
        ctx.ending.prompts = (PromptId.GOODBYE,)
        return State.FAREWELL
    return State.DONE


# ---- CLOSING: a last prompt, then hang up ---------------------------------------------------


def enter_closing(ctx: CallContext) -> None:
    ctx.answer()
    ctx.play(*ctx.ending.prompts)


def on_closing_prompt_done(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.CLOSING
    return _close(ctx, event.at_ms)


def on_closing_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    return _close(ctx, event.at_ms) if isinstance(event.command, cmd.Play) else State.CLOSING


def _close(ctx: CallContext, at_ms: int) -> Next:
    ctx.emit(cmd.HangupChannel(ctx.channel))
    ctx.settle_once(at_ms)
    return State.DONE


def on_closing_hangup(ctx: CallContext, event: ev.Hangup) -> Next:
    if event.channel != ctx.channel:
        return State.CLOSING
    ctx.ending.side, ctx.ending.q850 = Side.CALLER, event.q850
    ctx.settle_once(event.at_ms)
    return State.DONE


# ---- FAREWELL: billing is over; the caller hears a last prompt ------------------------------


def enter_farewell(ctx: CallContext) -> None:
    """The caller hears it alone in the bridge (Asterisk 16 took a play sent as the channel left
    a destroyed bridge and never started it); the guard hangs up if it never ends all the same."""
    assert ctx.ending.ended_ms is not None
    ctx.play(*ctx.ending.prompts)
    ctx.timer(TimerId.FAREWELL_GUARD, ctx.ending.ended_ms + FAREWELL_GUARD_MS)


def on_farewell_guard(ctx: CallContext, event: ev.TimerFired) -> Next:
    if event.timer is not TimerId.FAREWELL_GUARD:
        return State.FAREWELL
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return State.DONE


def on_farewell_prompt_done(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.FAREWELL
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return State.DONE


def on_farewell_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if not isinstance(event.command, cmd.Play):
        return State.FAREWELL
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return State.DONE


def on_farewell_hangup(ctx: CallContext, event: ev.Hangup) -> Next:
    return State.DONE if event.channel == ctx.channel else State.FAREWELL


def on_farewell_shutdown(ctx: CallContext, event: ev.Shutdown) -> Next:
    ctx.emit(cmd.HangupChannel(ctx.channel))
    return State.DONE


def on_late_advisor(ctx: CallContext, event: ev.AdvisorAnswered) -> Next:
    """An advisor who answers after the call gave up on them is hung up, not left in Stasis."""
    ctx.emit(cmd.HangupChannel(event.channel))
    return ctx.state


def stay(ctx: CallContext, event: ev.Event) -> Next:
    """Handled by staying: a failed checkpoint is retried at the next one, a failed extension
    keeps the old limit, a warning that cannot play leaves the end where it is."""
    return ctx.state


# ---- DONE -----------------------------------------------------------------------------------


def enter_done(ctx: CallContext) -> None:
    ctx.cancel(*TimerId)
    if ctx.legs.bridge:
        # Last: the caller hears the farewell in it (see enter_farewell).
        ctx.emit(cmd.DestroyBridge(ctx.legs.bridge))
    ctx.emit(cmd.Finished(ctx.ending.cause, ctx.ending.side))

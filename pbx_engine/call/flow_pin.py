"""PIN entry and activation, on the card number and inline on an advisor number, and what
follows an activation on the card number (the balance, the press-1 offer)."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import (
    PIN_DIGIT_MS,
    PIN_TOTAL_MS,
    PRESS_1_MS,
    CallContext,
    announced_minutes,
)
from pbx_engine.call.types import (
    ActivationStatus,
    Cause,
    Next,
    Reenter,
    Role,
    Side,
    State,
    TimerId,
)
from prompts import PromptId

# ---- COLLECTING_PIN: digits until #, the PIN length, 5 s between digits or 20 s in all ------


def enter_collecting_pin(ctx: CallContext) -> None:
    """The first digit interrupts the prompt; the clocks start when it ends or a digit comes."""
    ctx.pin.digits = ""
    ctx.pin.clock_running = False
    ctx.play(*ctx.pin.prompts)


def _start_clock(ctx: CallContext, now_ms: int) -> None:
    if not ctx.pin.clock_running:
        ctx.pin.clock_running = True
        ctx.timer(TimerId.PIN_TOTAL, now_ms + PIN_TOTAL_MS)


def on_pin_prompt_done(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id == ctx.waiting_for:
        ctx.waiting_for = None
        _start_clock(ctx, event.at_ms)
    return State.COLLECTING_PIN


def on_pin_prompt_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    """A prompt that cannot play still lets the caller type: start the clocks now."""
    if isinstance(event.command, cmd.Play):
        ctx.waiting_for = None
        _start_clock(ctx, event.at_ms)
    return State.COLLECTING_PIN


def on_pin_digit(ctx: CallContext, event: ev.Digit) -> Next:
    if event.channel != ctx.channel:
        return State.COLLECTING_PIN
    ctx.stop_prompt()
    _start_clock(ctx, event.at_ms)
    if event.digit == "#":
        return _submit(ctx)
    if event.digit == "*":
        ctx.pin.digits = ""
    elif event.digit in "0123456789":
        ctx.pin.digits += event.digit
        if len(ctx.pin.digits) >= ctx.info.pin_length:
            return _submit(ctx)
    ctx.timer(TimerId.PIN_DIGIT, event.at_ms + PIN_DIGIT_MS)
    return State.COLLECTING_PIN


def on_pin_timeout(ctx: CallContext, event: ev.TimerFired) -> Next:
    if event.timer in (TimerId.PIN_TOTAL, TimerId.PIN_DIGIT):
        return _submit(ctx)
    return State.COLLECTING_PIN


def _submit(ctx: CallContext) -> Next:
    ctx.cancel(TimerId.PIN_TOTAL, TimerId.PIN_DIGIT)
    if not ctx.pin.digits:
        # Nothing typed is not a guess: it costs a try here but is no lockout failure.
        return _retry_or_close(ctx)
    return State.ACTIVATING


def _retry_or_close(ctx: CallContext) -> Next:
    ctx.pin.tries += 1
    if ctx.pin.tries < ctx.info.pin_tries:
        ctx.pin.prompts = (PromptId.PIN_INVALID, PromptId.ENTER_PIN)
        return Reenter(State.COLLECTING_PIN)
    ctx.end_as(Cause.PIN_INVALID, Side.ENGINE, PromptId.PIN_INVALID, PromptId.GOODBYE)
    return State.CLOSING


# ---- ACTIVATING: the cards service checks the PIN -------------------------------------------


def enter_activating(ctx: CallContext) -> None:
    if ctx.info.role is Role.LOGIN:
        ctx.emit(cmd.ToggleLogin(ctx.info.project_id, ctx.caller, ctx.pin.digits))
        return
    ctx.emit(cmd.Activate(ctx.info.project_id, ctx.caller, ctx.pin.digits))


_LOGIN_PROMPTS = {"logged_in": PromptId.LOGGED_IN, "logged_out": PromptId.LOGGED_OUT}


def on_login_toggled(ctx: CallContext, event: ev.LoginToggled) -> Next:
    """A login number (issue 23): the prompt says which way the advisor was switched."""
    ctx.pin.digits = ""
    if event.status == "locked":
        ctx.end_as(Cause.PIN_LOCKED, Side.ENGINE, PromptId.PIN_LOCKED, PromptId.GOODBYE)
        return State.CLOSING
    prompt = _LOGIN_PROMPTS.get(event.status)
    if prompt is None:
        return _retry_or_close(ctx)
    ctx.end_as(Cause.LOGIN_TOGGLED, Side.ENGINE, prompt, PromptId.GOODBYE)
    return State.CLOSING


def on_activation_done(ctx: CallContext, event: ev.ActivationDone) -> Next:
    ctx.pin.digits = ""  # forgotten as soon as the answer is in
    if event.status is ActivationStatus.LOCKED:
        ctx.end_as(Cause.PIN_LOCKED, Side.ENGINE, PromptId.PIN_LOCKED, PromptId.GOODBYE)
        return State.CLOSING
    if event.status is not ActivationStatus.ACTIVATED or event.card_id is None:
        # Blocked and expired cards sound like a wrong PIN: nothing to learn by probing.
        return _retry_or_close(ctx)
    ctx.card_id, ctx.card_seconds = event.card_id, event.seconds
    if ctx.is_advisor_call():
        ctx.play(PromptId.ACTIVATED)
        return State.AUTHORIZING
    return State.ANNOUNCING_BALANCE


# ---- ANNOUNCING_BALANCE and OFFERING_ADVISOR (card number only) -----------------------------


def enter_announcing_balance(ctx: CallContext) -> None:
    minutes = announced_minutes(ctx.card_seconds)
    ctx.play(PromptId.ACTIVATED, PromptId.BALANCE_IS, minutes=minutes)


def on_balance_announced(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.ANNOUNCING_BALANCE
    return _after_balance(ctx)


def on_balance_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    return _after_balance(ctx) if isinstance(event.command, cmd.Play) else ctx.state


def _after_balance(ctx: CallContext) -> Next:
    ctx.waiting_for = None
    if ctx.info.default_advisor is None:
        ctx.end_as(Cause.ACTIVATED, Side.ENGINE, PromptId.GOODBYE)
        return State.CLOSING
    return State.OFFERING_ADVISOR


def enter_offering_advisor(ctx: CallContext) -> None:
    ctx.play(PromptId.PRESS_1_TO_CONNECT)


def on_offer_prompt_done(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id == ctx.waiting_for:
        ctx.waiting_for = None
        ctx.timer(TimerId.PRESS_1, event.at_ms + PRESS_1_MS)
    return State.OFFERING_ADVISOR


def on_offer_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if isinstance(event.command, cmd.Play):
        ctx.waiting_for = None
        ctx.timer(TimerId.PRESS_1, event.at_ms + PRESS_1_MS)
    return State.OFFERING_ADVISOR


def on_offer_digit(ctx: CallContext, event: ev.Digit) -> Next:
    if event.channel != ctx.channel or event.digit != "1" or ctx.info.default_advisor is None:
        return State.OFFERING_ADVISOR
    ctx.stop_prompt()
    ctx.cancel(TimerId.PRESS_1)
    # Pressing 1 serves the default advisor number from its look-up on: a loop in the graph.
    ctx.target = ctx.info.default_advisor
    return State.LOOKING_UP


def on_offer_timeout(ctx: CallContext, event: ev.TimerFired) -> Next:
    if event.timer is not TimerId.PRESS_1:
        return State.OFFERING_ADVISOR
    ctx.end_as(Cause.ACTIVATED, Side.ENGINE, PromptId.GOODBYE)
    return State.CLOSING

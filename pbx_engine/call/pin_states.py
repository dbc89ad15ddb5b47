"""PIN entry and activation, on the card number and inline on an advisor number."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call.advisor_states import Rating
from pbx_engine.call.base import Closing, State
from pbx_engine.call.context import (
    PIN_DIGIT_MS,
    PIN_TOTAL_MS,
    PRESS_1_MS,
    CallContext,
    announced_minutes,
)
from pbx_engine.call.events import ActivationDone, Digit, PlaybackFinished, TimerFired
from prompts import PromptId


class CollectingPin(State):
    """Digits until ``#``, the PIN length, 5 s without a digit or 20 s in all; ``*`` starts over.

    The first digit interrupts the prompt; the clocks start when the prompt ends or a digit comes.
    """

    def __init__(self) -> None:
        self.clock_running = False

    @classmethod
    def prompt(cls, ctx: CallContext, *prompts: PromptId) -> State:
        ctx.pin = ""
        ctx.play(*prompts)
        return cls()

    def _start_clock(self, ctx: CallContext, now_ms: int) -> None:
        if not self.clock_running:
            self.clock_running = True
            ctx.timer("pin_total", now_ms + PIN_TOTAL_MS)

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id == ctx.waiting_for:
            ctx.waiting_for = None
            self._start_clock(ctx, event.at_ms)
        return self

    def on_digit(self, ctx: CallContext, event: Digit) -> State:
        if event.channel != ctx.channel:
            return self
        if ctx.waiting_for:
            ctx.emit(cmd.StopPlayback(ctx.waiting_for))
            ctx.waiting_for = None
        self._start_clock(ctx, event.at_ms)
        if event.digit == "#":
            return self._submit(ctx)
        if event.digit == "*":
            ctx.pin = ""
        elif event.digit.isdigit():
            ctx.pin += event.digit
            if len(ctx.pin) >= ctx.info.pin_length:
                return self._submit(ctx)
        ctx.timer("pin_digit", event.at_ms + PIN_DIGIT_MS)
        return self

    def on_timer_fired(self, ctx: CallContext, event: TimerFired) -> State:
        if event.name.endswith((":pin_total", ":pin_digit")):
            return self._submit(ctx)
        return self

    def _submit(self, ctx: CallContext) -> State:
        ctx.cancel("pin_total", "pin_digit")
        if not ctx.pin:
            # Nothing typed is not a guess: it costs a try here but is no lockout failure.
            return retry_or_close(ctx)
        ctx.emit(cmd.Activate(ctx.info.project_id, ctx.caller or "", ctx.pin))
        return Activating()


def retry_or_close(ctx: CallContext) -> State:
    ctx.pin_tries += 1
    if ctx.pin_tries < ctx.info.pin_tries:
        return CollectingPin.prompt(ctx, PromptId.PIN_INVALID, PromptId.ENTER_PIN)
    ctx.hangup_cause = "pin_invalid"
    return Closing.after(ctx, PromptId.PIN_INVALID, PromptId.GOODBYE)


class Activating(State):
    """Waiting for the cards service; the PIN is forgotten as soon as the answer is in."""

    def on_activation_done(self, ctx: CallContext, event: ActivationDone) -> State:
        ctx.pin = ""
        if event.status == "locked":
            ctx.hangup_cause = "pin_locked"
            return Closing.after(ctx, PromptId.PIN_LOCKED, PromptId.GOODBYE)
        if event.status != "activated" or event.card_id is None:
            # Blocked and expired cards sound like a wrong PIN: nothing to learn by probing.
            return retry_or_close(ctx)
        ctx.card_id = event.card_id
        if ctx.is_advisor_call():
            ctx.play(PromptId.ACTIVATED)
            return Rating.ask(ctx)
        ctx.play(PromptId.ACTIVATED, PromptId.BALANCE_IS, minutes=announced_minutes(event.seconds))
        return AfterActivation()


class AfterActivation(State):
    """Activated on the card number: offer the default advisor, else say goodbye."""

    def __init__(self) -> None:
        self.offered = False

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id != ctx.waiting_for:
            return self
        ctx.waiting_for = None
        if ctx.info.default_advisor is None:
            ctx.hangup_cause = "activated"
            return Closing.after(ctx, PromptId.GOODBYE)
        if not self.offered:
            self.offered = True
            ctx.play(PromptId.PRESS_1_TO_CONNECT)
            return self
        ctx.timer("press1", event.at_ms + PRESS_1_MS)
        return self

    def on_digit(self, ctx: CallContext, event: Digit) -> State:
        if not self.offered or event.digit != "1":
            return self
        if ctx.waiting_for:
            ctx.emit(cmd.StopPlayback(ctx.waiting_for))
            ctx.waiting_for = None
        ctx.cancel("press1")
        ctx.dialed = ctx.info.default_advisor or ctx.dialed
        ctx.emit(cmd.LookUp(ctx.dialed, ctx.caller or ""))
        # Pressing 1 starts the advisor flow over from the look-up: a loop in the call graph.
        from pbx_engine.call.common_states import LookingUp  # noqa: PLC0415

        return LookingUp()

    def on_timer_fired(self, ctx: CallContext, event: TimerFired) -> State:
        if not event.name.endswith(":press1"):
            return self
        ctx.hangup_cause = "activated"
        return Closing.after(ctx, PromptId.GOODBYE)

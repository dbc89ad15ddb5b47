"""HUNTING and DIALING: the advisor leg as a list of attempts (issue 23).

A number without a group dials its own dial string once, as it always did. A number with a
group asks the database whom its strategy offers next (HUNTING: the claim makes the advisor
``ringing`` for every engine), rings them (DIALING), and on busy, no answer within the ring
timeout (Asterisk's originate timeout), congestion or an unreachable endpoint asks again,
until someone answers, nobody is left or the overall timeout has passed. Ring time is never
charged: charging starts in BRIDGING, when the answering leg has entered the bridge.
"""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.attempts import ANSWERED, CANCELLED, Attempt
from pbx_engine.call.context import DIAL_TIMEOUT_S, CallContext
from pbx_engine.call.flow_common import on_hangup_unbridged, on_shutdown
from pbx_engine.call.types import (
    ADVISOR_DIAL_CAUSES,
    ADVISOR_SUFFIX,
    Cause,
    Next,
    Side,
    State,
    TimerId,
)
from prompts import PromptId
from rating.ints import ceil_div

EXTENSION_MS = 5_000
"""How long CHOOSING waits after its prompt, or after a digit, for the next one."""
MAX_EXTENSION = 8
TIMEOUT_SLACK_MS = 250
"""An attempt that ended without a cause this close to its ring timeout timed out."""


def begin(ctx: CallContext, at_ms: int) -> Next:
    """After the announcement: hunt the group, or ring the number's own dial string."""
    if ctx.info.hunt:
        return State.CHOOSING if ctx.info.extensions else State.HUNTING
    destination = ctx.info.destination or ""
    channel = f"{ctx.call_id}{ADVISOR_SUFFIX}"
    ctx.hunt.attempts.append(Attempt(None, "", destination, channel, at_ms, DIAL_TIMEOUT_S))
    return State.DIALING


# ---- CHOOSING: the caller may type an advisor's extension and # ----------------------------


def enter_choosing(ctx: CallContext) -> None:
    ctx.play(PromptId.EXTENSION_OFFER)


def on_choice_prompt_done(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id == ctx.waiting_for:
        ctx.waiting_for = None
        ctx.timer(TimerId.EXTENSION, event.at_ms + EXTENSION_MS)
    return State.CHOOSING


def on_choice_play_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if isinstance(event.command, cmd.Play):
        ctx.waiting_for = None
        ctx.timer(TimerId.EXTENSION, event.at_ms + EXTENSION_MS)
    return State.CHOOSING


def on_choice_digit(ctx: CallContext, event: ev.Digit) -> Next:
    if event.channel != ctx.channel:
        return State.CHOOSING
    ctx.stop_prompt()
    if event.digit == "#":
        ctx.cancel(TimerId.EXTENSION)
        return State.HUNTING
    if event.digit.isdigit() and len(ctx.hunt.extension) < MAX_EXTENSION:
        ctx.hunt.extension += event.digit
    ctx.timer(TimerId.EXTENSION, event.at_ms + EXTENSION_MS)
    return State.CHOOSING


def on_choice_timeout(ctx: CallContext, event: ev.TimerFired) -> Next:
    """Nothing (more) typed: the digits typed so far, if any, choose; else the group."""
    return State.HUNTING if event.timer is TimerId.EXTENSION else State.CHOOSING


# ---- HUNTING: whom next ---------------------------------------------------------------------


def enter_hunting(ctx: CallContext) -> None:
    ctx.waiting_for = None
    first = not ctx.hunt.attempts
    extension = ctx.hunt.extension if first and ctx.hunt.extension else None
    ctx.emit(cmd.ClaimAdvisors(ctx.target, ctx.hunt.tried(), extension))


def on_offered(ctx: CallContext, event: ev.AdvisorsOffered) -> Next:
    hunt = ctx.hunt
    if hunt.deadline_ms is None:
        hunt.deadline_ms = event.at_ms + 1000 * event.overall_timeout_s
        hunt.ring_timeout_s, hunt.wrapup_s = event.ring_timeout_s, event.wrapup_s
    left_ms = hunt.deadline_ms - event.at_ms
    if not event.candidates or left_ms <= 0:
        _release(ctx, event)
        return _nobody(ctx, event.at_ms)
    if event.extension_missed:
        ctx.play(PromptId.EXTENSION_UNAVAILABLE)  # heard while the group rings
    timeout_s = min(hunt.ring_timeout_s, ceil_div(left_ms, 1000))
    for c in event.candidates:
        channel = hunt.leg(ctx.call_id)
        hunt.attempts.append(
            Attempt(
                c.advisor_id,
                c.name,
                c.dial_string,
                channel,
                event.at_ms,
                timeout_s,
                tariff_id=c.tariff_id,
            )
        )
    return State.DIALING


def on_claim_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if not isinstance(event.command, cmd.ClaimAdvisors):
        return State.HUNTING
    ctx.end_as(Cause.SERVICE_UNAVAILABLE, Side.ENGINE, PromptId.SERVICE_UNAVAILABLE)
    ctx.settle_once(event.at_ms)
    return State.CLOSING


def on_late_offer(ctx: CallContext, event: ev.AdvisorsOffered) -> Next:
    """A claim answered after the call ended: give the advisors back at once."""
    _release(ctx, event)
    return ctx.state


def _release(ctx: CallContext, event: ev.AdvisorsOffered) -> None:
    if event.candidates:
        ctx.emit(cmd.ReleaseAdvisors(frozenset(c.advisor_id for c in event.candidates)))


# ---- DIALING: the attempts ring -------------------------------------------------------------


def enter_dialing(ctx: CallContext) -> None:
    ctx.waiting_for = None
    for attempt in ctx.hunt.ringing():
        if not attempt.dialed:
            attempt.dialed = True
            ctx.emit(cmd.Dial(attempt.channel, attempt.dial_string, ctx.caller, attempt.timeout_s))


def on_advisor_answered(ctx: CallContext, event: ev.AdvisorAnswered) -> Next:
    attempt = ctx.hunt.ringing_on(event.channel)
    if attempt is None:
        return State.DIALING
    attempt.end(ANSWERED, event.at_ms)
    _cancel_ringing(ctx, event.at_ms)  # ring-all: the others are cancelled at once
    ctx.legs.advisor, ctx.legs.answered_ms = event.channel, event.at_ms
    if attempt.advisor_id is not None:
        ctx.emit(cmd.AdvisorTalking(attempt.advisor_id))
    if attempt.tariff_id is not None:
        return State.RATING_ADVISOR  # its own tariff rates the call: the hold first
    return State.BRIDGING


def on_dialing_hangup(ctx: CallContext, event: ev.Hangup) -> Next:
    if event.channel == ctx.channel:
        _cancel_ringing(ctx, event.at_ms)
        return on_hangup_unbridged(ctx, event)
    attempt = ctx.hunt.ringing_on(event.channel)
    if attempt is None:
        return State.DIALING
    cause = ADVISOR_DIAL_CAUSES.get(event.q850 or 0)
    if cause is None:
        # Asterisk 16 ends an originate whose timeout passed with cause 0 ("Unknown").
        rang_ms = event.at_ms - attempt.started_ms
        timed_out = rang_ms >= 1000 * attempt.timeout_s - TIMEOUT_SLACK_MS
        cause = Cause.ADVISOR_NOANSWER if timed_out else Cause.ADVISOR_FAILED
    return _attempt_failed(ctx, attempt, cause, event.at_ms, event.q850)


def on_dial_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if not isinstance(event.command, cmd.Dial):
        return State.DIALING
    attempt = ctx.hunt.ringing_on(event.command.channel)
    if attempt is None:
        return State.DIALING
    return _attempt_failed(ctx, attempt, Cause.ADVISOR_FAILED, event.at_ms, None)


def on_dialing_shutdown(ctx: CallContext, event: ev.Shutdown) -> Next:
    _cancel_ringing(ctx, event.at_ms)
    return on_shutdown(ctx, event)


def _attempt_failed(
    ctx: CallContext, attempt: Attempt, cause: Cause, at_ms: int, q850: int | None
) -> Next:
    attempt.end(cause, at_ms)
    if attempt.advisor_id is not None:
        ctx.emit(cmd.ReleaseAdvisors(frozenset({attempt.advisor_id})))
    if ctx.hunt.ringing():
        return State.DIALING
    if not ctx.info.hunt:
        # A number without a group: the caller hears why its one advisor did not answer.
        return _nobody(ctx, at_ms, cause, q850)
    assert ctx.hunt.deadline_ms is not None
    return State.HUNTING if at_ms < ctx.hunt.deadline_ms else _nobody(ctx, at_ms, q850=q850)


def _cancel_ringing(ctx: CallContext, at_ms: int) -> None:
    for other in ctx.hunt.ringing():
        other.end(CANCELLED, at_ms)
        ctx.emit(cmd.HangupChannel(other.channel))


def _nobody(
    ctx: CallContext, at_ms: int, cause: Cause = Cause.NO_ADVISOR, q850: int | None = None
) -> Next:
    """Nobody answered: the caller hears so; the hold is released, nothing is charged."""
    ctx.end_as(cause, Side.ADVISOR, PromptId.ADVISOR_UNAVAILABLE, PromptId.GOODBYE, q850=q850)
    ctx.settle_once(at_ms)
    return State.CLOSING

"""RATING_ADVISOR (issue 23, seed 004's price per offer): the advisor who answered has a tariff of
its own, so the hold taken before the hunt with the number's tariff is rated anew before the
bridge. The caller hears what the call now affords (the advisor's leg waits, uncharged);
charging still starts when both legs are in the bridge, and the warning and the end follow."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallContext, announced_minutes
from pbx_engine.call.types import Cause, Next, Side, State
from prompts import PromptId, fragments
from prompts.sentences import price_fragments


def enter_rating_advisor(ctx: CallContext) -> None:
    answered = ctx.hunt.answered()
    assert answered is not None and answered.advisor_id is not None
    assert ctx.money.hold_id is not None
    ctx.emit(cmd.RateForAdvisor(ctx.money.hold_id, answered.advisor_id))


def on_advisor_rated(ctx: CallContext, event: ev.AdvisorRated) -> Next:
    if not event.changed:
        return State.BRIDGING  # the caller's own deal rates the call, or the same tariff
    if event.affordable_s == 0:
        # The credit buys no billable step at this advisor's price: nothing is charged.
        ctx.end_as(Cause.NO_CREDIT, Side.ENGINE, PromptId.NO_CREDIT, PromptId.GOODBYE)
        return _drop_advisor(ctx, event.at_ms)
    money = ctx.money
    money.affordable_s, money.price_per_minute = event.affordable_s, event.price_per_minute
    money.after_announcement = event.after_announcement
    paths = fragments(PromptId.REMAINING, ctx.lang, minutes=announced_minutes(event.affordable_s))
    if event.price_per_minute is not None and not event.after_announcement:
        paths += price_fragments(event.price_per_minute, ctx.lang)
    ctx.play_paths(paths)
    return State.RATING_ADVISOR


def on_rating_announced(ctx: CallContext, event: ev.PlaybackFinished) -> Next:
    if event.playback_id != ctx.waiting_for:
        return State.RATING_ADVISOR
    ctx.waiting_for = None
    return State.BRIDGING


def on_rating_failed(ctx: CallContext, event: ev.CommandFailed) -> Next:
    if isinstance(event.command, cmd.Play):
        ctx.waiting_for = None
        return State.BRIDGING
    if not isinstance(event.command, cmd.RateForAdvisor):
        return State.RATING_ADVISOR
    # Never bridge at a price the hold does not carry.
    ctx.end_as(Cause.SERVICE_UNAVAILABLE, Side.ENGINE, PromptId.SERVICE_UNAVAILABLE)
    return _drop_advisor(ctx, event.at_ms)


def _drop_advisor(ctx: CallContext, at_ms: int) -> Next:
    ctx.emit(cmd.HangupChannel(ctx.legs.advisor or ""))
    ctx.settle_once(at_ms)
    return State.CLOSING

"""The advisor number after the caller is known: rate, reserve, announce, dial, talk, settle."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call.base import Closing, Done, State
from pbx_engine.call.context import (
    CHECKPOINT_MS,
    DIAL_TIMEOUT_S,
    CallContext,
    announced_minutes,
)
from pbx_engine.call.events import (
    AdvisorAnswered,
    AdvisorFailed,
    CreditChanged,
    Hangup,
    HoldExtended,
    PlaybackFinished,
    RatingReady,
    Reserved,
    Shutdown,
    TimerFired,
)
from prompts import PromptId, fragments
from prompts.sentences import price_fragments
from rating import ChargingStart, Quote, Unit, affordable_seconds, quote, warning_instant
from rating.ints import ceil_div


def _tariff_after_answer(ctx: CallContext) -> bool:
    assert ctx.rating is not None
    return ctx.rating.tariff.charging_start is ChargingStart.AFTER_ANNOUNCEMENT


def _quote(ctx: CallContext, talk_s: int) -> Quote:
    assert ctx.rating is not None
    return quote(ctx.rating.tariff, ctx.rating.caller_class, talk_s)


def _price_paths(ctx: CallContext) -> list[str]:
    assert ctx.rating is not None
    price = ctx.rating.tariff.rate_for(ctx.rating.caller_class)
    return price_fragments(price, ctx.lang)


class Rating(State):
    @classmethod
    def ask(cls, ctx: CallContext) -> State:
        ctx.emit(cmd.Rate(ctx.info.project_id, ctx.dialed, ctx.caller or "", ctx.card_id or 0))
        return cls()

    def on_rating_ready(self, ctx: CallContext, event: RatingReady) -> State:
        ctx.rating = event
        affordable = affordable_seconds(event.tariff, event.caller_class, event.credit)
        hold = _quote(ctx, affordable)
        if hold.billed_seconds == 0:
            # Less than one billable step (initial block and connect fee included).
            ctx.hangup_cause = "no_credit"
            return Closing.after(ctx, PromptId.NO_CREDIT, PromptId.GOODBYE)
        ctx.affordable_s = affordable
        ctx.emit(
            cmd.Reserve(
                ctx.card_id or 0,
                hold.cost,
                {"caller": ctx.caller, "dialed": ctx.dialed, "tariff_id": event.tariff_id},
            )
        )
        return Reserving()


class Reserving(State):
    def on_reserved(self, ctx: CallContext, event: Reserved) -> State:
        if event.reservation_id is None:
            ctx.hangup_cause = "no_credit"
            return Closing.after(ctx, PromptId.NO_CREDIT, PromptId.GOODBYE)
        ctx.reservation_id = event.reservation_id
        minutes = announced_minutes(ctx.affordable_s)
        paths = fragments(PromptId.REMAINING, ctx.lang, minutes=minutes)
        if ctx.info.unit == Unit.MONEY and not _tariff_after_answer(ctx):
            paths += _price_paths(ctx)
        ctx.play_paths(paths)
        return Announcing()


class Announcing(State):
    """The caller hears the minutes left (seed 003: at the start of every call)."""

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id != ctx.waiting_for:
            return self
        ctx.waiting_for = None
        ctx.advisor_channel = f"{ctx.call_id}-advisor"
        ctx.emit(
            cmd.Dial(
                ctx.advisor_channel, ctx.info.destination or "", ctx.caller or "", DIAL_TIMEOUT_S
            )
        )
        return Dialing()


class Dialing(State):
    def on_advisor_answered(self, ctx: CallContext, event: AdvisorAnswered) -> State:
        if event.channel != ctx.advisor_channel:
            return self
        ctx.answered_ms = event.at_ms
        ctx.bridge_id = f"{ctx.call_id}-bridge"
        ctx.emit(cmd.Bridge(ctx.bridge_id, (ctx.channel, event.channel)))
        connected = Connected()
        if ctx.info.unit == Unit.MONEY and _tariff_after_answer(ctx):
            # Charging starts when both have heard the tariff (seed 003 "nach Tarifansage").
            ctx.play_paths(_price_paths(ctx), to_bridge=True)
            return connected
        ctx.origin_ms = event.at_ms
        connected.arm(ctx, event.at_ms)
        return connected

    def on_advisor_failed(self, ctx: CallContext, event: AdvisorFailed) -> State:
        ctx.advisor_channel = None
        if ctx.reservation_id is not None:
            ctx.emit(cmd.Release(ctx.reservation_id))
            ctx.reservation_id = None
        ctx.hangup_cause = f"advisor_{event.cause}"
        return Closing.after(ctx, PromptId.ADVISOR_UNAVAILABLE, PromptId.GOODBYE)


class Connected(State):
    """Both legs bridged; the warning and the end are timers on the charging clock."""

    def __init__(self) -> None:
        self.pending_credit: int | None = None

    def arm(self, ctx: CallContext, now_ms: int) -> None:
        assert ctx.origin_ms is not None
        warn_at = ctx.origin_ms + 1000 * warning_instant(ctx.affordable_s, ctx.info.warning_lead_s)
        end_at = ctx.origin_ms + 1000 * ctx.affordable_s
        ctx.cancel("warn", "end")
        if not ctx.warned:
            if warn_at <= now_ms:
                self._warn(ctx)
            else:
                ctx.timer("warn", warn_at)
        ctx.timer("end", end_at)
        ctx.timer("checkpoint", now_ms + CHECKPOINT_MS)

    def _warn(self, ctx: CallContext) -> None:
        ctx.warned = True
        ctx.play(PromptId.WARNING_TWO_MINUTES, to_bridge=True)

    def _talk_s(self, ctx: CallContext, now_ms: int) -> int:
        if ctx.origin_ms is None:
            return 0
        return min(ceil_div(max(0, now_ms - ctx.origin_ms), 1000), ctx.affordable_s)

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id == ctx.waiting_for and ctx.origin_ms is None:
            ctx.waiting_for = None
            ctx.origin_ms = event.at_ms
            self.arm(ctx, event.at_ms)
        return self

    def on_timer_fired(self, ctx: CallContext, event: TimerFired) -> State:
        name = event.name.rsplit(":", 1)[-1]
        if name == "warn" and not ctx.warned:
            self._warn(ctx)
        elif name == "checkpoint" and ctx.reservation_id is not None:
            used = _quote(ctx, self._talk_s(ctx, event.at_ms)).cost
            ctx.emit(cmd.Checkpoint(ctx.reservation_id, used))
            ctx.timer("checkpoint", event.at_ms + CHECKPOINT_MS)
        elif name == "end":
            return self._finish(
                ctx, event.at_ms, "credit_exhausted", "engine", PromptId.CREDIT_EXHAUSTED
            )
        return self

    def on_credit_changed(self, ctx: CallContext, event: CreditChanged) -> State:
        assert ctx.rating is not None
        credit = _quote(ctx, ctx.affordable_s).cost + event.available
        more = affordable_seconds(ctx.rating.tariff, ctx.rating.caller_class, credit)
        if more <= ctx.affordable_s or ctx.reservation_id is None or self.pending_credit:
            return self
        self.pending_credit = more
        ctx.emit(cmd.ExtendHold(ctx.reservation_id, _quote(ctx, more).cost))
        return self

    def on_hold_extended(self, ctx: CallContext, event: HoldExtended) -> State:
        more, self.pending_credit = self.pending_credit, None
        if not event.ok or more is None:
            return self
        ctx.affordable_s = more
        if ctx.origin_ms is not None:
            warn_at = ctx.origin_ms + 1000 * warning_instant(more, ctx.info.warning_lead_s)
            # A warning already heard is heard again only if the new end is beyond the lead.
            if ctx.warned and warn_at > event.at_ms:
                ctx.warned = False
            self.arm(ctx, event.at_ms)
        return self

    def on_hangup(self, ctx: CallContext, event: Hangup) -> State:
        if event.channel == ctx.channel:
            return self._finish(ctx, event.at_ms, event.cause, "caller", None)
        if event.channel == ctx.advisor_channel:
            return self._finish(ctx, event.at_ms, event.cause, "advisor", PromptId.GOODBYE)
        return self

    def on_shutdown(self, ctx: CallContext, event: Shutdown) -> State:
        ctx.emit(cmd.HangupChannel(ctx.channel, "normal"))
        return self._finish(ctx, event.at_ms, event.reason, "engine", None)

    def _finish(
        self, ctx: CallContext, at_ms: int, cause: str, side: str, farewell: PromptId | None
    ) -> State:
        talk = self._talk_s(ctx, at_ms)
        billed = _quote(ctx, talk)
        ctx.ended_ms = at_ms
        ctx.hangup_cause, ctx.hangup_side = cause, side
        ctx.cancel("warn", "end", "checkpoint")
        if side != "advisor" and ctx.advisor_channel:
            ctx.emit(cmd.HangupChannel(ctx.advisor_channel, "normal"))
        if ctx.bridge_id:
            ctx.emit(cmd.DestroyBridge(ctx.bridge_id))
            ctx.bridge_id = None
        ctx.emit(
            cmd.Settle(ctx.reservation_id, ctx.record(used=billed.cost, quote=billed.as_dict()))
        )
        ctx.reservation_id = None
        if farewell is None:
            return Done.enter(ctx)
        ctx.play(farewell)
        return Farewell()


class Farewell(State):
    """Billing is over; the caller hears a last prompt and is hung up."""

    def on_playback_finished(self, ctx: CallContext, event: PlaybackFinished) -> State:
        if event.playback_id != ctx.waiting_for:
            return self
        ctx.emit(cmd.HangupChannel(ctx.channel, "normal"))
        return Done.enter(ctx)

    def on_hangup(self, ctx: CallContext, event: Hangup) -> State:
        return Done.enter(ctx) if event.channel == ctx.channel else self

    def on_shutdown(self, ctx: CallContext, event: Shutdown) -> State:
        ctx.emit(cmd.HangupChannel(ctx.channel, "normal"))
        return Done.enter(ctx)

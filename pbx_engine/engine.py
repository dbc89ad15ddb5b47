"""The adapter: ARI events become machine events; machine commands become ARI and cards calls.

Each call's events are handled one at a time (a lock per call), so a slow database answer for
one call never reorders another call's events and never blocks the rest of the engine.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cards.db import Database
from cards.errors import CardsError, Insufficient
from cards.services import activation, reservations, routing
from pbx_engine.ari.client import AriClient, AriError, Reconnected
from pbx_engine.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelHangupRequest,
    DtmfReceived,
    StasisEnd,
    StasisStart,
)
from pbx_engine.ari.events import PlaybackFinished as AriPlaybackFinished
from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.machine import Call
from pbx_engine.clock import Clock
from pbx_engine.timers import Timers

log = logging.getLogger("minutecard.engine")

ADVISOR_ARG = "advisor"
CREDIT_POLL_MS = 2_000
STALE_HOLD_S = 90
DIAL_CAUSES = {17: "busy", 18: "noanswer", 19: "noanswer", 21: "rejected", 34: "congestion"}


@dataclass
class EngineConfig:
    app: str = "minutecard"
    pin_secret: bytes = b""
    sounds_prefix: str = "minutecard"
    caller_format: str = "national"


@dataclass
class LiveCall:
    call: Call
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    advisor_up: bool = False


class Engine:
    def __init__(self, ari: AriClient, db: Database, clock: Clock, config: EngineConfig) -> None:
        self.ari, self.db, self.clock, self.config = ari, db, clock, config
        self.timers = Timers(clock)
        self.calls: dict[str, LiveCall] = {}
        self.by_channel: dict[str, str] = {}
        self.by_playback: dict[str, str] = {}
        self.accepting = True
        self.busy = 0
        self.idle = asyncio.Event()
        self.idle.set()

    # ---- time -------------------------------------------------------------------------------

    def _at_ms(self, wall_ms: int | None) -> int:
        """An Asterisk wall-clock stamp on the engine's monotonic clock (never in the future)."""
        now = self.clock.now_ms()
        if wall_ms is None:
            return now
        return min(now, now - (self.clock.wall_ms() - wall_ms))

    def _wall(self, at_ms: int | None) -> datetime | None:
        if at_ms is None:
            return None
        wall_ms = self.clock.wall_ms() - (self.clock.now_ms() - at_ms)
        return datetime.fromtimestamp(wall_ms // 1000, UTC).replace(
            microsecond=(wall_ms % 1000) * 1000
        )

    # ---- events in --------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume the event stream until the client closes."""
        async for item in self.ari.events():
            if isinstance(item, Reconnected):
                await self.reconcile(first=item.first)
            else:
                await self.on_ari_event(item)

    async def on_ari_event(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            await self._on_stasis_start(event)
            return
        if isinstance(event, AriPlaybackFinished):
            owner = self.by_playback.pop(event.playback_id, None)
            if owner is not None:
                at = self.clock.now_ms()
                await self.feed(owner, ev.PlaybackFinished(event.playback_id, at))
            return
        channel = event.channel.id
        call_id = self.by_channel.get(channel)
        if call_id is None:
            return
        live = self.calls.get(call_id)
        is_advisor = live is not None and channel != live.call.ctx.channel
        now = self.clock.now_ms()
        if is_advisor and live and not live.advisor_up:
            # An advisor leg that never answered: only its destruction (with the cause) counts.
            if isinstance(event, ChannelDestroyed):
                failure = DIAL_CAUSES.get(event.cause, "failed")
                await self.feed(call_id, ev.AdvisorFailed(failure))
        elif isinstance(event, DtmfReceived):
            await self.feed(call_id, ev.Digit(channel, event.digit, now))
        elif isinstance(event, StasisEnd | ChannelHangupRequest | ChannelDestroyed):
            cause = getattr(event, "cause_txt", "") or "normal"
            at = self._at_ms(getattr(event, "at_wall_ms", None))
            await self.feed(call_id, ev.Hangup(channel, at, cause))

    async def _on_stasis_start(self, event: StasisStart) -> None:
        channel = event.channel
        if event.args[:1] == (ADVISOR_ARG,) and len(event.args) > 1:
            call_id = event.args[1]
            live = self.calls.get(call_id)
            if live is None:
                await self._hangup_quietly(channel.id)
                return
            live.advisor_up = True
            await self.feed(call_id, ev.AdvisorAnswered(channel.id, self._at_ms(event.at_wall_ms)))
            return
        if not self.accepting:
            await self._hangup_quietly(channel.id, "congestion")
            return
        dialed = event.args[0] if event.args else channel.exten
        caller = routing.normalise_caller(channel.caller_number, self.config.caller_format)
        call_id = channel.id
        self.calls[call_id] = LiveCall(Call(call_id))
        self.by_channel[channel.id] = call_id
        self.idle.clear()
        await self.feed(
            call_id, ev.Started(channel.id, dialed, caller, self._at_ms(event.at_wall_ms))
        )

    async def feed(self, call_id: str, event: ev.Event) -> None:
        """Hand one event to a call and run what it asks for, following up on results."""
        live = self.calls.get(call_id)
        if live is None:
            return
        self.busy += 1
        try:
            async with live.lock:
                queue: list[ev.Event] = [event]
                while queue:
                    for command in live.call.handle(queue.pop(0)):
                        follow_up = await self._run_safely(live.call, command)
                        if follow_up is not None:
                            queue.append(follow_up)
        finally:
            self.busy -= 1

    # ---- commands out -----------------------------------------------------------------------

    async def _run_safely(self, call: Call, command: cmd.Command) -> ev.Event | None:
        try:
            return await self._run(call, command)
        except (AriError, CardsError, OSError) as exc:
            log.error("call %s: %s failed: %s", call.ctx.call_id, type(command).__name__, exc)
            if isinstance(command, cmd.Dial):
                return ev.AdvisorFailed("error")
            if isinstance(
                command,
                cmd.Settle
                | cmd.Release
                | cmd.Checkpoint
                | cmd.HangupChannel
                | cmd.StopPlayback
                | cmd.DestroyBridge
                | cmd.Play,
            ):
                return None
            return ev.Shutdown(self.clock.now_ms(), "engine_error")

    async def _run(self, call: Call, c: cmd.Command) -> ev.Event | None:
        ctx = call.ctx
        match c:
            case cmd.Answer():
                await self.ari.answer(c.channel)
            case cmd.Play():
                self.by_playback[c.playback_id] = ctx.call_id
                media = [f"sound:{self.config.sounds_prefix}/{c.lang}/{s}" for s in c.sounds]
                await self.ari.play(
                    media, c.playback_id, channel=c.channel, bridge=c.bridge, lang=c.lang
                )
            case cmd.StopPlayback():
                await self._quietly(self.ari.stop_playback(c.playback_id))
            case cmd.HangupChannel():
                await self._hangup_quietly(c.channel, c.reason)
            case cmd.Dial():
                self.by_channel[c.channel] = ctx.call_id
                await self.ari.originate(
                    c.destination,
                    c.channel,
                    app_args=f"{ADVISOR_ARG},{ctx.call_id}",
                    caller_id=c.caller_id,
                    timeout_s=c.timeout_s,
                )
            case cmd.Bridge():
                await self.ari.create_bridge(c.bridge)
                await self.ari.add_to_bridge(c.bridge, c.channels)
            case cmd.DestroyBridge():
                await self._quietly(self.ari.destroy_bridge(c.bridge))
            case cmd.StartTimer():
                self.timers.start(c.name, c.at_ms, self._timer_fired)
            case cmd.CancelTimer():
                self.timers.cancel(c.name)
            case cmd.LookUp():
                return await self._look_up(ctx.payphone, c)
            case cmd.Activate():
                return await self._activate(ctx.payphone, c)
            case cmd.Rate():
                choice = await routing.choose_rating(
                    self.db, c.dialed, c.caller, c.card_id, payphone=ctx.payphone
                )
                log.info(
                    "call %s: tariff %s (%s), class %s, credit %d",
                    ctx.call_id,
                    choice.tariff_id,
                    choice.reason,
                    choice.caller_class,
                    choice.credit,
                )
                return ev.RatingReady(
                    choice.tariff, choice.tariff_id, choice.caller_class, choice.credit
                )
            case cmd.Reserve():
                try:
                    hold = await reservations.reserve(
                        self.db, c.card_id, c.amount, ctx.call_id, info=c.info
                    )
                except Insufficient:
                    return ev.Reserved(None)
                return ev.Reserved(hold.id)
            case cmd.ExtendHold():
                try:
                    await reservations.extend(self.db, c.reservation_id, c.amount)
                except Insufficient:
                    return ev.HoldExtended(c.amount, False, self.clock.now_ms())
                return ev.HoldExtended(c.amount, True, self.clock.now_ms())
            case cmd.Checkpoint():
                await reservations.checkpoint(self.db, c.reservation_id, c.used)
            case cmd.Release():
                await reservations.release(self.db, c.reservation_id)
            case cmd.Settle():
                await self._settle(ctx.call_id, c)
            case cmd.Finished():
                self._forget(call)
        return None

    async def _look_up(self, payphone: bool, c: cmd.LookUp) -> ev.NumberInfo:
        found = await routing.route(self.db, c.dialed, c.caller, payphone=payphone)
        if found.number is None or found.project is None or found.settings is None:
            return ev.NumberInfo(role=None, lang=_lang(c.dialed))
        return ev.NumberInfo(
            role=found.number.role,
            project_id=found.project.id,
            lang=_lang(found.number.e164),
            unit=found.project.unit,
            pin_length=found.settings.pin_length,
            pin_tries=found.settings.pin_tries_per_call,
            warning_lead_s=found.settings.warning_lead,
            accepts_caller=found.accepts_caller,
            destination=found.number.destination,
            default_advisor=found.default_advisor if found.number.role == "card" else None,
            card_id=found.card_id,
        )

    async def _activate(self, payphone: bool, c: cmd.Activate) -> ev.ActivationDone:
        result = await activation.activate(
            self.db, c.project_id, c.line, c.pin, secret=self.config.pin_secret
        )
        log.info("activation from %s: %s", c.line, result.status)
        if result.card is None or result.status != "activated":
            return ev.ActivationDone(result.status)
        seconds = await routing.card_seconds(self.db, result.card.id, c.line, payphone=payphone)
        return ev.ActivationDone(result.status, result.card.id, seconds)

    async def _settle(self, call_id: str, c: cmd.Settle) -> None:
        r = c.record
        ended = self._wall(r["ended_ms"]) or datetime.now(UTC)
        outcome = reservations.CallOutcome(
            project_id=r["project_id"],
            caller=r["caller"],
            dialed=r["dialed"],
            arrived_at=self._wall(r["arrived_ms"]) or ended,
            ended_at=ended,
            used=r["used"],
            billed_seconds=r["billed_seconds"],
            cost=r["cost"],
            tariff_id=r["tariff_id"],
            advisor=r["advisor"],
            answered_at=self._wall(r["answered_ms"]),
            charge_start_at=self._wall(r["charge_start_ms"]),
            quote=r["quote"],
            hangup_cause=r["hangup_cause"],
            hangup_side=r["hangup_side"],
        )
        if c.reservation_id is None:
            await reservations.record_unbilled(self.db, call_id, outcome, r["card_id"])
        else:
            await reservations.settle(self.db, c.reservation_id, outcome)
        log.info(
            "call %s settled: %s s billed, %s charged", call_id, r["billed_seconds"], r["used"]
        )

    async def _timer_fired(self, name: str, at_ms: int) -> None:
        await self.feed(name.split(":", 1)[0], ev.TimerFired(name, at_ms))

    def _forget(self, call: Call) -> None:
        call_id = call.ctx.call_id
        self.timers.cancel_prefix(f"{call_id}:")
        self.calls.pop(call_id, None)
        for table in (self.by_channel, self.by_playback):
            for key in [k for k, owner in table.items() if owner == call_id]:
                table.pop(key, None)
        if not self.calls:
            self.idle.set()

    async def _quietly(self, action: Any) -> None:
        try:
            await action
        except AriError as exc:
            if exc.status != 404:
                raise

    async def _hangup_quietly(self, channel: str, reason: str = "normal") -> None:
        await self._quietly(self.ari.hangup(channel, reason))

    # ---- upkeep -----------------------------------------------------------------------------

    async def reconcile(self, *, first: bool) -> None:
        """After (re)connecting: calls whose channels are gone are ended and settled."""
        if first:
            recovered = await reservations.recover_stale(
                self.db, older_than=timedelta(seconds=STALE_HOLD_S)
            )
            if recovered:
                log.warning("settled %d stale reservations at start", len(recovered))
            return
        live = {c.id for c in await self.ari.channels()}
        now = self.clock.now_ms()
        for call_id, entry in list(self.calls.items()):
            ctx = entry.call.ctx
            if ctx.channel and ctx.channel not in live:
                await self.feed(call_id, ev.Hangup(ctx.channel, now, "gone_while_disconnected"))
            elif entry.advisor_up and ctx.advisor_channel and ctx.advisor_channel not in live:
                await self.feed(
                    call_id, ev.Hangup(ctx.advisor_channel, now, "gone_while_disconnected")
                )

    async def poll_credit(self) -> None:
        """Top-ups from anywhere (CLI, API, another engine) reach live calls within 2 s."""
        while True:
            await self.clock.sleep_until(self.clock.now_ms() + CREDIT_POLL_MS)
            for call_id, entry in list(self.calls.items()):
                ctx = entry.call.ctx
                if entry.call.state_name != "Connected" or ctx.card_id is None:
                    continue
                try:
                    extra = await reservations.available(self.db, ctx.card_id)
                except CardsError:
                    continue
                if extra > 0:
                    await self.feed(call_id, ev.CreditChanged(extra, self.clock.now_ms()))

    async def drain(self, limit_ms: int) -> None:
        """Stop taking calls, let live ones end up to ``limit_ms``, then end and settle the rest."""
        self.accepting = False
        try:
            await asyncio.wait_for(self.idle.wait(), limit_ms / 1000)
        except TimeoutError:
            now = self.clock.now_ms()
            for call_id in list(self.calls):
                await self.feed(call_id, ev.Shutdown(now))


def _lang(e164: str) -> str:
    return "de" if e164.startswith("+49") else "en"

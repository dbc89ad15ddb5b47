"""Machine commands → ARI requests and cards service calls; their answers, and their failures,
come back as machine events. No policy lives here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from cards.db import Database
from cards.errors import CardsError
from cards.journal import STORAGE_ERRORS
from cards.services import activation, advisor_login, advisor_rating, calls, routing
from pbx_engine.adapter import hunting
from pbx_engine.adapter.registry import Registry
from pbx_engine.adapter.translate import ADVISOR_ARG
from pbx_engine.ari.client import AriClient, AriError
from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.record import CallRecord
from pbx_engine.call.types import ActivationStatus, Cause, Role
from pbx_engine.checkpoints import CheckpointWriter
from pbx_engine.clock import Clock, to_wall
from pbx_engine.settler import Settler
from pbx_engine.timers import Timers
from rating import Unit

log = logging.getLogger("minutecard.engine")

COMMAND_ERRORS = (AriError, CardsError, TimeoutError, aiohttp.ClientError, *STORAGE_ERRORS)
"""What a command may fail with and the machine hears about; anything else is a bug."""

TimerSink = Callable[[str, ev.Event], None]


class CommandRunner:
    def __init__(
        self,
        ari: AriClient,
        db: Database,
        clock: Clock,
        registry: Registry,
        settler: Settler,
        checkpoints: CheckpointWriter,
        *,
        pin_secret: bytes,
        sounds_prefix: str,
        timer_sink: TimerSink,
    ) -> None:
        self.ari, self.db, self.clock, self.registry = ari, db, clock, registry
        self.settler, self.pin_secret, self.sounds_prefix = settler, pin_secret, sounds_prefix
        self.checkpoints = checkpoints
        self.timers = Timers(clock)
        self.timer_sink = timer_sink

    async def run(self, call_id: str, command: cmd.Command) -> ev.Event | None:
        try:
            return await self._run(call_id, command)
        except COMMAND_ERRORS as exc:
            # A leg gone under a command is the race of a hang-up with it (the machine hears
            # the hang-up next and bills right): INFO. ERROR is for what an operator must act on.
            gone = isinstance(exc, AriError) and exc.gone
            log.log(
                logging.INFO if gone else logging.ERROR,
                "call %s: %s failed: %s", call_id, type(command).__name__, exc,
            )  # fmt: skip
            return ev.CommandFailed(command, str(exc) or type(exc).__name__, self.clock.now_ms())

    async def _run(self, call_id: str, c: cmd.Command) -> ev.Event | None:
        match c:
            case cmd.Answer():
                await self.ari.answer(c.channel)
            case cmd.Play():
                self.registry.own_playback(c.playback_id, call_id)
                media = [f"sound:{self.sounds_prefix}/{c.lang}/{s}" for s in c.sounds]
                await self.ari.play(
                    media, c.playback_id, channel=c.channel, bridge=c.bridge, lang=c.lang
                )
            case cmd.StopPlayback():
                await _unless_gone(self.ari.stop_playback(c.playback_id))
            case cmd.HangupChannel():
                if c.channel:
                    await _unless_gone(self.ari.hangup(c.channel, c.reason))
            case cmd.Dial():
                self.registry.own_channel(c.channel, call_id)
                await self.ari.originate(
                    c.destination,
                    c.channel,
                    app_args=f"{ADVISOR_ARG},{call_id}",
                    caller_id=c.caller_id,
                    timeout_s=c.timeout_s,
                )
            case cmd.Bridge():
                await self.ari.create_bridge(c.bridge)
                await self.ari.add_to_bridge(c.bridge, c.channels)
            case cmd.DestroyBridge():
                await _unless_gone(self.ari.destroy_bridge(c.bridge))
            case cmd.StartTimer():
                self.timers.start(call_id, c.timer, c.at_ms, self._fired(call_id, c))
            case cmd.CancelTimer():
                self.timers.cancel(call_id, c.timer)
            case cmd.LookUp():
                return await self._look_up(c)
            case cmd.Activate():
                return await self._activate(c)
            case cmd.ToggleLogin():
                status = await advisor_login.toggle_by_pin(
                    self.db, c.project_id, c.line, c.pin, secret=self.pin_secret
                )
                return ev.LoginToggled(status)
            case cmd.Authorize():
                self.registry.add_card(call_id, c.card_id)
                return await self._authorize(call_id, c)
            case cmd.FollowCredit():
                seconds = await calls.follow_credit(self.db, c.hold_id, c.talked_s)
                return ev.HoldMoved(seconds, self.clock.now_ms())
            case cmd.RateForAdvisor():
                rated = await advisor_rating.rate_for_advisor(self.db, c.hold_id, c.advisor_id)
                log.info(
                    "call %s: advisor %d's tariff: %s, %d s affordable", call_id, c.advisor_id,
                    "rates the call" if rated.changed else "not applied", rated.affordable_s,
                )  # fmt: skip
                return ev.AdvisorRated(
                    rated.changed, rated.affordable_s, self.clock.now_ms(),
                    rated.price_per_minute, rated.after_announcement,
                )  # fmt: skip
            case cmd.Checkpoint():
                self.checkpoints.add(call_id, c)
            case cmd.Settle():
                await self.settler.settle(self.settlement(c))
            case (
                cmd.ClaimAdvisors() | cmd.AdvisorTalking() | cmd.ReleaseAdvisors()
                | cmd.RecordAttempts()
            ):  # fmt: skip
                return await hunting.run(self.db, call_id, c, self.clock.now_ms(), self._when)
        # Finished: the engine forgets the call (and its timers) once the machine is done.
        return None

    def _fired(self, call_id: str, c: cmd.StartTimer) -> Callable[[str, int], None]:
        def fire(_name: str, at_ms: int) -> None:
            self.timer_sink(call_id, ev.TimerFired(c.timer, at_ms))

        return fire

    async def _look_up(self, c: cmd.LookUp) -> ev.NumberInfo:
        found = await routing.route(self.db, c.dialed, c.caller)
        if found.number is None or found.project is None or found.settings is None:
            return ev.NumberInfo(role=None, lang=routing.prompt_language(c.caller))
        role = Role(found.number.role)
        return ev.NumberInfo(
            role=role,
            project_id=found.project.id,
            lang=found.lang,
            unit=Unit(found.project.unit),
            pin_length=found.settings.pin_length,
            pin_tries=found.settings.pin_tries_per_call,
            warning_lead_s=found.settings.warning_lead,
            accepts_caller=found.accepts_caller,
            destination=found.number.destination,
            default_advisor=found.default_advisor,
            card_id=found.card_id,
            hunt=found.hunts,
            closed=found.closed,
            extensions=found.extensions,
        )

    async def _activate(self, c: cmd.Activate) -> ev.ActivationDone:
        result = await activation.activate(
            self.db, c.project_id, c.line, c.pin, secret=self.pin_secret
        )
        status = ActivationStatus(result.status)
        log.info("activation from %s: %s", c.line, status)
        if result.card is None or status is not ActivationStatus.ACTIVATED:
            return ev.ActivationDone(status)
        seconds = await routing.card_seconds(self.db, result.card.id, c.line)
        return ev.ActivationDone(status, result.card.id, seconds)

    async def _authorize(self, call_id: str, c: cmd.Authorize) -> ev.Authorized:
        auth = await calls.authorize(
            self.db, card_id=c.card_id, dialed=c.dialed, caller=c.caller, call_id=call_id
        )
        log.info(
            "call %s: tariff %s (%s), %d s affordable%s",
            call_id,
            auth.tariff_id,
            auth.tariff_reason,
            auth.affordable_s,
            f", refused: {auth.refusal}" if auth.refusal else "",
        )
        return ev.Authorized(
            auth.hold_id,
            auth.affordable_s,
            Cause(auth.refusal) if auth.refusal else None,
            auth.price_per_minute,
            auth.after_announcement,
        )

    def settlement(self, c: cmd.Settle) -> calls.Settlement:
        r: CallRecord = c.record
        return calls.Settlement(
            call_id=r.call_id,
            hold_id=c.hold_id,
            talk_s=r.talk_s,
            project_id=r.project_id,
            caller=r.caller,
            dialed=r.dialed,
            arrived_at=self._when(r.arrived_ms),
            ended_at=self._when(r.ended_ms),
            hangup_cause=str(r.cause) if r.q850 is None else f"{r.cause}:q850={r.q850}",
            hangup_side=str(r.side),
            card_id=r.card_id,
            advisor=r.advisor,
            answered_at=None if r.answered_ms is None else self._when(r.answered_ms),
            charge_start_at=None if r.charge_start_ms is None else self._when(r.charge_start_ms),
        )

    def _when(self, at_ms: int) -> datetime:
        wall = to_wall(self.clock, at_ms)
        return datetime.fromtimestamp(wall // 1000, UTC).replace(microsecond=wall % 1000 * 1000)


async def _unless_gone(action: Awaitable[Any]) -> None:
    """Hang-ups, stops and bridge teardown of something already gone are done, not failed."""
    try:
        await action
    except AriError as exc:
        if not exc.gone:
            raise

"""The engine's event loop: reads ARI events without waiting on any call, gives each call its
own queue and task (so one call's slow answer or database step delays no other), reconciles
after reconnects, pushes credit changes to live calls, and drains on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cards.db import Database
from cards.journal import Journal, default_path
from cards.services import reservations
from pbx_engine.adapter.registry import Registry
from pbx_engine.adapter.runner import CommandRunner
from pbx_engine.adapter.translate import NewCall, Routed, Stray, Translator
from pbx_engine.ari.client import AriClient, AriError, Disconnected, Reconnected
from pbx_engine.call import events as ev
from pbx_engine.call.context import DEFAULT_CHECKPOINT_MS
from pbx_engine.call.machine import Call
from pbx_engine.call.types import ADVISOR_SUFFIX, Cause
from pbx_engine.checkpoints import CheckpointWriter
from pbx_engine.clock import Clock
from pbx_engine.pressure import Pressure, ShedLimits
from pbx_engine.settler import RETRY_DELAYS_S, Settler
from pbx_engine.stale_sweeper import stale_after_s

log = logging.getLogger("minutecard.engine")


@dataclass
class EngineConfig:
    app: str = "minutecard"
    pin_secret: bytes = b""
    sounds_prefix: str = "minutecard"
    caller_format: str = "national"
    checkpoint_ms: int = DEFAULT_CHECKPOINT_MS
    journal: Journal = field(default_factory=lambda: Journal(default_path()))
    settle_delays_s: tuple[float, ...] = RETRY_DELAYS_S
    max_calls: int = 0
    """Calls taken at once (0: no cap): past it a box gives seconds away (hang-ups land late)."""
    shed: ShedLimits = field(default_factory=ShedLimits)


@dataclass
class LiveCall:
    call: Call
    queue: asyncio.Queue[ev.Event] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class Engine:
    def __init__(self, ari: AriClient, db: Database, clock: Clock, config: EngineConfig) -> None:
        self.ari, self.db, self.clock, self.config = ari, db, clock, config
        self.registry = Registry()
        self.translator = Translator(
            self.registry, clock, config.caller_format, config.checkpoint_ms
        )
        self.settler = Settler(db, config.journal, delays=config.settle_delays_s)
        self.runner = CommandRunner(
            ari,
            db,
            clock,
            self.registry,
            self.settler,
            CheckpointWriter(db, clock, self.deliver, self._spawn),
            pin_secret=config.pin_secret,
            sounds_prefix=config.sounds_prefix,
            timer_sink=self.deliver,
        )
        self.calls: dict[str, LiveCall] = {}
        self.pressure = Pressure(clock, config.shed)
        self.refused: Counter[str] = Counter()
        """New calls refused with congestion, by reason (max_calls, loop_lag, ari_slow)."""
        self.accepting = True
        self.lost_at_ms: int | None = None
        """When the ARI events were lost (None while they flow): lost calls are billed to it."""
        self.busy = 0
        """Events queued or being handled; 0 when every call is waiting for the outside."""
        self.idle = asyncio.Event()
        self.idle.set()
        self.failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        """Set with the exception of a call task that died of a bug: the process must stop."""
        self.unexpected = 0
        self._side_tasks: set[asyncio.Task[None]] = set()

    # ---- events in --------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume the event stream until the client closes; never waits on a call."""
        async for item in self.ari.events():
            if isinstance(item, Reconnected):
                self._spawn(self.reconcile(first=item.first), "reconcile")
                continue
            if isinstance(item, Disconnected):
                self.lost_at_ms = self.clock.now_ms()
                log.warning("ARI events lost; calls Asterisk loses meanwhile are billed to here")
                continue
            routed = self.translator.translate(item)
            if isinstance(routed, NewCall):
                self._new_call(routed)
            elif isinstance(routed, Routed):
                self.deliver(routed.call_id, routed.event)
            elif isinstance(routed, Stray):
                self._spawn(self._hang_up_stray(routed.channel), "stray")

    def _new_call(self, new: NewCall) -> None:
        reason = self._refusal()
        if reason is not None:
            self.registry.forget(new.setup.call_id)
            self._spawn(self._hang_up_stray(new.setup.channel, "congestion"), "refuse")
            return
        live = LiveCall(Call(new.setup))
        self.calls[new.setup.call_id] = live
        self.idle.clear()
        live.task = asyncio.create_task(self._work(live), name=f"call {new.setup.call_id}")
        self.deliver(new.setup.call_id, new.started)

    def _refusal(self) -> str | None:
        """Why a new call hears congestion now (unanswered, nothing held), or None to take it.
        Shedding at the door keeps the calls already in on time: an overloaded loop would make
        every live call's hang-up late, and seconds late is money given away."""
        if not self.accepting:
            return "stopping"
        reason = "max_calls" if 0 < self.config.max_calls <= len(self.calls) else None
        reason = reason or self.pressure.refusal()
        if reason is not None:
            self.refused[reason] += 1
            if self.refused[reason] == 1 or self.refused[reason] % 100 == 0:
                log.warning(
                    "new calls refused with congestion (%s): %d so far; %d live, loop %d ms "
                    "late, ARI answered in %d ms",
                    reason,
                    self.refused[reason],
                    len(self.calls),
                    self.pressure.last_lag_ms,
                    self.pressure.last_ari_ms,
                )
        return reason

    def deliver(self, call_id: str, event: ev.Event) -> None:
        """Queue an event for its call (in order); events of calls already gone are dropped."""
        live = self.calls.get(call_id)
        if live is None:
            log.debug("call %s gone; %s dropped", call_id, event)
            return
        self.busy += 1
        live.queue.put_nowait(event)

    async def _work(self, live: LiveCall) -> None:
        call_id = live.call.ctx.call_id
        try:
            while not live.call.done:
                event = await live.queue.get()
                try:
                    await self._handle(live, event)
                finally:
                    self.busy -= 1
        except Exception as exc:
            log.exception("call %s: the call task died", call_id)
            if not self.failed.done():
                self.failed.set_result(exc)
            raise
        finally:
            self.busy -= live.queue.qsize()
            self._forget(call_id)

    async def _handle(self, live: LiveCall, event: ev.Event) -> None:
        call_id = live.call.ctx.call_id
        pending: list[ev.Event] = [event]
        while pending:
            before = len(live.call.unexpected)
            commands = live.call.handle(pending.pop(0))
            self.unexpected += len(live.call.unexpected) - before
            for command in commands:
                follow_up = await self.runner.run(call_id, command)
                if follow_up is not None:
                    pending.append(follow_up)

    def _forget(self, call_id: str) -> None:
        self.runner.timers.cancel_group(call_id)
        self.calls.pop(call_id, None)
        self.registry.forget(call_id)
        if not self.calls:
            self.idle.set()

    def _spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(job, name=name)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_done)

    def _side_done(self, task: asyncio.Task[None]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("engine task %s died: %r", task.get_name(), exc)
            if not self.failed.done():
                self.failed.set_result(exc)

    async def _hang_up_stray(self, channel: str, reason: str = "normal") -> None:
        try:
            await self.ari.hangup(channel, reason)
        except AriError as exc:
            if not exc.gone:
                log.warning("could not hang up stray channel %s: %s", channel, exc)

    # ---- credit pushed to live calls --------------------------------------------------------

    def credit_changed(self, card_ids: frozenset[int]) -> None:
        now = self.clock.now_ms()
        for card in card_ids:
            for call_id in self.registry.calls_of_card(card):
                self.deliver(call_id, ev.CreditChanged(now))

    def live_talks(self, project_id: int) -> list[dict[str, object]]:
        """The calls of a project talking now: caller, number, since when, seconds left."""
        now, wall = self.clock.now_ms(), self.clock.wall_ms()
        talks: list[dict[str, object]] = []
        for live in self.calls.values():
            ctx = live.call.ctx
            start = ctx.legs.charge_start_ms
            if ctx.info.project_id != project_id or start is None or ctx.money.settled:
                continue
            talks.append(
                {
                    "call_id": ctx.call_id,
                    "caller": ctx.caller,
                    "number": ctx.target,
                    "talking_since_ms": wall - (now - start),
                    "seconds_left": max(0, (ctx.end_at_ms() - now) // 1000),
                }
            )
        return talks

    async def recheck_credit(self) -> None:
        """Something changed the database elsewhere: one read for every live card."""
        cards = self.registry.live_cards()
        if not cards:
            return
        available = await reservations.available_many(self.db, cards)
        self.credit_changed(frozenset(c for c, free in available.items() if free != 0))

    # ---- upkeep -----------------------------------------------------------------------------

    async def reconcile(self, *, first: bool) -> None:
        """After (re)connecting: calls whose channels are gone are ended and settled. At the
        first connect, the channels in our Stasis app belong to an engine that died: they are
        hung up and their holds settled at the last checkpoint, at once."""
        if first:
            orphans = [
                c
                for c in await self.ari.channels()
                if c.stasis_app == self.config.app and c.id not in self.registry.channels
            ]
            for channel in orphans:
                await self._hang_up_stray(channel.id)
            calls = {c.id.partition(ADVISOR_SUFFIX)[0] for c in orphans}
            recovered = await reservations.recover_calls(self.db, calls)
            recovered += await reservations.recover_stale(
                self.db,
                older_than=timedelta(seconds=stale_after_s(self.config.checkpoint_ms // 1000)),
            )
            if orphans or recovered:
                log.warning(
                    "at start: %d orphaned channels hung up, %d holds settled at their last "
                    "checkpoint",
                    len(orphans),
                    len(recovered),
                )
            return
        live = {c.id for c in await self.ari.channels()}
        known = self.lost_at_ms if self.lost_at_ms is not None else self.clock.now_ms()
        lost = {
            call_id for channel, call_id in self.registry.channels.items() if channel not in live
        }
        for call_id in lost:
            # The hang-up happened while we could not hear it: the last instant we knew the
            # call was up is when the events were lost; it is billed to there.
            self.deliver(call_id, ev.Shutdown(known, Cause.GONE))
        self.lost_at_ms = None

    async def drain(self, limit_ms: int) -> None:
        """Stop taking calls, let live ones end up to ``limit_ms``, then end and settle the rest."""
        self.accepting = False
        try:
            await asyncio.wait_for(self.idle.wait(), limit_ms / 1000)
        except TimeoutError:
            now = self.clock.now_ms()
            for call_id in list(self.calls):
                self.deliver(call_id, ev.Shutdown(now, Cause.ENGINE_SHUTDOWN))
            await self.idle.wait()

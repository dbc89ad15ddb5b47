"""A stand-in for Asterisk on the ARI wire (REST and the event WebSocket, no media): the fake
ARI's recorded event shapes, answered after Asterisk-like delays, with playbacks that take time,
advisors that answer after ringing, and the instants the capacity bench judges the engine by."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pbx_engine.call.types import ADVISOR_SUFFIX
from testbed.fake_ari import FakeAri


class WallClock:
    """The fake ARI's clock interface on real time (monotonic ms, wall ms for stamps)."""

    @property
    def now(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass
class CallTimes:
    started_ms: int
    first_command_ms: int | None = None
    bridged_ms: int | None = None
    engine_hangup_ms: int | None = None
    advisor_cut_ms: int | None = None
    advisor_cut_wall_ms: int | None = None
    """When the engine hung up the advisor's leg (at the credit's end; the caller then hears
    that the credit is gone before their own leg is hung up)."""
    ended_ms: int | None = None


@dataclass
class StandIn(FakeAri):
    answer_ms: int = 2
    """How long Asterisk takes to answer a REST request (its taskprocessor hop, roughly)."""
    playback_ms: int = 1_500
    ring_ms: int = 500
    times: dict[str, CallTimes] = field(default_factory=dict)
    live_calls: int = 0
    """Calls in and not yet hung up by either side (kept as a count: the ramp asks 30 times a
    second and 10,000 calls' times would cost the stand-in's loop more than the engine's)."""
    _later: set[asyncio.Future[None]] = field(default_factory=set)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/ari")
        parts = path.strip("/").split("/")
        now = self.clock.now
        if parts[0] == "channels" and len(parts) == 2 and request.method == "DELETE":
            caller, advisor, _ = parts[1].partition(ADVISOR_SUFFIX)
            if advisor and (call := self.times.get(caller)) and call.advisor_cut_ms is None:
                call.advisor_cut_ms, call.advisor_cut_wall_ms = now, self.clock.wall_ms()
        if parts[0] == "channels" and len(parts) >= 2:
            call = self.times.get(parts[1])
            if call is not None and call.first_command_ms is None:
                call.first_command_ms = now
            if call is not None and request.method == "DELETE" and len(parts) == 2:
                self._ended(call)
                call.engine_hangup_ms = now
        await asyncio.sleep(self.answer_ms / 1000)
        if parts[0] == "bridges" and parts[2:] == ["addChannel"]:
            # The caller hung up while the engine bridged: Asterisk's answer.
            wanted = request.query.get("channel", "").split(",")
            if any(c not in self.channels for c in wanted):
                return web.json_response({"message": "Channel not found"}, status=400)
        answer = await super()._rest(request)
        self.requests.clear()  # 2,000 calls' requests would only grow; times hold what counts
        if parts[0] == "channels" and len(parts) == 2 and request.method == "POST":
            call_id = request.query.get("appArgs", "").partition(",")[2]
            asyncio.get_running_loop().call_later(
                self.ring_ms / 1000, self._answer_later, parts[1], call_id
            )
        if parts[0] == "bridges" and len(parts) == 3 and parts[2] == "addChannel":
            for channel in request.query.get("channel", "").split(","):
                # Charging starts when the advisor's leg enters the bridge (the caller's may be
                # in it earlier); its ChannelEnteredBridge has gone out by now.
                caller, advisor, _ = channel.partition(ADVISOR_SUFFIX)
                if advisor and (call := self.times.get(caller)) and call.bridged_ms is None:
                    call.bridged_ms = self.clock.now
        return answer

    def _soon(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(job)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    def _answer_later(self, channel: str, call_id: str) -> None:
        if channel in self.channels:
            self._soon(self.advisor_answers(channel, call_id))

    async def _maybe_finish(self, playback_id: str) -> None:
        asyncio.get_running_loop().call_later(
            self.playback_ms / 1000, lambda: self._soon(self.finish_playback(playback_id))
        )

    def _ended(self, call: CallTimes) -> None:
        if call.engine_hangup_ms is None and call.ended_ms is None:
            self.live_calls -= 1

    async def call_in(self, channel: str, dialed: str, caller: str) -> None:
        self.times[channel] = CallTimes(self.clock.now)
        self.live_calls += 1
        await self.caller_dials(channel, dialed, caller)

    async def caller_hangs_up(self, channel: str) -> None:
        if channel in self.channels:
            await self.hang_up(channel)
            call = self.times[channel]
            self._ended(call)
            call.ended_ms = self.clock.now

    def talking(self, channel: str) -> bool:
        """Bridged with its advisor and not hung up: a call the caller may end now."""
        call = self.times.get(channel)
        return (
            call is not None
            and call.bridged_ms is not None
            and call.engine_hangup_ms is None
            and call.ended_ms is None
        )

    def ended(self, channel: str) -> bool:
        call = self.times.get(channel)
        return call is not None and (call.engine_hangup_ms is not None or call.ended_ms is not None)

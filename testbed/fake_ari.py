"""An in-process fake of Asterisk's ARI (REST + events WebSocket) with a controllable clock.

The only allowed fake: it records every REST request, lets a test push events, drop and restore
the WebSocket, and answers the calls the engine makes the way Asterisk 16 does (and, as 22
does, requests sent over the event WebSocket).
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSMsgType, web

from testbed.postgres import free_port

USER, PASSWORD = "minutecard", "fake-ari-password"
WALL_START_MS = 1_790_000_000_000


class FakeClock:
    """Time moves only when the test says so; sleepers wake in deadline order."""

    def __init__(self, wall_start_ms: int = WALL_START_MS) -> None:
        self.now = 1_000_000
        self.wall_start_ms = wall_start_ms
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now_ms(self) -> int:
        return self.now

    def wall_ms(self) -> int:
        return self.wall_start_ms + self.now

    async def sleep_until(self, at_ms: int) -> None:
        if at_ms <= self.now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (at_ms, next(self._seq), future))
        await future

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Callable[[], None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cancelled = False

        def due(done: asyncio.Future[None]) -> None:
            # A deadline already woken still runs its callback a loop step later: a cancel
            # in between must stop it, as the real clock's cancelled handle does.
            if not done.cancelled() and not cancelled:
                callback()

        future.add_done_callback(due)
        if at_ms <= self.now:
            future.set_result(None)
        else:
            heapq.heappush(self._sleepers, (at_ms, next(self._seq), future))

        def cancel() -> None:
            nonlocal cancelled
            cancelled = True
            future.cancel()

        return cancel

    def next_deadline(self) -> int | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def wake_next(self, target: int) -> bool:
        deadline = self.next_deadline()
        if deadline is None or deadline > target:
            return False
        self.now = deadline
        while self._sleepers and self._sleepers[0][0] == deadline:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        return True


def stamp(wall_ms: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=wall_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall_ms % 1000:03d}+0000"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    at_ms: int
    over_ws: bool = False


@dataclass
class FakeAri:
    clock: FakeClock
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    bridges: dict[str, list[str]] = field(default_factory=dict)
    auto_playback: bool = True
    echo_hangups: bool = True
    echo_bridges: bool = True
    """Send ChannelEnteredBridge for addChannel, as Asterisk does (off when replaying)."""
    refuse_ws: bool = False
    connects: int = 0
    version: str = "16.28.0-fake"
    """What GET /asterisk/info says: the client sends requests over the WebSocket from 22.10."""
    allowed: set[str] | None = None
    """Event types the app asked for (PUT …/eventFilter); the rest are not sent, as in Asterisk."""
    _ws: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for ws in self._ws:
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    # ---- the event stream -------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_ws:
            return web.json_response({"message": "unavailable"}, status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connects += 1
        self._ws.append(ws)
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            frame = json.loads(message.data) if message.type == WSMsgType.TEXT else {}
            if frame.get("type") == "RESTRequest":
                await self._rest_over_ws(ws, frame)
        if ws in self._ws:
            self._ws.remove(ws)
        return ws

    async def send(self, event: dict[str, Any]) -> None:
        if self.allowed is not None and event["type"] not in self.allowed:
            return  # as Asterisk does under PUT /applications/{app}/eventFilter
        event.setdefault("timestamp", stamp(self.clock.wall_ms()))
        event.setdefault("application", "minutecard")
        for ws in list(self._ws):
            await ws.send_str(json.dumps(event))

    async def drop_ws(self) -> None:
        for ws in list(self._ws):
            await ws.close()
        self._ws.clear()

    # ---- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        status, payload = await self._answer(
            Request(request.method, "/" + request.match_info["tail"], dict(request.query),
                    self.clock.now),
            body,
        )  # fmt: skip
        if payload is None:
            return web.Response(status=status)
        return web.json_response(payload, status=status)

    async def _rest_over_ws(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        uri = urlsplit("/" + frame["uri"])
        status, payload = await self._answer(
            Request(frame["method"], uri.path, dict(parse_qsl(uri.query)), self.clock.now, True),
            None,
        )
        if self.allowed is not None and "RESTResponse" not in self.allowed:
            return  # Asterisk 22.10.1's event filter holds back the answer too
        answer = {
            "type": "RESTResponse",
            "request_id": frame.get("request_id", ""),
            "status_code": status,
            "message_body": "" if payload is None else json.dumps(payload),
        }
        await ws.send_str(json.dumps(answer))

    async def _answer(self, request: Request, body: Any) -> tuple[int, Any]:
        """The status and JSON payload (None: no body) Asterisk gives to one request."""
        self.requests.append(request)
        path, params, method = request.path, request.params, request.method
        parts = path.strip("/").split("/")
        if parts[0] == "applications" and parts[2:] == ["eventFilter"] and method == "PUT":
            self.allowed = {entry["type"] for entry in body["allowed"]}
            return 200, {"name": parts[1], "events_allowed": []}
        if path == "/asterisk/info":
            return 200, {"system": {"version": self.version}}
        if path == "/channels" and method == "GET":
            return 200, list(self.channels.values())
        if parts[0] == "channels" and len(parts) >= 2:
            channel = parts[1]
            if len(parts) == 2 and method == "POST":
                app_data = f"{params.get('app', '')},{params.get('appArgs', '')}"
                self.channels[channel] = self._channel(channel, "", "", "Down", app_data)
                self.channels[channel]["endpoint"] = params.get("endpoint")
                return 200, self.channels[channel]
            if channel not in self.channels:
                return 404, {"message": "Channel not found"}
            if len(parts) == 2 and method == "DELETE":
                await self._hangup(channel, 16)
                return 204, None
            if parts[2] == "play":
                await self._maybe_finish(parts[3])
                return 201, {"id": parts[3]}
            return 204, None
        if parts[0] == "bridges" and len(parts) >= 2:
            bridge = parts[1]
            if len(parts) == 2 and method == "POST":
                self.bridges[bridge] = []
            elif len(parts) == 2 and method == "DELETE":
                if self.bridges.pop(bridge, None) is None:
                    return 404, {"message": "Bridge not found"}
            elif parts[2] == "addChannel":
                for channel in params["channel"].split(","):
                    self.bridges[bridge].append(channel)
                    if not self.echo_bridges:
                        continue
                    await self.send(
                        {
                            "type": "ChannelEnteredBridge",
                            "channel": self.channels[channel],
                            "bridge": {"id": bridge, "channels": list(self.bridges[bridge])},
                        }
                    )
            elif parts[2] == "play":
                await self._maybe_finish(parts[3])
                return 201, {"id": parts[3]}
            return 204, None
        if parts[0] == "playbacks" and method == "DELETE":
            return 204, None
        return 404, {"message": "not in the fake"}

    async def _maybe_finish(self, playback_id: str) -> None:
        if self.auto_playback:
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(self.finish_playback(playback_id))
            )

    @staticmethod
    def _channel(
        channel: str, caller: str, exten: str, state: str, app_data: str = ""
    ) -> dict[str, Any]:
        """As Asterisk 16 lists a channel: one in Stasis names the app in ``app_data``."""
        return {
            "id": channel,
            "name": f"PJSIP/{channel}",
            "state": state,
            "caller": {"number": caller, "name": ""},
            "dialplan": {"exten": exten, "app_name": "Stasis", "app_data": app_data},
            "language": "de",
        }

    async def _hangup(self, channel: str, cause: int) -> None:
        data = self.channels.pop(channel, None)
        if data is None:
            return
        for members in self.bridges.values():
            if channel in members:
                members.remove(channel)
        if not self.echo_hangups:
            return
        await self.send({"type": "ChannelHangupRequest", "channel": data, "cause": cause})
        if data.get("endpoint"):
            await self.send(
                {
                    "type": "ChannelDestroyed",
                    "channel": data,
                    "cause": cause,
                    "cause_txt": "Normal Clearing" if cause == 16 else "User busy",
                }
            )
        else:
            await self.send({"type": "StasisEnd", "channel": data})

    # ---- what callers and advisors do -------------------------------------------------------

    async def caller_dials(self, channel: str, dialed: str, caller: str) -> None:
        self.channels[channel] = self._channel(
            channel, caller, dialed, "Ring", f"minutecard,{dialed}"
        )
        await self.send(
            {"type": "StasisStart", "channel": self.channels[channel], "args": [dialed]}
        )

    async def dtmf(self, channel: str, digits: str) -> None:
        for digit in digits:
            await self.send(
                {
                    "type": "ChannelDtmfReceived",
                    "channel": self.channels[channel],
                    "digit": digit,
                    "duration_ms": 100,
                }
            )

    async def finish_playback(self, playback_id: str) -> None:
        await self.send(
            {"type": "PlaybackFinished", "playback": {"id": playback_id, "state": "done"}}
        )

    async def advisor_answers(self, channel: str, call_id: str) -> None:
        self.channels[channel]["state"] = "Up"
        await self.send(
            {"type": "StasisStart", "channel": self.channels[channel], "args": ["advisor", call_id]}
        )

    async def advisor_busy(self, channel: str) -> None:
        await self._hangup(channel, 17)

    async def hang_up(self, channel: str) -> None:
        await self._hangup(channel, 16)

    def made(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

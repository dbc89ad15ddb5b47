"""REST calls and the event stream of one ARI application, with reconnect and backoff.

Credentials travel in the Authorization header, never in a URL, and are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from pbx_engine.ari.events import USED_TYPES, AriEvent, ChannelInfo, parse_event

log = logging.getLogger("minutecard.ari")

BACKOFF_START_MS = 100
BACKOFF_MAX_MS = 1_000
HEARTBEAT_S = 5
REQUEST_TIMEOUT_S = 10
REST_OVER_WS_FROM = (22, 10)
"""ARI REST over the event WebSocket (``RESTRequest`` / ``RESTResponse`` frames) from this
Asterisk on: 22.10.1 is the oldest release checked here; an older one is asked over HTTP."""
REST_CONNECTIONS = 100
"""Keep-alive connections for prompts, dialling and bridges (aiohttp's default), the event
WebSocket included. Asterisk's ``http.conf`` ``sessionlimit`` must exceed this and the next."""
HANGUP_CONNECTIONS = 50
"""Hang-ups have connections of their own: at 200 calls Asterisk took seconds to answer plays
into bridges, every REST connection was taken, and hang-ups due at the credit's end waited
6-10 s for one (bench.load, 2026-12-02)."""
HANGUP_ATTEMPTS = 4
HANGUP_TIMEOUT_S = 5
"""A hang-up Asterisk does not answer in time is asked again (it is idempotent: a channel
already gone answers 404): one left undone keeps an advisor's line open after the call."""


class AriAuthError(Exception):
    """Asterisk refused our ARI credentials: retrying cannot help."""


class AriError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status

    @property
    def gone(self) -> bool:
        """The channel, bridge or playback asked for no longer exists on Asterisk: the expected
        race with a caller or advisor hanging up, not a fault. Asterisk says 404, and 400
        "Channel not found" when a channel to add to a bridge is gone."""
        return self.status == 404 or (
            self.status == 400 and str(self).endswith(": Channel not found")
        )


@dataclass(frozen=True)
class Disconnected:
    """Marker in the event stream: the WebSocket that was up has gone; what happens on
    Asterisk now goes unheard until ``Reconnected``."""


@dataclass(frozen=True)
class Reconnected:
    """Marker in the event stream: the WebSocket is (again) up; reconcile live calls now."""

    first: bool


class AriClient:
    """One Stasis application on one Asterisk."""

    def __init__(self, base_url: str, user: str, password: str, app: str) -> None:
        self.base = base_url.rstrip("/") + "/ari"
        self.host = urlsplit(base_url).netloc
        self.user = user
        self.app = app
        self._auth_header = {"Authorization": aiohttp.encode_basic_auth(user, password)}
        self._session: aiohttp.ClientSession | None = None
        self._hangups: aiohttp.ClientSession | None = None
        self._closing = False
        self.connected = False
        self.connects = 0
        self.on_raw: Callable[[dict[str, Any]], None] | None = None
        """Sees every raw event before parsing (the recorder of replay fixtures)."""
        self.rest_over_ws: bool | None = None
        """None: REST over the event WebSocket where the Asterisk has it (REST_OVER_WS_FROM),
        else HTTP; False: always HTTP."""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        """The event WebSocket while requests travel over it."""
        self._answers: dict[str, asyncio.Future[tuple[int, str]]] = {}
        self._request_ids = itertools.count(1)
        self.on_answer_ms: Callable[[int], None] | None = None
        """Told how long each REST request took (answered or not): the engine's overload
        gauge, since a slow Asterisk makes every live call's commands late."""

    async def __aenter__(self) -> AriClient:
        self._session = self._new_session(REST_CONNECTIONS)
        self._hangups = self._new_session(HANGUP_CONNECTIONS)
        return self

    def _new_session(self, connections: int) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            headers=self._auth_header,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )

    async def __aexit__(self, *_exc: object) -> None:
        self._closing = True
        for session in (self._session, self._hangups):
            if session:
                await session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use AriClient as an async context manager")
        return self._session

    async def _request(
        self, method: str, path: str, *, via: aiohttp.ClientSession | None = None, **params: Any
    ) -> Any:
        query = [(k, str(v)) for k, v in params.items() if v is not None]
        # Hang-ups keep their own HTTP connections (``via``) on 22 too: whether Asterisk answers
        # a WebSocket's requests one after another was not measured, and one due now must not
        # wait behind plays Asterisk is slow to answer under overload.
        started = time.monotonic_ns()
        try:
            if self._ws is not None and via is None:
                status, body = await self._over_ws(self._ws, method, path, query)
            else:
                session = via or self.session
                async with session.request(method, f"{self.base}{path}", params=query) as resp:
                    status, body = resp.status, await resp.text()
        finally:
            if self.on_answer_ms is not None:
                self.on_answer_ms((time.monotonic_ns() - started) // 1_000_000)
        if status >= 300:
            message = body
            with contextlib.suppress(ValueError, AttributeError):
                message = json.loads(body).get("message", body)
            raise AriError(status, f"{method} {path}: {message}")
        return json.loads(body) if body else None

    async def _over_ws(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        path: str,
        query: list[tuple[str, str]],
    ) -> tuple[int, str]:
        """One request as a ``RESTRequest`` frame; its ``RESTResponse`` comes among the events
        and ``events()`` hands it over. Times out as an HTTP request does."""
        request_id = str(next(self._request_ids))
        uri = path.lstrip("/") + (f"?{urlencode(query)}" if query else "")
        answer: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._answers[request_id] = answer
        frame = {"type": "RESTRequest", "request_id": request_id, "method": method, "uri": uri}
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                try:
                    await ws.send_str(json.dumps(frame))
                except ConnectionResetError as exc:  # the WebSocket is closing under us
                    raise aiohttp.ClientConnectionError(str(exc)) from exc
                return await answer
        finally:
            self._answers.pop(request_id, None)

    def _answered(self, raw: dict[str, Any]) -> None:
        answer = self._answers.get(str(raw.get("request_id")))
        if answer is not None and not answer.done():
            answer.set_result((int(raw.get("status_code", 500)), raw.get("message_body") or ""))

    def _ws_gone(self) -> None:
        """Requests waiting on the WebSocket fail as on a lost HTTP connection; new ones use
        HTTP until the next WebSocket is up."""
        self._ws = None
        for answer in self._answers.values():
            if not answer.done():
                answer.set_exception(aiohttp.ClientConnectionError("ARI WebSocket closed"))

    async def _offers_rest_over_ws(self) -> bool:
        if self.rest_over_ws is False:
            return False
        try:
            version = str((await self.asterisk_info())["system"]["version"])
        except (TimeoutError, aiohttp.ClientError, AriError, KeyError, TypeError) as exc:
            log.warning("Asterisk's version unknown (%s): REST over HTTP", exc)
            return False
        found = re.match(r"(\d+)\.(\d+)", version)
        return found is not None and (int(found[1]), int(found[2])) >= REST_OVER_WS_FROM

    async def _filter_events(self, *, rest_over_ws: bool) -> None:
        """Ask Asterisk for the event types the engine reads: a call brings ~70 events, most of
        them ChannelVarset and Dial; unread ones cost Asterisk and us CPU for nothing. The
        filter holds back ``RESTResponse`` frames too (22.10.1): allowed when requests travel
        over the WebSocket."""
        kinds = (*USED_TYPES, "RESTResponse") if rest_over_ws else USED_TYPES
        allowed = [{"type": kind} for kind in kinds]
        try:
            async with self.session.put(
                f"{self.base}/applications/{self.app}/eventFilter", json={"allowed": allowed}
            ) as resp:
                if resp.status >= 300:
                    log.warning(
                        "ARI event filter refused (%s): every event type comes", resp.status
                    )
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("ARI event filter not set (%s): every event type comes", exc)

    async def asterisk_info(self) -> dict[str, Any]:
        info: dict[str, Any] = await self._request("GET", "/asterisk/info")
        return info

    async def channels(self) -> list[ChannelInfo]:
        return [ChannelInfo.parse(c) for c in await self._request("GET", "/channels")]

    async def answer(self, channel: str) -> None:
        await self._request("POST", f"/channels/{channel}/answer")

    async def hangup(self, channel: str, reason: str = "normal") -> None:
        for attempt in range(1, HANGUP_ATTEMPTS + 1):
            try:
                async with asyncio.timeout(HANGUP_TIMEOUT_S):
                    await self._request(
                        "DELETE", f"/channels/{channel}", via=self._hangups, reason=reason
                    )
                return
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt == HANGUP_ATTEMPTS:
                    raise
                log.warning("hang-up of %s: %r; asking again", channel, exc)

    async def play(
        self,
        media: Sequence[str],
        playback_id: str,
        *,
        channel: str | None = None,
        bridge: str | None = None,
        lang: str | None = None,
    ) -> None:
        target = f"/channels/{channel}" if channel else f"/bridges/{bridge}"
        await self._request(
            "POST", f"{target}/play/{playback_id}", media=",".join(media), lang=lang
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self._request("DELETE", f"/playbacks/{playback_id}")

    async def originate(
        self, endpoint: str, channel_id: str, *, app_args: str, caller_id: str, timeout_s: int
    ) -> None:
        await self._request(
            "POST",
            f"/channels/{channel_id}",
            endpoint=endpoint,
            app=self.app,
            appArgs=app_args,
            callerId=caller_id,
            timeout=timeout_s,
        )

    async def create_bridge(self, bridge: str) -> None:
        await self._request("POST", f"/bridges/{bridge}", type="mixing")

    async def add_to_bridge(self, bridge: str, channels: Sequence[str]) -> None:
        await self._request("POST", f"/bridges/{bridge}/addChannel", channel=",".join(channels))

    async def destroy_bridge(self, bridge: str) -> None:
        await self._request("DELETE", f"/bridges/{bridge}")

    async def set_variable(self, channel: str, name: str, value: str) -> None:
        await self._request("POST", f"/channels/{channel}/variable", variable=name, value=value)

    async def get_variable(self, channel: str, name: str) -> str:
        data = await self._request("GET", f"/channels/{channel}/variable", variable=name)
        return str(data.get("value", ""))

    async def events(self) -> AsyncIterator[AriEvent | Disconnected | Reconnected]:
        """Events forever: reconnects with backoff (100 ms doubling to 1 s) and says so."""
        ws_url = self.base.replace("http", "ws", 1) + "/events"
        first, delay_ms = True, BACKOFF_START_MS
        while not self._closing:
            try:
                async with self.session.ws_connect(
                    ws_url, params={"app": self.app}, heartbeat=HEARTBEAT_S
                ) as ws:
                    log.info("ARI events connected (app %s)", self.app)
                    rest_over_ws = await self._offers_rest_over_ws()
                    await self._filter_events(rest_over_ws=rest_over_ws)
                    if rest_over_ws:
                        self._ws = ws
                        log.info("ARI requests travel over the event WebSocket")
                    self.connected = True
                    self.connects += 1
                    delay_ms = BACKOFF_START_MS
                    yield Reconnected(first)
                    first = False
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            break
                        try:
                            raw = json.loads(message.data)
                        except ValueError:
                            log.debug("non-JSON frame dropped")
                            continue
                        if raw.get("type") == "RESTResponse":
                            self._answered(raw)
                            continue
                        if self.on_raw is not None:
                            self.on_raw(raw)
                        event = parse_event(raw)
                        if event is not None:
                            yield event
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 401:
                    raise AriAuthError(
                        f"ARI at {self.host} refused user {self.user!r} (401): check [ari] user "
                        "and password against ari.conf"
                    ) from exc
                log.warning("ARI events at %s refused: %s %s", self.host, exc.status, exc.message)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                log.warning("ARI events at %s unreachable: %s", self.host, str(exc) or repr(exc))
            finally:
                self._ws_gone()  # also when the reader stops iterating
            if self.connected:
                self.connected = False
                yield Disconnected()
            if self._closing:
                return
            # Jitter: several engines restarting together do not hammer Asterisk in step.
            wait_ms = delay_ms // 2 + random.randrange(delay_ms // 2 + 1)
            log.info("ARI events reconnecting in %d ms", wait_ms)
            await asyncio.sleep(wait_ms / 1000)
            delay_ms = min(delay_ms * 2, BACKOFF_MAX_MS)

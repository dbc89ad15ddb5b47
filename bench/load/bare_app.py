"""A bare ARI app placing the same calls as the engine, as the reference for CPU and timing:
answer, play the balance announcement, dial the advisor, bridge, play the warning into the
bridge ``warn`` ms and hang the advisor up ``credit`` ms after the second leg entered the bridge
(Asterisk's stamp), play the farewell to the caller (alone in the bridge), hang up, destroy the
bridge. The same ARI requests and prompts
as the engine's call; no database, no state machine, no money.

Run: python -m bench.load.bare_app URL USER PASSWORD OUT.json CREDIT_MS WARN_MS ANNOUNCE WARNING
FAREWELL (the three prompts as ARI media lists, ``sound:a,sound:b``; SIGTERM writes OUT)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

APP = "bare"
LANG = "de"


def stamp_ms(event: dict[str, Any]) -> int:
    when = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class Script:
    """What every call does: its credit and warning instant, and the three prompts."""

    credit_ms: int
    warn_ms: int
    announce: str
    warning: str
    farewell: str


class Bare:
    def __init__(self, http: aiohttp.ClientSession, url: str, script: Script) -> None:
        self.http, self.url, self.script = http, url, script
        self.calls: dict[str, dict[str, Any]] = {}
        self.leg_of: dict[str, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def rest(self, method: str, path: str, **params: str) -> int:
        async with self.http.request(method, f"{self.url}/ari{path}", params=params) as resp:
            await resp.read()
            return resp.status

    def spawn(self, job: Any) -> None:
        task = asyncio.create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            print(f"bare app: a call's step failed: {exc!r}", file=sys.stderr, flush=True)

    async def play(self, target: str, playback: str, media: str) -> bool:
        status = await self.rest("POST", f"{target}/play/{playback}", media=media, lang=LANG)
        return status < 300

    async def greet(self, caller: str) -> None:
        await self.rest("POST", f"/channels/{caller}/answer")
        if not await self.play(f"/channels/{caller}", f"{caller}-announce", self.script.announce):
            await self.dial(caller, self.calls[caller]["caller"])  # as the engine does

    async def dial(self, caller: str, number: str) -> None:
        await self.rest(
            "POST", f"/channels/{caller}-b", endpoint="PJSIP/advisor1", app=APP,
            appArgs=f"advisor,{caller}", callerId=number, timeout="30",
        )  # fmt: skip

    async def bridge(self, caller: str) -> None:
        # Not the channel's id: Stasis keys an app's subscriptions by id, and a bridge named like
        # a subscribed channel is taken as subscribed already (no bridge events ever come).
        bridge = f"{caller}-bridge"
        await self.rest("POST", f"/bridges/{bridge}", type="mixing")
        await self.rest("POST", f"/bridges/{bridge}/addChannel", channel=f"{caller},{caller}-b")

    async def talk(self, caller: str, bridged_ms: int) -> None:
        await sleep_until(bridged_ms + self.script.warn_ms)
        await self.play(f"/bridges/{caller}-bridge", f"{caller}-warn", self.script.warning)
        await sleep_until(bridged_ms + self.script.credit_ms)
        await self.rest("DELETE", f"/channels/{caller}-b")
        if not await self.play(f"/channels/{caller}", f"{caller}-farewell", self.script.farewell):
            await self.hang_up(caller)  # as the engine does when its farewell cannot play

    async def hang_up(self, caller: str) -> None:
        for channel in (f"{caller}-b", caller):
            with contextlib.suppress(aiohttp.ClientError):
                await self.rest("DELETE", f"/channels/{channel}")
        # Last, as in the engine: the farewell plays to the caller alone in the bridge.
        await self.rest("DELETE", f"/bridges/{caller}-bridge")

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "StasisStart":
            channel, args = event["channel"], event.get("args", [])
            if args[:1] == ["advisor"]:
                call = self.calls[args[1]]
                call["answered_ms"] = stamp_ms(event)
                self.leg_of[channel["id"]] = args[1]
                self.spawn(self.bridge(args[1]))
            else:
                number = channel["caller"]["number"]
                self.calls[channel["id"]] = {"caller": number, "in_bridge": 0}
                self.leg_of[channel["id"]] = channel["id"]
                self.spawn(self.greet(channel["id"]))
        elif kind == "PlaybackFinished":
            caller, _, what = event["playback"]["id"].rpartition("-")
            if what == "announce" and caller in self.calls:
                self.spawn(self.dial(caller, self.calls[caller]["caller"]))
            elif what == "farewell":
                self.spawn(self.hang_up(caller))
        elif kind == "ChannelEnteredBridge":
            call = self.calls.get(self.leg_of.get(event["channel"]["id"], ""))
            if call is not None:
                call["in_bridge"] += 1
                if call["in_bridge"] == 2:
                    call["bridged_ms"] = stamp_ms(event)
                    caller = self.leg_of[event["channel"]["id"]]
                    self.spawn(self.talk(caller, call["bridged_ms"]))
        elif kind == "StasisEnd":
            caller = self.leg_of.pop(event["channel"]["id"], None)
            if caller is not None and caller in self.calls:
                self.calls[caller].setdefault("ended_ms", stamp_ms(event))


async def sleep_until(at_ms: int) -> None:
    while (left := at_ms / 1000 - time.time()) > 0:
        await asyncio.sleep(left if left < 0.05 else left - 0.02)  # late on long waits


async def main(url: str, user: str, password: str, out: Path, script: Script) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    auth = {"Authorization": aiohttp.encode_basic_auth(user, password)}
    async with aiohttp.ClientSession(headers=auth) as http:
        app = Bare(http, url, script)
        ws = await http.ws_connect(f"{url}/ari/events?app={APP}")

        async def read() -> None:
            async for message in ws:
                app.on_event(json.loads(message.data))

        reader = asyncio.create_task(read())
        print("ready", flush=True)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([reader, stopping], return_when=asyncio.FIRST_COMPLETED)
        if reader.done():
            reader.result()  # a dead reader fails the run loudly
        reader.cancel()
    out.write_text(json.dumps(list(app.calls.values())))


if __name__ == "__main__":
    url, user, password, out, credit, warn, announce, warning, farewell = sys.argv[1:]
    script = Script(int(credit), int(warn), announce, warning, farewell)
    asyncio.run(main(url, user, password, Path(out), script))

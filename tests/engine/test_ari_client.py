"""The ARI client's hang-ups: never behind slow requests for a connection, and asked again
when Asterisk does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from pbx_engine.ari import client as ari_client
from pbx_engine.ari.client import REST_CONNECTIONS, AriClient
from testbed.engine_world import eventually
from testbed.postgres import free_port


@asynccontextmanager
async def asterisk_like(app: web.Application) -> AsyncIterator[AriClient]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with AriClient(f"http://127.0.0.1:{port}", "u", "p", "minutecard") as client:
            yield client
    finally:
        await runner.cleanup()


async def test_a_hang_up_goes_out_while_every_rest_connection_waits_on_asterisk() -> None:
    """As Asterisk did at 200 calls: plays into bridges unanswered for seconds, more of them
    than the client has connections. The hang-up due now is answered all the same."""
    answer_plays = asyncio.Event()
    plays_waiting = 0
    hung_up: list[str] = []

    async def play(request: web.Request) -> web.Response:
        nonlocal plays_waiting
        plays_waiting += 1
        await answer_plays.wait()
        return web.json_response({"id": request.match_info["playback"]}, status=201)

    async def hangup(request: web.Request) -> web.Response:
        hung_up.append(request.match_info["channel"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/ari/bridges/{bridge}/play/{playback}", play)
    app.router.add_delete("/ari/channels/{channel}", hangup)
    async with asterisk_like(app) as client:
        plays = [
            asyncio.create_task(client.play(["sound:x"], f"pb{i}", bridge=f"b{i}"))
            for i in range(REST_CONNECTIONS + 20)
        ]
        await eventually(
            lambda: plays_waiting == REST_CONNECTIONS, what="every connection taken by a play"
        )
        # Guarded, not timed: without its own connections the hang-up waits for a play.
        await asyncio.wait_for(client.hangup("advisor-1"), timeout=5)
        assert hung_up == ["advisor-1"]
        assert plays_waiting == REST_CONNECTIONS  # the other plays still wait for one
        answer_plays.set()
        await asyncio.gather(*plays)


async def test_a_hang_up_asterisk_leaves_unanswered_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ari_client, "HANGUP_TIMEOUT_S", 0.2)
    never = asyncio.Event()
    asked: list[str] = []

    async def hangup(request: web.Request) -> web.Response:
        asked.append(request.match_info["channel"])
        if len(asked) < 3:
            await never.wait()  # Asterisk too busy to answer
        return web.Response(status=204)

    app = web.Application()
    app.router.add_delete("/ari/channels/{channel}", hangup)
    async with asterisk_like(app) as client:
        await client.hangup("advisor-1")
        assert asked == ["advisor-1"] * 3
        never.set()  # the unanswered requests end before the server stops


async def test_a_hang_up_never_answered_fails_after_its_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ari_client, "HANGUP_TIMEOUT_S", 0.1)
    never = asyncio.Event()
    asked = 0

    async def hangup(request: web.Request) -> web.Response:
        nonlocal asked
        asked += 1
        await never.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_delete("/ari/channels/{channel}", hangup)
    async with asterisk_like(app) as client:
        with pytest.raises(TimeoutError):
            await client.hangup("advisor-1")
        assert asked == ari_client.HANGUP_ATTEMPTS
        never.set()


async def test_every_rest_answer_time_reaches_the_overload_gauge() -> None:
    """An answer held 300 ms by Asterisk is reported as at least that long; a refused request
    is reported too (a slow "no" is as slow as a slow "yes")."""
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        await asyncio.wait_for(release.wait(), 5)
        return web.Response(status=204)

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"message": "Channel not found"}, status=404)

    app = web.Application()
    app.router.add_post("/ari/channels/c1/answer", answer)
    app.router.add_post("/ari/channels/gone/answer", missing)
    seen: list[int] = []
    async with asterisk_like(app) as client:
        client.on_answer_ms = seen.append
        answering = asyncio.create_task(client.answer("c1"))
        await asyncio.sleep(0.3)
        release.set()
        await answering
        with pytest.raises(ari_client.AriError):
            await client.answer("gone")
    assert len(seen) == 2
    assert seen[0] >= 300

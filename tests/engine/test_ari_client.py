"""The ARI client's connections: a hang-up never waits behind slow requests for one."""

from __future__ import annotations

import asyncio

from aiohttp import web

from pbx_engine.ari.client import REST_CONNECTIONS, AriClient
from tests.support.postgres import free_port


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
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with AriClient(f"http://127.0.0.1:{port}", "u", "p", "minutecard") as client:
            plays = [
                asyncio.create_task(client.play(["sound:x"], f"pb{i}", bridge=f"b{i}"))
                for i in range(REST_CONNECTIONS + 20)
            ]
            while plays_waiting < REST_CONNECTIONS:
                await asyncio.sleep(0.01)
            # Guarded, not timed: without its own connections the hang-up waits for a play.
            await asyncio.wait_for(client.hangup("advisor-1"), timeout=5)
            assert hung_up == ["advisor-1"]
            assert plays_waiting == REST_CONNECTIONS  # the other plays still wait for one
            answer_plays.set()
            await asyncio.gather(*plays)
    finally:
        await runner.cleanup()

"""The yardstick for the API bench: a bare aiohttp handler on the same database handle that only
writes one row a request — what any HTTP top-up would cost at least; the API's ratio to it is
what its checks, locks, ledger and answer cost."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from cards.db import Database

TABLE = "bench_bare_rows"


async def serve_bare(db: Database, port: int) -> web.AppRunner:
    async with db.transaction() as session:
        await session.execute(
            text(f"CREATE TABLE IF NOT EXISTS {TABLE} (serial VARCHAR(20), amount BIGINT)")
        )

    async def write_one(request: web.Request) -> web.Response:
        body = await request.json()
        async with db.transaction() as session:
            await session.execute(
                text(f"INSERT INTO {TABLE} (serial, amount) VALUES (:serial, :amount)"),
                {"serial": request.match_info["serial"], "amount": int(body["amount"])},
            )
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_post("/v1/cards/{serial}/topups", write_one)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner

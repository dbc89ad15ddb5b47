"""``/health/live`` (the process answers) and ``/health/ready`` (the API can serve: the database
answers and the journal is empty); ARI is reported, not required: the API works without it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from cards.db import Database
from cards.journal import STORAGE_ERRORS
from cards.services import api_views

if TYPE_CHECKING:
    from pbx_engine.api.app import Status

DATABASE_TIMEOUT_S = 2


async def database_answers(db: Database) -> bool:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S), db.read() as session:
            await session.execute(api_views.select_one())
    except (*STORAGE_ERRORS, TimeoutError):
        return False
    return True


def add_routes(app: web.Application, db: Database, status: Status) -> None:
    async def live(_request: web.Request) -> web.Response:
        return web.json_response({"status": "live"})

    async def ready(_request: web.Request) -> web.Response:
        pending = len(status.journal.pending())
        components: dict[str, dict[str, bool | int]] = {
            "database": {"ok": await database_answers(db), "required": True},
            "journal": {"ok": pending == 0, "required": True, "pending": pending},
            "ari": {"ok": status.ari_connected(), "required": False},
        }
        ready = all(c["ok"] for c in components.values() if c["required"])
        body = {"status": "ready" if ready else "not_ready", "components": components}
        return web.json_response(body, status=200 if ready else 503)

    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)

"""A top-up or a debit through the balance API reaches the running call of its card: the hold
follows and the end moves (later, or earlier but never before what was talked) — through the
same engine's API (SQLite), and through another engine's API on the same PostgreSQL (NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cards.db import Database
from cards.journal import Journal
from cards.models import Reservation
from cards.services import tokens
from pbx_engine.api.app import Api, Status, serve
from testbed.engine_world import World, eventually, running_engine
from testbed.flows import activate, call_entries, connect
from testbed.postgres import free_port
from tests.support.api_client import Server


@pytest.fixture
async def setting(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[World, Database]]:
    """SQLite: the engine's own API. PostgreSQL: another engine's API (its own pool)."""
    async with running_engine(db_url, tmp_path) as world:
        if db_url.startswith("sqlite"):
            yield world, world.db
            return
        other = Database(db_url)
        try:
            yield world, other
        finally:
            await other.close()


MOVES = {
    # move, body, talked before it (s), the call's new length (s)
    "topup": ("topups", {"amount": 300}, 0, 900),
    "debit": ("debits", {"amount": 450, "reason": "book sold"}, 100, 150),
}


@pytest.mark.parametrize("move", MOVES)
async def test_an_api_move_changes_a_running_calls_end(
    setting: tuple[World, Database], tmp_path: Path, move: str
) -> None:
    path, body, before_s, length_s = MOVES[move]
    world, api_db = setting
    token, _ = await tokens.create(api_db, "astro", "write")
    status = Status(lambda: True, lambda: 0, lambda: 0, Journal(tmp_path / "j"))
    port = free_port()
    runner = await serve(Api(api_db, status), "127.0.0.1", port)
    server = Server(f"http://127.0.0.1:{port}", token, token, token, world.card.serial, "", [True])
    try:
        await activate(world)
        answered = await connect(world)
        await world.advance(before_s * 1000)
        code, _ = await server.call(
            "POST", f"/v1/cards/{world.card.serial}/{path}", token, body,
            **{"Idempotency-Key": "shop-7"},
        )  # fmt: skip
        assert code == 201

        async def held() -> int:
            async with world.db.read() as session:
                return int(await session.scalar(select(Reservation.amount)) or 0)

        for _ in range(100):  # the engine hears the commit and moves the hold
            if await held() == length_s:
                break
            await asyncio.sleep(0.01)
        assert await held() == length_s
        await world.advance(answered + length_s * 1000 - world.clock.now)
        await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
        ended = world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms
        assert ended == answered + length_s * 1000
        warned = [r.at_ms for r in world.ari.made("POST", "/play") if "bridges" in r.path]
        # A debit that leaves less than the warning lead warns at once (its instant has passed).
        assert warned == [max(answered + (length_s - 120) * 1000, answered + before_s * 1000)]
        [entry] = await call_entries(world)
        assert entry.amount == -length_s
        await eventually(lambda: world.engine.settler.billed_seconds == length_s, what="counted")
        assert dict(world.engine.settler.outcomes) == {"credit_exhausted": 1}
    finally:
        await runner.cleanup()

"""A caller's online payment reaches the call that is running on the card, as an API top-up
does: a signed webhook ``paid`` for a 15 EUR order moves the hold within a second and the call
ends exactly when the new credit is used up — through the engine's own server (SQLite), and
through another engine's on the same PostgreSQL (NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from cards.db import Database
from cards.models import Reservation
from cards.services import orders
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings, ProjectPayments
from pbx_engine.payments.webhook import HEADER, sign
from testbed.engine_world import World, eventually, running_engine
from testbed.flows import activate, connect
from testbed.postgres import free_port

SECRET = "whsec-0123456789abcdef"
PER_SECOND = 100  # 0.60 EUR a minute, billed by the second
ORDER = 150_000  # 15 EUR: 1,500 s more


@pytest.fixture
async def setting(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[World, Database]]:
    settings = {"denominations": [ORDER]}
    async with running_engine(
        db_url, tmp_path, credit=600 * PER_SECOND, unit="money", settings=settings
    ) as world:
        if db_url.startswith("sqlite"):
            yield world, world.db
            return
        other = Database(db_url)
        try:
            yield world, other
        finally:
            await other.close()


async def test_a_paid_order_moves_a_running_calls_end(setting: tuple[World, Database]) -> None:
    world, shop_db = setting
    payments = Payments(shop_db, PaymentSettings(
        projects={"astro": ProjectPayments(("webhook",), SECRET, "https://shop.example/pay")},
    ))  # fmt: skip
    app = web.Application()
    PaymentRoutes(payments).add_to(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await activate(world)
        answered = await connect(world)
        await world.advance(100_000)
        view = await orders.create_order(
            shop_db, project="astro", serial=world.card.serial, amount=ORDER,
            provider="webhook", actor="page",
        )  # fmt: skip
        event = {"id": "evt_1", "type": "paid", "order": view.reference, "amount": ORDER,
                 "payment_id": "pay_1"}  # fmt: skip
        body = json.dumps(event).encode()
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/pay/webhook/astro", data=body,
                      headers={HEADER: sign(SECRET, body, int(time.time()))}) as resp,
        ):  # fmt: skip
            assert resp.status == 200

        async def held() -> int:
            async with world.db.read() as session:
                return int(await session.scalar(select(Reservation.amount)) or 0)

        length_s = 600 + 1_500
        for _ in range(100):  # within a second of wall time, the engine has moved the hold
            if await held() == length_s * PER_SECOND:
                break
            await asyncio.sleep(0.01)
        assert await held() == length_s * PER_SECOND
        await world.advance(answered + length_s * 1000 - world.clock.now)
        await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
        assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == (
            answered + length_s * 1000
        )
    finally:
        await runner.cleanup()
        await payments.close()

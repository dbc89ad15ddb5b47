"""A real ``cardengine`` killed with SIGKILL while a webhook delivery waits for its retry loses
nothing: the restarted engine delivers it once the shop is back; a sender that dies stops the
engine with its cause (issue 25 item 5)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, update

from cards.clock import utcnow
from cards.db import Database
from cards.models import Card, WebhookDelivery
from cards.services import tokens, webhooks
from pbx_engine import main as engine_main
from pbx_engine.config import load
from pbx_engine.webhook_sender import WebhookSender
from testbed.engine_world import eventually
from testbed.fake_ari import FakeAri, FakeClock
from testbed.postgres import free_port
from tests.engine.test_cardengine_run import CARDENGINE, _astro_database, _config, _env
from tests.engine.test_webhook_sender import SECRET, Receiver

BOUND_S = 30
"""How long a step may take before the test says it never happened (it is not a speed)."""


async def engine(url: str, tmp_path: Path, api_port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CARDENGINE, "run", "--config", str(_config(tmp_path, f"http://127.0.0.1:{free_port()}")),
        env={**_env(url, tmp_path), "MINUTECARD_API_PORT": str(api_port)},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(BOUND_S * 10):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} never happened")


async def test_a_killed_engine_delivers_after_its_restart(tmp_path: Path) -> None:
    url = await _astro_database(tmp_path)
    db = Database(url)
    shop = Receiver()  # not listening yet: the shop is away
    await webhooks.add(db, "astro", shop.url, ["topup.credited"], actor="anna", secret=SECRET)
    token, _ = await tokens.create(db, "astro", "write")
    async with db.read() as session:
        serial = (await session.scalars(select(Card.serial))).one()
    api_port = free_port()
    first = await engine(url, tmp_path, api_port)

    async def topped_up() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{api_port}/v1/cards/{serial}/topups", json={"amount": 600},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "order-1"},
            ) as resp:  # fmt: skip
                return resp.status == 201
        except aiohttp.ClientConnectionError:
            return False

    async def tried() -> bool:
        async with db.read() as session:
            row = await session.scalar(select(WebhookDelivery))
        return row is not None and row.attempts == 1

    try:
        await until(topped_up, "the top-up through the first engine")
        await until(tried, "a first, failed delivery")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.communicate()
    async with db.transaction() as session:  # the engine was down past the retry's time
        await session.execute(
            update(WebhookDelivery).values(next_at=utcnow() - timedelta(seconds=1))
        )
    await shop.up()
    second = await engine(url, tmp_path, api_port)

    async def delivered() -> bool:
        return bool(shop.got)

    try:
        await until(delivered, "the delivery after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(second.communicate(), BOUND_S)
        await shop.down()
    assert second.returncode == 0, stderr.decode()[-2000:]
    [(body, _)] = shop.got
    event = json.loads(body)
    assert (event["type"], event["data"]["serial"], event["data"]["amount"]) == (
        "topup.credited", serial, 600,
    )  # fmt: skip
    async with db.read() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert (row.state, row.attempts) == ("delivered", 2)
    await db.close()


async def test_a_dying_webhook_sender_stops_the_engine_with_its_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Supervised as every engine task: a sender bug is not a silent stop of all deliveries."""
    url = await _astro_database(tmp_path)
    fake = FakeAri(FakeClock())
    await fake.start()

    async def dies(self: WebhookSender) -> None:
        await eventually(lambda: fake.connects == 1, what="engine connected")
        raise RuntimeError("sender broke")

    monkeypatch.setattr(WebhookSender, "run", dies)
    for name, value in _env(url, tmp_path).items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.INFO, logger="minutecard")
    try:
        code = await asyncio.wait_for(engine_main.serve(load(_config(tmp_path, fake.url))), 30)
    finally:
        await fake.stop()
    assert code == 1
    assert "the webhooks task died: RuntimeError('sender broke')" in caplog.records[-1].getMessage()

"""The webhook sender against a real local receiver (issue 25 item 5): signed deliveries the
shop's documented check accepts; a receiver that goes away is retried with backoff on the
engine's clock and gets the event when it is back; dead after the last try; every attempt kept;
a new sender (a restarted engine) resumes what is pending; the outcomes are a counter."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from cards.db import Database
from cards.journal import Journal
from cards.models import WebhookDelivery
from cards.services import ledger, webhooks
from pbx_engine.api.app import Api, Status, serve
from pbx_engine.webhook_sender import MAX_ATTEMPTS, POLL_MS, WebhookSender, backoff
from testbed.fake_ari import FakeClock
from testbed.postgres import free_port
from tests.cards.helpers import project_with_cards

EUR = 10_000
SECRET = "whsec_test-secret-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def documented_check() -> Any:
    """The signature check docs/api.md gives shops, run as written."""
    text = (ROOT / "docs/api.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    scope: dict[str, Any] = {}
    exec(code, scope)
    return scope["verify"]


class Receiver:
    """The shop's endpoint on a real socket; it can go away and come back on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[tuple[bytes, str]] = []
        self.answer = 200
        self.runner: web.AppRunner | None = None

    async def hook(self, request: web.Request) -> web.Response:
        self.got.append((await request.read(), request.headers["Minutecard-Signature"]))
        return web.Response(status=self.answer)

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    shop = Receiver()
    await shop.up()
    yield shop
    await shop.down()


def clock() -> FakeClock:
    """Engine time the test moves; its wall clock starts at the real now (the outbox's stamps)."""
    return FakeClock(wall_start_ms=time.time_ns() // 1_000_000 - 1_000_000 + 1000)


async def topped_up(db: Database, url: str) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR)
    await webhooks.add(db, "astro", url, ["topup.credited"], actor="anna", secret=SECRET)
    await ledger.topup(db, card.card_id, 25 * EUR, actor="shop")


async def delivery(db: Database) -> WebhookDelivery:
    async with db.read() as session:
        return (await session.scalars(select(WebhookDelivery))).one()


async def test_a_delivery_is_signed_as_the_docs_check_it(db: Database, receiver: Receiver) -> None:
    await topped_up(db, receiver.url)
    sender = WebhookSender(db, clock())
    async with aiohttp.ClientSession() as http:
        assert await sender.send_due(http) == 1
    [(body, header)] = receiver.got
    verify = documented_check()
    now = int(time.time())
    event = verify(body, header, SECRET, now=now)
    assert event["type"] == "topup.credited" and event["data"]["balance"] == 35 * EUR
    assert event["id"].startswith("evt_")
    assert verify(body + b" ", header, SECRET, now=now) is None  # a changed body
    assert verify(body, header, "whsec_another-secret-01234", now=now) is None
    assert verify(body, header, SECRET, now=now + 600) is None  # an old signature: a replay
    assert (await delivery(db)).state == "delivered"
    [row] = await webhooks.deliveries(db, 1)
    assert [t["status"] for t in row["tries"]] == [200]


async def test_a_receiver_away_gets_the_event_when_it_is_back(
    db: Database, receiver: Receiver
) -> None:
    """Gone (connection refused), then answering 503, then back: retried on the engine's clock
    with growing waits, nothing sent before its time, delivered once, every attempt kept."""
    await topped_up(db, receiver.url)
    await receiver.down()
    engine_clock = clock()
    sender = WebhookSender(db, engine_clock, random.Random(7))
    async with aiohttp.ClientSession() as http:
        assert await sender.send_due(http) == 1
        first = await delivery(db)
        assert (first.state, first.attempts) == ("pending", 1)
        assert await sender.send_due(http) == 0  # not due before its backoff
        engine_clock.now += 10_000  # past the first wait (5..10 s)
        await receiver.up()
        receiver.answer = 503
        assert await sender.send_due(http) == 1
        engine_clock.now += 20_000
        receiver.answer = 200
        assert await sender.send_due(http) == 1
    done = await delivery(db)
    assert (done.state, done.attempts, len(receiver.got)) == ("delivered", 3, 2)
    [row] = await webhooks.deliveries(db, 1)
    tries = row["tries"]
    assert [t["status"] for t in tries] == [None, 503, 200]
    assert "ClientConnectorError" in tries[0]["error"] and tries[1]["error"] == "answered 503"
    assert dict(sender.outcomes) == {"retry": 2, "delivered": 1}


def test_the_backoff_grows_capped_with_jitter() -> None:
    rand = random.Random(1)
    waits = [backoff(n, rand) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits[-1] is None and None not in waits[:-1]  # the last failure is the end
    ms = [w // timedelta(milliseconds=1) for w in waits if w is not None]
    for n, wait in enumerate(ms, start=1):
        ceiling = min(3600, 10 * 2 ** (n - 1)) * 1000
        assert ceiling // 2 <= wait <= ceiling
    assert max(ms) <= 3_600_000 and sum(ms) > 4 * 3_600_000  # a shop away for hours still hears


async def test_dead_after_the_last_failure_and_redelivered_by_hand(
    db: Database, receiver: Receiver
) -> None:
    await topped_up(db, receiver.url)
    receiver.answer = 500
    engine_clock = clock()
    sender = WebhookSender(db, engine_clock, random.Random(3))
    async with aiohttp.ClientSession() as http:
        for _ in range(MAX_ATTEMPTS):
            assert await sender.send_due(http) == 1
            engine_clock.now += 3_600_000
        assert await sender.send_due(http) == 0
        assert (await delivery(db)).state == "dead"
        await webhooks.redeliver(db, (await delivery(db)).id, actor="anna")
        receiver.answer = 200
        assert await sender.send_due(http) == 1
    row = await delivery(db)
    assert (row.state, row.attempts, len(receiver.got)) == ("delivered", 1, MAX_ATTEMPTS + 1)
    assert sender.outcomes["dead"] == 1
    ids = {json.loads(body)["id"] for body, _ in receiver.got}
    assert len(ids) == 1  # one event id throughout: the shop deduplicates by it


async def test_a_new_sender_resumes_what_is_pending(db: Database, receiver: Receiver) -> None:
    """The state is in the database: an engine restarted mid-backoff sends when it is due."""
    await topped_up(db, receiver.url)
    receiver.answer = 502
    first_clock = clock()
    async with aiohttp.ClientSession() as http:
        await WebhookSender(db, first_clock).send_due(http)
        receiver.answer = 200
        later = clock()
        later.now += 11_000
        restarted = WebhookSender(db, later)
        assert await restarted.send_due(http) == 1
    assert (await delivery(db)).state == "delivered"


async def test_delivery_outcomes_are_a_prometheus_counter(
    db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    await topped_up(db, receiver.url)
    sender = WebhookSender(db, clock())
    async with aiohttp.ClientSession() as http:
        await sender.send_due(http)
    status = Status(bool, int, int, Journal(tmp_path / "j.jsonl"), webhooks=sender)
    port = free_port()
    runner = await serve(Api(db, status), "127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            text = await resp.text()
    finally:
        await runner.cleanup()
    assert "# TYPE minutecard_webhook_deliveries_total counter" in text
    assert 'minutecard_webhook_deliveries_total{outcome="delivered"} 1.0' in text
    assert 'minutecard_webhook_deliveries_total{outcome="dead"} 0.0' in text


async def test_a_redirect_is_not_followed_to_another_host(db: Database) -> None:
    """A shop's endpoint that answers 307 towards another address (an internal service of the
    engine's network) gets no signed POST sent on there: a 3xx is a failed try, retried."""
    inner, shop = Receiver(), Receiver()
    await inner.up()
    shop.answer = 307

    async def moved(request: web.Request) -> web.Response:
        await shop.hook(request)
        return web.Response(status=307, headers={"Location": inner.url})

    app = web.Application()
    app.router.add_post("/hook", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", shop.port).start()
    try:
        await topped_up(db, shop.url)
        async with aiohttp.ClientSession() as http:
            assert await WebhookSender(db, clock()).send_due(http) == 1
    finally:
        await runner.cleanup()
        await inner.down()
    assert len(shop.got) == 1 and inner.got == []
    row = await delivery(db)
    assert (row.state, row.attempts) == ("pending", 1)
    [listed] = await webhooks.deliveries(db, 1)
    assert [t["status"] for t in listed["tries"]] == [307]


async def test_a_delivery_queued_in_this_process_is_sent_before_the_poll(
    db: Database, receiver: Receiver
) -> None:
    """The engine's clock never moves, so the sender's poll never comes: only the commit that
    queued the event can have woken it."""
    engine_clock = clock()
    sender = WebhookSender(db, engine_clock)
    running = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(10):
            while engine_clock.next_deadline() is None:  # first look done: waits for the poll
                await asyncio.sleep(0.01)
        assert await delivery_count(db) == 0
        await topped_up(db, receiver.url)
        async with asyncio.timeout(10):
            while not receiver.got:
                await asyncio.sleep(0.01)
        assert (await delivery(db)).state == "delivered"
        assert engine_clock.next_deadline() == engine_clock.now + POLL_MS
    finally:
        running.cancel()


async def delivery_count(db: Database) -> int:
    async with db.read() as session:
        return len((await session.scalars(select(WebhookDelivery))).all())


def test_the_senders_now_keeps_the_milliseconds() -> None:
    """Cut to the second, an event queued 0.999 s into a second was not due until the poll."""
    engine_clock = FakeClock(wall_start_ms=999)  # wall 1,000,999 ms once its clock reads 1,000,000
    sender = WebhookSender(Database("sqlite+aiosqlite:///:memory:"), engine_clock)
    assert engine_clock.wall_ms() % 1000 == 999
    assert sender.wall().microsecond == 999_000

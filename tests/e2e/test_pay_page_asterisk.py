"""A top-up through the pay page in Chromium during a real call on Asterisk: the warning and the
end move, and the call is billed exactly, as SIPp and Asterisk saw it."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By

from pbx_engine.payments.webhook import HEADER, sign
from testbed.astro import ADVISOR_NO
from testbed.e2e_world import PAY_WEBHOOK_SECRET, e2e_world
from testbed.postgres import free_port
from testbed.sipp import after_ms
from tests.e2e.test_real_asterisk import (
    CALLER,
    bind,
    both_bridged,
    ledger_calls,
    warning_started,
)
from tests.web.browser import chromium

TEN_CENTS = 1_000  # 10 s at 0.60 EUR a minute (100 units a second)


def _order_through_the_page(driver: Chrome, pay_url: str, serial: str) -> str:
    """Line and serial, the one amount, the shop's payment: the order's reference."""
    driver.get(pay_url)
    driver.find_element(By.ID, "line").send_keys(CALLER)
    driver.find_element(By.ID, "serial").send_keys(serial[-4:])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    driver.find_element(By.CSS_SELECTOR, ".amounts button").click()
    driver.find_element(By.ID, "provider-webhook").click()
    driver.find_element(By.ID, "pay").click()
    return driver.find_element(By.ID, "reference").text  # on the shop's page


def _back_to_the_order(driver: Chrome) -> str:
    driver.find_element(By.ID, "back").click()
    return driver.find_element(By.ID, "new-balance").text


async def _shop_says_paid(pages: str, reference: str) -> int:
    body = json.dumps({"id": f"evt-{reference}", "type": "paid", "order": reference,
                       "amount": TEN_CENTS, "payment_id": "shop-1"}).encode()  # fmt: skip
    headers = {HEADER: sign(PAY_WEBHOOK_SECRET, body, int(time.time())),
               "Content-Type": "application/json"}  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{pages}/pay/webhook/astro", data=body, headers=headers) as resp,
    ):
        return resp.status


async def _shop(port: int, pages: str) -> web.AppRunner:
    async def checkout(request: web.Request) -> web.Response:
        ref = request.query["reference"]
        html = (f'<!doctype html><title>Shop</title><p id="reference">{ref}</p>'
                f'<a id="back" href="{pages}/pay/astro/orders/{ref}">back</a>')  # fmt: skip
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/checkout", checkout)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_a_top_up_through_the_page_moves_a_running_calls_warning_and_end(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """40 s of credit (0.40 EUR; end at bridge + 40 s); at bridge + 5 s the browser looks the
    card up and pays 0.10 EUR through the shop: the warning moves to + 47 s, the end to + 50 s,
    and 50 s (0.50 EUR) are billed."""
    shop_port = free_port()
    async with e2e_world(
        tmp_path, e2e_sounds, credit_seconds=4_000, warning_lead=3, unit="money",
        denominations=(TEN_CENTS,), shop_url=f"http://127.0.0.1:{shop_port}/checkout",
    ) as world:  # fmt: skip
        await bind(world, CALLER)
        pages = world.pay_url.removesuffix("/pay/astro")
        shop = await _shop(shop_port, pages)
        driver = await asyncio.to_thread(chromium, tmp_path / "chromium-profile")
        try:
            call = asyncio.create_task(world.call(ADVISOR_NO, CALLER, pcap_seconds=80, name="pay"))
            bridged = await both_bridged(world)
            await asyncio.sleep(max(0.0, (bridged + 5_000) / 1000 - time.time()))
            # Selenium blocks: in a thread, so the engine's loop keeps the call's time.
            reference = await asyncio.to_thread(
                _order_through_the_page, driver, world.pay_url, world.card.serial
            )
            assert await _shop_says_paid(pages, reference) == 200
            shown = await asyncio.to_thread(_back_to_the_order, driver)
            paid_at_ms = int(time.time() * 1000) - bridged
            caller, advisor = await call
        finally:
            await asyncio.to_thread(driver.quit)
            await shop.cleanup()
        assert caller.returncode == 0, caller.stderr
        assert advisor is not None
        assert 5_000 <= paid_at_ms < 40_000
        assert shown.endswith("€")
        [warning] = warning_started(world)
        assert warning is not None
        [bye] = advisor.times("BYE")
        late_us = (bye - after_ms(bridged, 50)) // timedelta(microseconds=1)
        print(f"\npay page top-up: paid {paid_at_ms} ms after the bridge; warning "
              f"{warning - bridged} ms; BYE {late_us / 1000} ms after bridge + 50 s")  # fmt: skip
        assert 0 <= warning - (bridged + 47_000) < 100
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -5_000

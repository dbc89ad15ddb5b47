"""The pay pages in Debian's Chromium: the flow by mouse and by keyboard, a wrong amount typed
into the address, framing by an allowed and a refused site, axe-core, screenshots."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from selenium.webdriver import Chrome
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import func, select

from cards.clock import utcnow
from cards.models import Order
from cards.services import order_moves
from pbx_engine.payments.webhook import HEADER, sign
from testbed.postgres import free_port
from tests.support.settlements import bill_call
from tests.web.browser import (
    WAIT_S,
    Served,
    axe_source,
    axe_violations,
    browser,
    fresh,
    served,
    shoot,
)
from tests.web.conftest import LINE, LINE_NATIONAL, WEBHOOK_SECRET

ADVISOR = "+498912345671"
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
__all__ = ["browser", "fresh", "served"]  # fixtures


def _orders(world: Served) -> int:
    async def count() -> int:
        async with world.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(Order)) or 0)

    return world.run(count())


def _to_amounts(driver: Chrome, url: str, serial: str) -> None:
    driver.get(f"{url}/pay/astro")
    driver.find_element(By.ID, "line").send_keys(LINE_NATIONAL)
    driver.find_element(By.ID, "serial").send_keys(serial[-4:])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    driver.find_element(By.CSS_SELECTOR, ".amounts")  # waits for the next page


def test_the_flow_to_the_payment_by_mouse_with_screenshots_and_axe(
    served: Served, fresh: Chrome
) -> None:
    pages = served.pages()
    axe = axe_source()
    fresh.get(f"{pages.url}/pay/astro")
    shoot(fresh, "1-start")
    assert axe_violations(fresh, axe) == []
    _to_amounts(fresh, pages.url, pages.serial)
    heading = fresh.find_element(By.TAG_NAME, "h1").text
    assert heading == f"Karte …{pages.serial[-4:]}, Projekt astro"
    buttons = [b.text for b in fresh.find_elements(By.CSS_SELECTOR, ".amounts button")]
    assert buttons == ["15,00 €", "25,00 €", "50,00 €"]
    assert "flow=" in fresh.current_url and pages.serial not in fresh.current_url
    shoot(fresh, "2-card")
    assert axe_violations(fresh, axe) == []
    fresh.find_elements(By.CSS_SELECTOR, ".amounts button")[1].click()
    fresh.find_element(By.ID, "pay")  # waits for the checkout page
    assert fresh.find_element(By.ID, "amount").text == "25,00 €"
    shoot(fresh, "3-checkout")
    assert axe_violations(fresh, axe) == []
    fresh.get(f"{pages.url}/pay/astro?lang=en")
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shoot(fresh, "1-start-en")


def _signed_paid(pages_url: str, reference: str, amount: int) -> Awaitable[int]:
    """The shop's callback: the order is paid (signed as the shop signs it)."""

    async def send() -> int:
        body = json.dumps({"id": f"evt-{reference}", "type": "paid", "order": reference,
                           "amount": amount, "payment_id": "shop-4711"}).encode()  # fmt: skip
        headers = {HEADER: sign(WEBHOOK_SECRET, body, int(time.time())),
                   "Content-Type": "application/json"}  # fmt: skip
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{pages_url}/pay/webhook/astro", data=body, headers=headers) as resp,
        ):
            return resp.status

    return send()


def _pay_with(driver: Chrome, provider: str) -> None:
    driver.find_element(By.ID, f"provider-{provider}").click()
    driver.find_element(By.ID, "pay").click()


def test_the_whole_flow_by_transfer_to_the_new_balance(served: Served, fresh: Chrome) -> None:
    pages = served.pages()
    axe = axe_source()
    _to_amounts(fresh, pages.url, pages.serial)
    fresh.find_elements(By.CSS_SELECTOR, ".amounts button")[1].click()  # 25,00 €
    _pay_with(fresh, "transfer")
    fresh.find_element(By.ID, "bank")  # waits for the order's page
    reference = fresh.find_element(By.ID, "reference").text
    assert reference.startswith("MC-") and "IBAN DE02" in fresh.find_element(By.ID, "bank").text
    assert fresh.find_element(By.ID, "status").text == "angelegt, wartet auf die Zahlung"
    shoot(fresh, "4-transfer-instructions")
    assert axe_violations(fresh, axe) == []
    served.run(
        order_moves.mark_paid(served.db, reference, actor="operator", amount=250_000)
    )  # 25,00 €
    fresh.find_element(By.LINK_TEXT, "Status aktualisieren").click()
    fresh.find_element(By.ID, "new-balance")  # waits for the reloaded page
    assert fresh.find_element(By.ID, "status").text == "bezahlt und gutgeschrieben"
    assert fresh.find_element(By.ID, "new-balance").text == "35,00 €"
    assert fresh.find_element(By.ID, "minutes").text == "17"  # 35 € at 1.99 €/min, 60/1
    shoot(fresh, "5-transfer-credited")
    assert axe_violations(fresh, axe) == []


def test_the_whole_flow_through_the_shop_and_its_webhook(served: Served, fresh: Chrome) -> None:
    shop_port = free_port()
    pages = served.pages(shop_url=f"http://127.0.0.1:{shop_port}/checkout")

    def shop(app: web.Application) -> None:
        async def checkout(request: web.Request) -> web.Response:
            ref = request.query["reference"]
            back = f"{pages.url}/pay/astro/orders/{ref}"
            html = (f'<!doctype html><html lang="de"><title>Shop</title><h1>Shop: {ref}</h1>'
                    f'<a id="back" href="{back}">Zurück</a></html>')  # fmt: skip
            return web.Response(text=html, content_type="text/html")

        app.router.add_get("/checkout", checkout)

    served.site(shop_port, shop)
    _to_amounts(fresh, pages.url, pages.serial)
    fresh.find_elements(By.CSS_SELECTOR, ".amounts button")[0].click()  # 15,00 €
    _pay_with(fresh, "webhook")
    fresh.find_element(By.ID, "back")  # waits for the shop's page
    heading = fresh.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("Shop: MC-") and "amount=150000" in fresh.current_url
    reference = heading.removeprefix("Shop: ")
    assert served.run(_signed_paid(pages.url, reference, 150_000)) == 200
    fresh.find_element(By.ID, "back").click()
    fresh.find_element(By.ID, "new-balance")  # waits for the order's page
    assert fresh.find_element(By.ID, "status").text == "bezahlt und gutgeschrieben"
    assert fresh.find_element(By.ID, "new-balance").text == "25,00 €"
    shoot(fresh, "5-webhook-credited")


def test_a_wrong_amount_typed_into_the_address_is_refused_and_creates_nothing(
    served: Served, fresh: Chrome
) -> None:
    pages = served.pages()
    _to_amounts(fresh, pages.url, pages.serial)
    flow = fresh.current_url.split("flow=")[1]
    fresh.get(f"{pages.url}/pay/astro/checkout?flow={flow}&amount=123400")
    assert "Diesen Betrag gibt es nicht" in fresh.find_element(By.ID, "problem").text
    shoot(fresh, "wrong-amount")
    assert _orders(served) == 0


def test_the_page_shows_in_the_frame_of_an_allowed_site_only(served: Served, fresh: Chrome) -> None:
    allowed, refused = free_port(), free_port()
    pages = served.pages(frame_ancestors=(f"http://127.0.0.1:{allowed}",))

    def parent(app: web.Application) -> None:
        html = (f'<!doctype html><html lang="de"><title>Shop</title><h1>Shop</h1>'
                f'<iframe id="pay" title="Aufladen" src="{pages.url}/pay/astro" width="400" '
                f'height="600"></iframe></html>')  # fmt: skip

        async def page(_request: web.Request) -> web.Response:
            return web.Response(text=html, content_type="text/html")

        app.router.add_get("/", page)

    served.site(allowed, parent)
    served.site(refused, parent)
    fresh.get(f"http://127.0.0.1:{allowed}/")
    fresh.switch_to.frame(fresh.find_element(By.ID, "pay"))
    assert fresh.find_element(By.ID, "line").is_displayed()
    fresh.switch_to.default_content()
    shoot(fresh, "framed-allowed")
    fresh.get(f"http://127.0.0.1:{refused}/")
    fresh.switch_to.frame(fresh.find_element(By.ID, "pay"))
    fresh.implicitly_wait(0)  # the allowed frame showed its field at once; this one never will
    assert fresh.find_elements(By.ID, "line") == []
    assert "Astro Hotline" not in fresh.find_element(By.TAG_NAME, "html").text
    fresh.implicitly_wait(WAIT_S)
    fresh.switch_to.default_content()
    shoot(fresh, "framed-refused")


def test_the_flow_by_keyboard_only(served: Served, fresh: Chrome) -> None:
    pages = served.pages()
    fresh.get(f"{pages.url}/pay/astro")
    keys = ActionChains(fresh)
    # language link, then the line field, the serial field, the button
    keys.send_keys(Keys.TAB, Keys.TAB, LINE_NATIONAL, Keys.TAB, pages.serial[-4:], Keys.ENTER)
    keys.perform()
    fresh.find_element(By.CSS_SELECTOR, ".amounts")  # waits for the card's page
    assert fresh.find_element(By.TAG_NAME, "h1").text.startswith("Karte …")
    ActionChains(fresh).send_keys(Keys.TAB, Keys.TAB, Keys.ENTER).perform()  # 15,00 €
    fresh.find_element(By.ID, "pay")
    assert fresh.find_element(By.ID, "amount").text == "15,00 €"
    # language link, the payment methods (one stop; the first is chosen), the button
    ActionChains(fresh).send_keys(Keys.TAB, Keys.TAB, Keys.TAB, Keys.ENTER).perform()
    assert fresh.find_element(By.ID, "reference").text.startswith("MC-")


def test_the_callers_own_view_signed_in_with_screenshots_and_axe(
    served: Served, fresh: Chrome
) -> None:
    pages = served.pages()
    start = utcnow() - timedelta(minutes=5)
    served.run(bill_call(served.db, pages.serial, "view-1", 95, dialed=ADVISOR, caller=LINE,
                         start=start))  # fmt: skip
    axe = axe_source()
    fresh.get(f"{pages.url}/pay/astro/account")
    shoot(fresh, "6-sign-in")
    assert axe_violations(fresh, axe) == []
    fresh.find_element(By.ID, "line").send_keys(LINE_NATIONAL)
    fresh.find_element(By.ID, "pin").send_keys(pages.pin + Keys.ENTER)
    rows = fresh.find_elements(By.CSS_SELECTOR, "#calls tbody tr")
    # 95 s billed 60/1 at 1.99 €/min: 3.15083… €, rounded up to the 1/10,000
    assert [r.text.split(" ", 2)[-1] for r in rows] == [f"{ADVISOR} 95 3,1509 €"]
    shoot(fresh, "7-account")
    assert axe_violations(fresh, axe) == []
    fresh.find_element(By.CSS_SELECTOR, "button.secondary").click()  # sign out
    assert fresh.find_element(By.ID, "pin").is_displayed()

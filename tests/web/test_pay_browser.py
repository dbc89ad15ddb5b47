"""The pay pages in Debian's Chromium: the flow by mouse and by keyboard, a wrong amount typed
into the address, framing by an allowed and a refused site, axe-core, screenshots."""

from __future__ import annotations

import pytest
from aiohttp import web
from selenium.webdriver import Chrome
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import func, select

from cards.models import Order
from testbed.postgres import free_port
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
from tests.web.conftest import LINE_NATIONAL

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
    assert fresh.find_element(By.ID, "amount").text == "25,00 €"
    shoot(fresh, "3-checkout")
    assert axe_violations(fresh, axe) == []
    fresh.get(f"{pages.url}/pay/astro?lang=en")
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shoot(fresh, "1-start-en")


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
    assert fresh.find_element(By.TAG_NAME, "h1").text.startswith("Karte …")
    ActionChains(fresh).send_keys(Keys.TAB, Keys.TAB, Keys.ENTER).perform()  # 15,00 €
    assert fresh.find_element(By.ID, "amount").text == "15,00 €"

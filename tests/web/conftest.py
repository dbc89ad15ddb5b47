"""The API with the pay pages on a free port, over a money project whose card is bound to a line
(its PIN activated from there), for page tests with an HTTP client and with a browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from cards.db import Database
from cards.journal import Journal
from cards.services import activation
from pbx_engine.allowlist import Allowlist
from pbx_engine.api.app import Api, Status, serve
from pbx_engine.api.limits import Limits
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings, ProjectPayments
from pbx_engine.web.routes import mount
from pbx_engine.web.settings import WebSettings
from pbx_engine.web.site import Site
from testbed.astro import SECRET
from testbed.postgres import free_port
from tests.cards.helpers import project_with_cards

EUR = 10_000
LINE = "+491711234567"
LINE_NATIONAL = "0171 1234567"
SHOP = {"denominations": [15 * EUR, 25 * EUR, 50 * EUR], "pin_length": 8, "lockout_failures": 3}
WEBHOOK_SECRET = "whsec-of-the-page-tests-0123"
BANK = ("Astro Hotline GmbH", "IBAN DE02 1203 0000 0000 2020 51", "BIC BYLADEM1001")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@dataclass
class Pages:
    url: str
    serial: str
    pin: str
    site: Site
    card_id: int


async def start_pages(
    db: Database,
    tmp_path: Path,
    frame_ancestors: tuple[str, ...] = (),
    shop_url: str = "https://shop.example/pay",
    trusted_proxies: Allowlist | None = None,
) -> tuple[Pages, web.AppRunner]:
    """The pages with ``transfer`` and ``webhook`` (its shop page at ``shop_url``) offered,
    served by the API's listener with its ``[api] trusted_proxies``."""
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    bound = await activation.activate(db, "astro", LINE, card.pin, secret=SECRET)
    assert bound.card is not None
    status = Status(lambda: True, lambda: 0, lambda: 0, Journal(tmp_path / "j.jsonl"))
    settings = WebSettings(
        secret=b"web-secret-of-the-tests-0123456789",
        frame_ancestors=frame_ancestors,
        operator="Astro Hotline",
        support="0800 1234567",
        secure_cookies=False,  # plain http on loopback: a browser would not send Secure cookies
    )
    offered = ProjectPayments(("transfer", "webhook"), WEBHOOK_SECRET, shop_url)
    payments = Payments(db, PaymentSettings(projects={"astro": offered}, bank_lines=BANK))
    sites: list[Site] = []

    def pages(app: web.Application) -> None:
        sites.append(mount(app, db, settings, SECRET, payments))

    port = free_port()
    runner = await serve(
        Api(db, status, Limits(trusted_proxies=trusted_proxies)),
        "127.0.0.1",
        port,
        [PaymentRoutes(payments).add_to, pages],
    )
    url = f"http://127.0.0.1:{port}"
    return Pages(url, card.serial, card.pin, sites[0], bound.card.id), runner


@pytest.fixture
async def pages(db: Database, tmp_path: Path) -> AsyncIterator[Pages]:
    found, runner = await start_pages(db, tmp_path)
    yield found
    await runner.cleanup()


def client() -> aiohttp.ClientSession:
    """A browser-like client: it keeps the cookies of 127.0.0.1 (aiohttp's jar drops an IP
    host's by default)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def form_token(session: aiohttp.ClientSession, url: str) -> str:
    """GET a page with a form (the CSRF cookie lands in the session) and its token."""
    async with session.get(url) as resp:
        match = CSRF.search(await resp.text())
    assert match, f"no CSRF token on {url}"
    return match.group(1)

"""The end-to-end world: a database, built prompts, a private Asterisk, the engine, SIPp."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from cards.db import Database
from cards.journal import Journal
from cards.services import projects, tokens
from cards.services.cardbatch import NewCard
from cards.services.strict_audit import strict_audit
from dialplan.render import RoutedNumber, render_numbers
from pbx_engine.agi.app import AgiApp
from pbx_engine.agi.app import serve as serve_agi
from pbx_engine.agi.routes import AgiRoutes
from pbx_engine.api.app import Api, Status
from pbx_engine.api.app import serve as serve_api
from pbx_engine.ari.client import AriClient
from pbx_engine.ari.events import AriEvent
from pbx_engine.clock import RealClock
from pbx_engine.credit_watch import CreditWatcher
from pbx_engine.engine import Engine, EngineConfig
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings, ProjectPayments
from pbx_engine.web.routes import mount
from pbx_engine.web.settings import web_settings
from prompts.build import build_language
from prompts.languages import LANGUAGES
from testbed import rtp_pcap, sipp
from testbed.asterisk import ARI_USER, PrivateAsterisk
from testbed.astro import astro_project
from testbed.postgres import free_port

SECRET = b"e2e-secret-for-pins-0123456789"
PAY_WEBHOOK_SECRET = "whsec-of-the-e2e-world-0123"
"""What the world's shop signs its webhook callbacks with (``pbx_engine.payments.webhook``)."""
PAY_BANK = ("Astro Hotline GmbH", "IBAN DE02 1203 0000 0000 2020 51", "BIC BYLADEM1001")


@dataclass
class Recorder:
    """Keeps the raw ARI events of a run, to store as replay fixtures."""

    events: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def keep(self, raw: dict[str, Any]) -> None:
        self.events.append(raw)

    def save(self, path: Path) -> None:
        header = {"type": "_minutecard_meta", **self.meta}
        lines = [json.dumps(e, sort_keys=True) for e in [header, *self.events]]
        path.write_text("\n".join(lines) + "\n")


async def observe(asterisk: PrivateAsterisk, seen: list[dict[str, Any]]) -> None:
    """An ARI app of the test's own subscribed to everything: what Asterisk did (prompts played,
    with its stamps), seen from outside the engine, whose own stream is filtered."""
    auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, asterisk.password)}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.ws_connect(
            asterisk.ari_url.replace("http", "ws", 1) + "/ari/events",
            params={"app": "observer", "subscribeAll": "true"},
        ) as ws,
    ):
        async for message in ws:
            seen.append(json.loads(message.data))


@dataclass
class E2EWorld:
    root: Path
    db: Database
    asterisk: PrivateAsterisk
    engine: Engine
    card: NewCard
    recorder: Recorder
    observed: list[dict[str, Any]]
    agi_port: int
    api_url: str
    api_token: str
    pay_url: str = ""
    """The project's top-up page (/pay/astro), served with the API."""

    async def call(
        self, dialed: str, caller: str, **kw: Any
    ) -> tuple[sipp.SippRun, sipp.SippRun | None]:
        return await place_call(self.root, self.asterisk, dialed, caller, **kw)


async def place_call(
    root: Path,
    asterisk: PrivateAsterisk,
    dialed: str,
    caller: str,
    *,
    pcap_seconds: int,
    digits: dict[int, str] | None = None,
    hang_up_ms: int | None = None,
    advisor: str | None = "talk",
    ring_ms: int = 500,
    name: str = "call",
    timeout_s: int = 120,
) -> tuple[sipp.SippRun, sipp.SippRun | None]:
    """One SIPp call from ``caller`` to ``dialed``; an advisor UAS answers if asked."""
    pcap = root / f"{name}.pcap"
    rtp_pcap.build(pcap, pcap_seconds, digits or {})
    silence = root / f"{name}_advisor.pcap"
    rtp_pcap.build(silence, pcap_seconds, {})
    advisor_task = None
    if advisor is not None:
        advisor_task = asyncio.create_task(
            sipp.run_sipp(
                root,
                f"{name}_advisor",
                sipp.advisor_xml(busy=advisor == "busy", ring_ms=ring_ms),
                target=None,
                port=asterisk.advisor_port,
                media_port=free_port(),
                keys={"pcap": str(silence)},
                timeout_s=timeout_s,
            )
        )
        await asyncio.sleep(0.3)
    keys = {"caller": caller, "pcap": str(pcap)}
    caller_run = await sipp.run_sipp(
        root,
        f"{name}_caller",
        sipp.caller_xml(hang_up_ms=hang_up_ms),
        target=f"127.0.0.1:{asterisk.sip_port}",
        port=free_port(),
        media_port=free_port(),
        keys=keys,
        service=dialed,
        timeout_s=timeout_s,
    )
    advisor_run = None
    if advisor_task is not None:
        try:
            advisor_run = await asyncio.wait_for(advisor_task, 15)
        except TimeoutError:
            advisor_task.cancel()
    return caller_run, advisor_run


def build_sounds(target: Path) -> Path:
    for lang in LANGUAGES:
        build_language(lang, engine="espeak", target=target)
    return target


@contextlib.asynccontextmanager
async def e2e_world(
    root: Path,
    sounds: Path,
    *,
    credit_seconds: int,
    warning_lead: int,
    unit: str = "minutes",
    mode: str = "ari",
    login_number: str | None = None,
    denominations: tuple[int, ...] = (),
    shop_url: str = "http://127.0.0.1:9/shop",
) -> AsyncIterator[E2EWorld]:
    """``sounds`` holds built prompts (``build_sounds``); the rest is made fresh per world.
    ``mode="agi"`` renders the AGI dialplan and serves FastAGI beside the engine. The API serves
    the pay pages, selling ``denominations`` by transfer or through the shop at ``shop_url``."""
    db = Database(f"sqlite+aiosqlite:///{root / 'e2e.sqlite3'}")
    settings: dict[str, Any] = {"warning_lead": warning_lead}
    if denominations:
        settings["denominations"] = list(denominations)
    card = await astro_project(db, secret=SECRET, credit=credit_seconds, unit=unit,
                               settings=settings)  # fmt: skip
    if login_number is not None:  # advisors log in and out here (issue 23)
        await projects.add_number(db, "astro", login_number, "login")
    numbers = [RoutedNumber(n.e164, n.role, "astro") for n in await projects.list_numbers(db)]
    agi_port = free_port()
    dialplan = render_numbers(numbers, mode=mode, agi=f"agi://127.0.0.1:{agi_port}")
    asterisk = PrivateAsterisk.prepare(dialplan, sounds / "minutecard")
    recorder = Recorder(
        meta={
            "credit_seconds": credit_seconds,
            "warning_lead": warning_lead,
            "unit": unit,
            "pin": card.pin,
        }
    )
    try:
        await asterisk.start()
        async with AriClient(asterisk.ari_url, ARI_USER, asterisk.password, "minutecard") as ari:
            ari.on_raw = recorder.keep
            config = EngineConfig(pin_secret=SECRET, journal=Journal(root / "journal.jsonl"))
            engine = Engine(ari, db, RealClock(), config)
            watcher = CreditWatcher(db, engine.credit_changed, engine.recheck_credit)
            api_port = free_port()
            status = Status(
                lambda: ari.connected, lambda: len(engine.calls), lambda: engine.settler.retries,
                config.journal, live_talks=engine.live_talks,
            )  # fmt: skip
            offered = ProjectPayments(("transfer", "webhook"), PAY_WEBHOOK_SECRET, shop_url)
            payments = Payments(
                db, PaymentSettings(projects={"astro": offered}, bank_lines=PAY_BANK)
            )
            # plain http on loopback: a browser would not send Secure cookies back
            web_pages = web_settings({"operator": "Astro Hotline", "secure_cookies": False}, SECRET)

            def pages(app: web.Application) -> None:
                mount(app, db, web_pages, SECRET, payments)

            more = [PaymentRoutes(payments).add_to, pages]
            api_runner = await serve_api(Api(db, status), "127.0.0.1", api_port, more)
            token, _ = await tokens.create(db, "astro", "write")
            routes = AgiRoutes(db, engine.settler, SECRET)
            agi_server = await serve_agi(AgiApp(routes.table()), "127.0.0.1", agi_port)
            observed: list[dict[str, Any]] = []
            tasks = [
                asyncio.create_task(engine.run()),
                asyncio.create_task(watcher.run()),
                asyncio.create_task(observe(asterisk, observed)),
            ]
            for _ in range(100):
                if ari.connected:
                    break
                await asyncio.sleep(0.05)
            yield E2EWorld(
                root, db, asterisk, engine, card, recorder, observed, agi_port,
                f"http://127.0.0.1:{api_port}", token,
                pay_url=f"http://127.0.0.1:{api_port}/pay/astro",
            )  # fmt: skip
            agi_server.close()
            await api_runner.cleanup()
            await payments.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # The books a real call left must prove themselves, as every test database's do.
            if breaches := await strict_audit(db):
                raise AssertionError(
                    "the strict audit fails: "
                    + "; ".join(f"{b.invariant}: {b.subject}" for b in breaches)
                )
    finally:
        asterisk.stop()
        await db.close()


__all__ = ["AriEvent", "E2EWorld", "e2e_world"]

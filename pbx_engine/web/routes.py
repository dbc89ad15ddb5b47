"""``mount``: the pay pages as a sub-application under ``/pay`` of the API's application."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from cards.db import Database
from pbx_engine.payments.service import Payments
from pbx_engine.web import account, topup
from pbx_engine.web.guard import SETTINGS, guard
from pbx_engine.web.settings import WebSettings
from pbx_engine.web.site import SITE, Site

HERE = Path(__file__).parent
CSS = (HERE / "static" / "pay.css").read_bytes()


async def css(_request: web.Request) -> web.Response:
    cache = {"Cache-Control": "max-age=3600"}
    return web.Response(body=CSS, content_type="text/css", headers=cache)


def pages(site: Site) -> web.Application:
    app = web.Application(middlewares=[guard])  # bodies: the API's 64 KiB limit
    app[SETTINGS] = site.settings
    app[SITE] = site
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.ChainableUndefined,
    )
    app.router.add_get("/static/pay.css", css)
    app.router.add_get("/{project}", topup.start, name="start")
    app.router.add_post("/{project}", topup.lookup, name="lookup")
    app.router.add_get("/{project}/card", topup.card, name="card")
    app.router.add_get("/{project}/checkout", topup.checkout, name="checkout")
    app.router.add_post("/{project}/checkout", topup.pay, name="pay")
    app.router.add_get("/{project}/orders/{reference}", topup.order, name="order")
    app.router.add_get("/{project}/account", account.show, name="account")
    app.router.add_post("/{project}/account", account.sign_in, name="sign_in")
    app.router.add_post("/{project}/account/logout", account.sign_out, name="sign_out")
    app.router.add_get("/{project}/account/statement.pdf", account.statement, name="statement")
    return app


def mount(
    app: web.Application,
    db: Database,
    settings: WebSettings,
    pin_secret: bytes,
    payments: Payments | None = None,
) -> Site:
    """Serve the pay pages under /pay of ``app`` (the API's), orders paid through ``payments``
    (none: the caller's own view only); the shared state is returned so a test can tighten its
    limits."""
    site = Site(db, settings, pin_secret, payments=payments)
    app.add_subapp("/pay", pages(site))
    return site

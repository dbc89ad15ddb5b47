"""What the pages share while ``cardengine`` runs: the database, the settings, the rate limits,
the top-ups in progress and the signed-in callers; and the slow-enough answer to a lookup."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from cards.db import Database
from pbx_engine.api.client import client_of, limit_key
from pbx_engine.payments.service import Payments
from pbx_engine.web.guard import PageError
from pbx_engine.web.limits import RateLimit, Tokens, monotonic_ms
from pbx_engine.web.settings import WebSettings

WINDOW_MS = 600_000
LOOKUP_FLOOR_MS = 300
"""Every lookup (card or sign-in) answers no sooner than this after it arrived, found or not:
a known line must not answer in another time class than an unknown one."""


@dataclass(frozen=True)
class Flow:
    """A top-up in progress: the card the caller named, never shown or sent back whole."""

    project: str
    line: str
    serial: str


@dataclass(frozen=True)
class Caller:
    """A signed-in caller's card."""

    project: str
    card_id: int


@dataclass
class Site:
    db: Database
    settings: WebSettings
    pin_secret: bytes
    per_client: RateLimit = field(default_factory=lambda: RateLimit(30, WINDOW_MS))
    per_line: RateLimit = field(default_factory=lambda: RateLimit(10, WINDOW_MS))
    flows: Tokens[Flow] = field(default_factory=lambda: Tokens(1_800_000))
    callers: Tokens[Caller] = field(default_factory=lambda: Tokens(900_000, sliding=True))
    payments: Payments | None = None
    paid: Tokens[Flow] = field(default_factory=lambda: Tokens(3_600_000))
    """Orders this server's page made, by reference: whose minutes the order's page shows."""
    floor_ms: int = LOOKUP_FLOOR_MS

    def offered(self, project: str) -> tuple[str, ...]:
        return self.payments.offered(project) if self.payments is not None else ()

    def count_lookup(self, request: web.Request, line_key: str) -> None:
        """One lookup by this client and of this line; a 429 page when either is over."""
        client = limit_key(client_of(request))
        for limit, key in ((self.per_client, client), (self.per_line, line_key)):
            wait = limit.hit(key)
            if wait is not None:
                raise PageError(429, "too_many", retry_after=wait)

    async def floor(self, started_ms: int) -> None:
        left = started_ms + self.floor_ms - monotonic_ms()
        if left > 0:
            await asyncio.sleep(left / 1000)


SITE = web.AppKey("pay_site", Site)

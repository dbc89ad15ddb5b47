"""Delivers the webhook outbox: each due event POSTed signed with its webhook's secret, retried
with capped exponential backoff and jitter, dead after ``MAX_ATTEMPTS``; every attempt kept."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from cards.db import Database
from cards.journal import STORAGE_ERRORS
from cards.services import webhooks
from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.webhooks")

MAX_ATTEMPTS = 16
BASE_S = 10
CAP_S = 3600
"""Waits of about 10 s, 20 s, 40 s … never over an hour: a shop away for about 7 hours still
gets the event; the 16th failure is the last."""
POLL_MS = 5_000
"""Deliveries this process queues wake the sender at once; the poll finds retries that came
due and what other processes (``cardadmin``, another engine) queued. Polling every second
was a third of an idle engine's CPU (a database round trip and its ping each time)."""
TIMEOUT_S = 10
SIGNATURE = "Minutecard-Signature"


def signature(secret: str, t: int, body: bytes) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the receiver recomputes it and
    refuses an old ``t`` (a replay)."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def backoff(attempts: int, rand: random.Random) -> timedelta | None:
    """The wait after ``attempts`` failed tries: half the capped exponential ceiling plus a
    random part of the other half (so receivers that come back are not hit all at once)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    ceiling_ms = min(CAP_S, BASE_S * 2 ** (attempts - 1)) * 1000
    return timedelta(milliseconds=ceiling_ms // 2 + rand.randrange(ceiling_ms // 2 + 1))


class WebhookSender:
    def __init__(self, db: Database, clock: Clock, rand: random.Random | None = None) -> None:
        self.db, self.clock = db, clock
        self.rand = rand or random.SystemRandom()
        self.outcomes: Counter[str] = Counter()
        """Attempts by outcome: ``delivered``, ``retry``, ``dead`` (the metric)."""

    def wall(self) -> datetime:
        """Now, to the millisecond: an event queued 0.7 s into a second is due at once (cut to
        the second, it waited for the next poll)."""
        ms = self.clock.wall_ms()
        return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            wake = asyncio.Event()
            remove = self.db.on_outbox(wake.set)
            try:
                while True:
                    wake.clear()
                    if await self.send_due(http) < webhooks.DUE_BATCH:
                        await self._until_poll_or(wake)
            finally:
                remove()

    async def _until_poll_or(self, wake: asyncio.Event) -> None:
        poll = asyncio.ensure_future(self.clock.sleep_until(self.clock.now_ms() + POLL_MS))
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait((poll, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            poll.cancel()
            woken.cancel()

    async def send_due(self, http: aiohttp.ClientSession) -> int:
        """Try every delivery due now; how many were tried. A database away waits a poll."""
        try:
            due = await webhooks.due(self.db, self.wall())
            for job in due:
                await self._send(http, job)
        except STORAGE_ERRORS as exc:
            log.warning("webhooks: database away (%s); deliveries wait until it is back", exc)
            return 0
        return len(due)

    async def _send(self, http: aiohttp.ClientSession, job: webhooks.Due) -> None:
        body = json.dumps(job.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE: signature(job.secret, self.clock.wall_ms() // 1000, body),
            "Minutecard-Event-Id": str(job.payload["id"]),
        }
        start = self.clock.now_ms()
        status: int | None = None
        error: str | None = None
        try:
            # Never follow a redirect: the shop's endpoint must not aim our signed POST at
            # another host (an internal service); a 3xx is a failed try like any other.
            async with http.post(
                job.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                if not 200 <= status < 300:
                    error = f"answered {status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        attempt = webhooks.Attempt(status, self.clock.now_ms() - start, error, self.wall())
        retry = backoff(job.attempts + 1, self.rand) if error else None
        state = await webhooks.record(self.db, job.id, attempt, retry_in=retry)
        outcome = {"delivered": "delivered", "dead": "dead", "pending": "retry"}.get(state)
        if outcome:
            self.outcomes[outcome] += 1
        if outcome == "dead":
            log.warning("webhook delivery %d to %s is dead: %s", job.id, job.url, error)


class DeliveryOutcomes(Collector):
    """``minutecard_webhook_deliveries_total{outcome}`` from a sender's counts."""

    def __init__(self, sender: WebhookSender | None) -> None:
        self.sender = sender

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "minutecard_webhook_deliveries", "webhook delivery attempts by outcome",
            labels=["outcome"],
        )  # fmt: skip
        counts = self.sender.outcomes if self.sender else Counter[str]()
        for outcome in ("delivered", "retry", "dead"):
            family.add_metric([outcome], counts[outcome])
        yield family

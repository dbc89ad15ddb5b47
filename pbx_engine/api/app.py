"""The balance API (``/v1``, a bearer token per project), ``/health`` and ``/metrics``. Errors
are RFC 9457 problem details (``application/problem+json``) with a stable ``code``; a card of
another project is 404, never 403."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy.exc import IntegrityError

from cards.clock import utcnow
from cards.db import Database
from cards.errors import (
    BelowMinimum,
    CardsError,
    Conflict,
    DenominationNotAllowed,
    InvalidInput,
    NotFound,
)
from cards.journal import STORAGE_ERRORS, Journal
from cards.services import advisors, api_lists, api_views, line_prices, tokens
from cards.validate import PG_INTEGER_MAX, idempotency_key
from pbx_engine.api import health, middleware, openapi_doc, server
from pbx_engine.api.card_routes import CardRoutes
from pbx_engine.api.client import TRUSTED_PROXIES
from pbx_engine.api.limits import Limits
from pbx_engine.api.metrics import Instruments, Totals
from pbx_engine.api.middleware import GRANT
from pbx_engine.api.orders_routes import OrderRoutes
from pbx_engine.api.pagination import PAGE_PARAMS, page_of
from pbx_engine.api.problem import problem as _error
from pbx_engine.api.throttle import AuthThrottle
from pbx_engine.pressure import LAG_BUCKETS_MS
from pbx_engine.webhook_sender import DeliveryOutcomes, WebhookSender

MAX_BODY = 64 * 1024
METRICS_DB_TIMEOUT_S = 1
DEFAULT_LIMITS = Limits()


@dataclass
class Status:
    """What /health and /metrics read from the running engine."""

    ari_connected: Callable[[], bool]
    live_calls: Callable[[], int]
    settle_retries: Callable[[], int]
    journal: Journal
    live_talks: Callable[[int], list[dict[str, object]]] = lambda _project: []
    outcomes: Callable[[], Mapping[str, int]] = dict
    billed_seconds: Callable[[], int] = int
    ari_connects: Callable[[], int] = int
    webhooks: WebhookSender | None = None
    refused: Callable[[], Mapping[str, int]] = dict
    loop_lag: Callable[[], tuple[list[int], int]] = lambda: ([0] * (len(LAG_BUCKETS_MS) + 1), 0)
    """The lag probe's samples per bucket of LAG_BUCKETS_MS (the last past all) and their sum."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _status_of(exc: CardsError) -> int:
    """404 unknown; 409 a contradicting write (a reused key); 400 a value the domain does not
    take; 422 a well-formed request the card's state or the project's rules refuse."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InvalidInput) and not isinstance(exc, DenominationNotAllowed | BelowMinimum):
        return 400
    return 422


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class Api:
    def __init__(
        self, db: Database, status: Status, limits: Limits = DEFAULT_LIMITS, server_url: str = ""
    ) -> None:
        self.db, self.status, self.server_url = db, status, server_url
        self.registry = CollectorRegistry()
        self.instruments = Instruments(self.registry)
        self.requests = self.instruments.requests
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "minutecard_live_calls": ("calls the engine holds now", status.live_calls),
            "minutecard_ari_connected": (
                "1 while the ARI WebSocket is up",
                lambda: int(status.ari_connected()),
            ),
            "minutecard_journal_pending": (
                "settlements waiting in the journal",
                lambda: len(status.journal.pending()),
            ),
        }
        for name, (text, read) in gauges.items():
            Gauge(name, text, registry=self.registry).set_function(read)
        self.open_holds = Gauge("minutecard_open_holds", "holds of live calls (database)",
                                registry=self.registry)  # fmt: skip
        self.registry.register(_Outcomes(status))
        self.registry.register(
            Totals(
                {
                    "minutecard_settle_retries": (
                        "settles retried since start",
                        status.settle_retries,
                    ),
                    "minutecard_billed_seconds": (
                        "seconds billed since start",
                        status.billed_seconds,
                    ),
                    "minutecard_ari_connects": (
                        "ARI WebSocket connects since start (more than 1: reconnects)",
                        status.ari_connects,
                    ),
                }
            )
        )
        self.limits = limits
        self.throttle = AuthThrottle(limits.auth_failures, limits.auth_window_seconds)
        self.registry.register(DeliveryOutcomes(status.webhooks))

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_BODY, middlewares=[*middleware.stack(self), self._errors]
        )
        if self.limits.trusted_proxies is not None:
            app[TRUSTED_PROXIES] = self.limits.trusted_proxies
        app.router.add_get("/health", self.health)
        health.add_routes(app, self.db, self.status)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/v1/openapi.json", self.openapi)
        app.router.add_get("/v1/cards/{serial}", self.card)
        app.router.add_post("/v1/cards/{serial}/topups", self.topup)
        app.router.add_post("/v1/cards/{serial}/credits", self.credit)
        app.router.add_post("/v1/cards/{serial}/debits", self.debit)
        app.router.add_get("/v1/cards/{serial}/transactions", self.transactions)
        app.router.add_get("/v1/lines/{line}", self.line)
        app.router.add_put("/v1/lines/{line}/price", self.set_line_price)
        app.router.add_delete("/v1/lines/{line}/price", self.clear_line_price)
        app.router.add_get("/v1/calls", self.calls)
        app.router.add_get("/v1/live-calls", self.live_calls)
        CardRoutes(self.db, self._grant, self._move, _json).add(app)
        app.router.add_get("/v1/advisors", self.advisor_list)
        app.router.add_post("/v1/advisors/{name}/login", self.advisor_login)
        app.router.add_post("/v1/advisors/{name}/logout", self.advisor_logout)
        OrderRoutes(self.db, self._grant).add_to(app)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        try:
            response = await handler(request)
        except ApiError as exc:
            response = _error(exc.status, exc.code, exc.message)
        except web.HTTPRequestEntityTooLarge:
            response = _error(413, "too_large", f"the body is over {MAX_BODY // 1024} KiB")
        except web.HTTPException as exc:
            response = _error(exc.status, HTTP_CODES.get(exc.status, "http"), exc.reason)
        except CardsError as exc:
            response = _error(_status_of(exc), exc.code, str(exc))
        except IntegrityError:
            # A twin request wrote the same row first: the database answers, nothing moved.
            response = _error(409, "conflict", "another request changed this at the same time")
        except STORAGE_ERRORS:
            response = _error(503, "unavailable", "the database does not answer; try again")
        self.requests.labels(name, str(response.status)).inc()
        return response

    async def _grant(self, request: web.Request, *, write: bool = False) -> tokens.Grant:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        grant = await tokens.authenticate(self.db, token.strip()) if scheme == "Bearer" else None
        if grant is None:
            raise ApiError(401, "unauthorized", "a valid bearer token is needed")
        request[GRANT] = grant  # the access log names the token by its id
        if write and not grant.writes:
            raise ApiError(403, "forbidden", "this token may only read")
        return grant

    async def health(self, request: web.Request) -> web.Response:
        database = await health.database_answers(self.db)
        pending = len(self.status.journal.pending())
        body = {
            "ari_connected": self.status.ari_connected(),
            "database": database,
            "journal_pending": pending,
            "live_calls": self.status.live_calls(),
        }
        healthy = body["ari_connected"] and database and pending == 0
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        """From memory; the database's one value is refreshed when it answers in time (the
        moment it does not is when an operator reads this)."""
        try:
            async with asyncio.timeout(METRICS_DB_TIMEOUT_S):
                self.open_holds.set(await api_views.open_holds(self.db))
            self.instruments.database_up.set(1)
        except (*STORAGE_ERRORS, TimeoutError):
            self.instruments.database_up.set(0)
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def card(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        view = await api_views.card_view(self.db, grant.project_id, request.match_info["serial"])
        return web.json_response(view)

    async def openapi(self, request: web.Request) -> web.Response:
        url = self.server_url or f"{request.scheme}://{request.host}"
        return web.Response(text=openapi_doc.served(url), content_type="application/json")

    async def transactions(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        serial = request.match_info["serial"]
        unknown = set(request.query) - PAGE_PARAMS
        if unknown:
            raise ApiError(
                400, "unknown_field", f"unknown parameters: {', '.join(sorted(unknown))}"
            )
        page = page_of(request.query, f"transactions {serial}")
        rows = await api_lists.transactions(
            self.db, grant.project_id, serial, page.after_id, page.limit
        )
        return web.json_response(page.answer(rows.items, rows.ids))

    async def line(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        view = await api_views.line_view(self.db, grant.project_id, request.match_info["line"])
        return web.json_response(view)

    async def set_line_price(self, request: web.Request) -> web.Response:
        """The line's own tariff in the token's project (seed 004), audited to the token."""
        grant = await self._grant(request, write=True)
        body = await _json(request)
        if set(body) != {"tariff"} or not isinstance(body["tariff"], str):
            raise ApiError(
                400, "tariff", 'the body is {"tariff": "<one of the project\'s tariffs>"}'
            )
        line, tariff = await line_prices.set_price(
            self.db, grant.project_id, request.match_info["line"], body["tariff"],
            actor=grant.actor,
        )  # fmt: skip
        return web.json_response({"line": line, "tariff": tariff})

    async def clear_line_price(self, request: web.Request) -> web.Response:
        grant = await self._grant(request, write=True)
        line = await line_prices.clear_price(
            self.db, grant.project_id, request.match_info["line"], actor=grant.actor
        )
        return web.json_response({"line": line, "tariff": None})

    async def calls(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        query = request.query
        unknown = set(query) - {"caller", "card", "since"} - PAGE_PARAMS
        if unknown:
            raise ApiError(
                400, "unknown_field", f"unknown parameters: {', '.join(sorted(unknown))}"
            )
        since = None
        if "since" in query:
            try:
                since = datetime.strptime(query["since"], "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError as exc:
                raise ApiError(400, "since", "since: a date as YYYY-MM-DD") from exc
        where = api_lists.CallFilter(query.get("caller"), query.get("card"), since)
        page = page_of(query, "calls " + json.dumps([where.caller, where.serial, str(since)]))
        rows = await api_lists.calls(self.db, grant.project_id, where, page.after_id, page.limit)
        return web.json_response(page.answer(rows.items, rows.ids))

    async def live_calls(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        return web.json_response(self.status.live_talks(grant.project_id))

    async def advisor_list(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        return web.json_response(await advisors.api_view(self.db, grant.project_id))

    async def advisor_login(self, request: web.Request) -> web.Response:
        return await self._login(request, logged_in=True)

    async def advisor_logout(self, request: web.Request) -> web.Response:
        return await self._login(request, logged_in=False)

    async def _login(self, request: web.Request, *, logged_in: bool) -> web.Response:
        grant = await self._grant(request, write=True)
        name = request.match_info["name"]
        done = await advisors.set_login(
            self.db, grant.project_id, name, logged_in, actor=grant.actor
        )
        return web.json_response(advisors.advisor_view(done.advisor, utcnow(), done.tariff))

    async def topup(self, request: web.Request) -> web.Response:
        return await self._move(request, "topup", {"amount"})

    async def credit(self, request: web.Request) -> web.Response:
        return await self._move(request, "credit", {"amount", "reason"})

    async def debit(self, request: web.Request) -> web.Response:
        return await self._move(request, "debit", {"amount", "reason"})

    async def _move(self, request: web.Request, kind: str, fields: set[str]) -> web.Response:
        grant = await self._grant(request, write=True)
        key = request.headers.get("Idempotency-Key", "")
        try:
            idempotency_key(key)
        except CardsError as exc:
            raise ApiError(400, "idempotency_key", f"Idempotency-Key header: {exc}") from exc
        body = await _json(request)
        unknown = set(body) - fields
        if unknown:
            raise ApiError(400, "unknown_field", f"unknown fields: {', '.join(sorted(unknown))}")
        amount = body.get("amount")
        if type(amount) is not int or not 0 < amount <= PG_INTEGER_MAX:
            raise ApiError(
                400, "amount", "amount: a whole number above 0 in the project's unit "
                "(1/10,000 EUR or card seconds)",
            )  # fmt: skip
        if "reason" in fields and not isinstance(body.get("reason"), str):
            raise ApiError(400, "reason", "reason: a text for the books")
        serial = request.match_info["serial"]
        moved = await api_views.move(
            self.db,
            api_views.MoveRequest(
                project_id=grant.project_id, serial=serial, kind=kind, body=body, key=key,
                fingerprint=api_views.fingerprint(request.method, request.path, body),
                actor=grant.actor, token_id=grant.token_id,
            ),
        )  # fmt: skip
        headers = {"Idempotent-Replayed": "true"} if moved.replayed else {}
        return web.json_response(moved.body, status=moved.status, headers=headers)


class _Outcomes(Collector):
    """Calls by how they ended (as the settler counted them), new calls refused at the door,
    and the event loop's lag that sheds them."""

    def __init__(self, status: Status) -> None:
        self.status = status

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        family = CounterMetricFamily(
            "minutecard_calls", "settled calls by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(self.status.outcomes().items()):
            family.add_metric([outcome], count)
        yield family
        refused = CounterMetricFamily(
            "minutecard_calls_refused",
            "new calls refused with congestion, by reason (max_calls, loop_lag, ari_slow)",
            labels=["reason"],
        )
        for reason, count in sorted(self.status.refused().items()):
            refused.add_metric([reason], count)
        yield refused
        counts, total = self.status.loop_lag()
        cumulative = list(accumulate(counts))
        yield HistogramMetricFamily(
            "minutecard_event_loop_lag_ms",
            "how late the engine's 100 ms probe woke up (every call's timers are that late too)",
            buckets=[
                *((str(bound), n) for bound, n in zip(LAG_BUCKETS_MS, cumulative, strict=False)),
                ("+Inf", cumulative[-1]),
            ],
            sum_value=total,
        )


def _no_float(text: str) -> Any:
    raise ApiError(400, "amount", f"{text[:20]} is not a whole number: no floats for money")


async def _json(request: web.Request) -> dict[str, Any]:
    """The request's body as a JSON object (415 unless it says it is JSON)."""
    if request.content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "send the body as Content-Type: application/json"
        )
    raw = await request.read()
    try:
        data = json.loads(raw, parse_float=_no_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", "the body is not JSON") from exc
    except RecursionError as exc:
        raise ApiError(400, "bad_json", "the body is nested too deeply") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return data


async def serve(
    api: Api, host: str, port: int, more: Sequence[Callable[[web.Application], None]] = ()
) -> web.AppRunner:
    """Serve the API, and the routes each of ``more`` adds (the payment callbacks)."""
    app = api.app()
    for add in more:
        add(app)
    return await server.serve(app, api.limits, api.instruments, host, port)

"""The balance API (``/v1``, a bearer token per project), ``/health`` and ``/metrics``. Errors
are RFC 9457 problem details (``application/problem+json``) with a stable ``code``; a card of
another project is 404, never 403."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily
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
from cards.services import advisors, api_views, line_prices, tokens
from cards.validate import PG_INTEGER_MAX, idempotency_key
from pbx_engine.api.orders_routes import OrderRoutes

MAX_BODY = 64 * 1024
OPENAPI = Path(__file__).with_name("openapi.json")
LAG_PROBE_S = 0.5


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


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 503: "Service Unavailable",
}  # fmt: skip


def _error(status: int, code: str, message: str) -> web.Response:
    """An RFC 9457 problem: ``type`` names the code, ``detail`` says it for people."""
    body = {
        "type": f"urn:minutecard:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": message,
        "code": code,
    }
    return web.json_response(body, status=status, content_type=PROBLEM)


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
    def __init__(self, db: Database, status: Status) -> None:
        self.db, self.status = db, status
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "minutecard_api_requests", "API requests", ["route", "status"], registry=self.registry
        )
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "minutecard_live_calls": ("calls the engine holds now", status.live_calls),
            "minutecard_ari_connected": (
                "1 while the ARI WebSocket is up",
                lambda: int(status.ari_connected()),
            ),
            "minutecard_settle_retries": ("settles retried since start", status.settle_retries),
            "minutecard_journal_pending": (
                "settlements waiting in the journal",
                lambda: len(status.journal.pending()),
            ),
            "minutecard_billed_seconds": ("seconds billed since start", status.billed_seconds),
            "minutecard_ari_connects": (
                "ARI WebSocket connects since start (more than 1: reconnects)",
                status.ari_connects,
            ),
            "minutecard_event_loop_lag_ms": ("how late a 0.5 s sleep woke, last", self._lag),
        }
        for name, (text, read) in gauges.items():
            Gauge(name, text, registry=self.registry).set_function(read)
        self.open_holds = Gauge("minutecard_open_holds", "holds of live calls (database)",
                                registry=self.registry)  # fmt: skip
        self.registry.register(_Outcomes(status))
        self.lag_ms = 0.0

    def _lag(self) -> float:
        return self.lag_ms

    async def _watch_lag(self, _app: web.Application) -> AsyncIterator[None]:
        """A loop that waits on a call (a slow handler, a spinning reader) shows here."""

        async def measure() -> None:
            loop = asyncio.get_running_loop()
            while True:
                start = loop.time()
                await asyncio.sleep(LAG_PROBE_S)
                self.lag_ms = (loop.time() - start - LAG_PROBE_S) * 1000

        task = asyncio.create_task(measure())
        yield
        task.cancel()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors])
        app.cleanup_ctx.append(self._watch_lag)
        app.router.add_get("/health", self.health)
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
        if write and not grant.writes:
            raise ApiError(403, "forbidden", "this token may only read")
        return grant

    async def health(self, request: web.Request) -> web.Response:
        try:
            async with self.db.read() as session:
                await session.execute(api_views.select_one())
            database = True
        except STORAGE_ERRORS:
            database = False
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
        self.open_holds.set(await api_views.open_holds(self.db))
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def card(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        view = await api_views.card_view(self.db, grant.project_id, request.match_info["serial"])
        return web.json_response(view)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=OPENAPI.read_text(), content_type="application/json")

    async def transactions(self, request: web.Request) -> web.Response:
        grant = await self._grant(request)
        serial = request.match_info["serial"]
        return web.json_response(
            await api_views.card_transactions(self.db, grant.project_id, serial)
        )

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
        unknown = set(query) - {"caller", "card", "since"}
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
        records = await api_views.call_records(
            self.db, grant.project_id, caller=query.get("caller"), serial=query.get("card"),
            since=since,
        )  # fmt: skip
        return web.json_response(records)

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
        row = await advisors.set_login(self.db, grant.project_id, name, logged_in, actor="api")
        return web.json_response(advisors.advisor_view(row, utcnow()))

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
                actor=grant.actor,
            ),
        )  # fmt: skip
        headers = {"Idempotent-Replayed": "true"} if moved.replayed else {}
        return web.json_response(moved.body, status=moved.status, headers=headers)


class _Outcomes(Collector):
    """Calls by how they ended, as the settler counted them."""

    def __init__(self, status: Status) -> None:
        self.status = status

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "minutecard_calls", "settled calls by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(self.status.outcomes().items()):
            family.add_metric([outcome], count)
        yield family


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
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner

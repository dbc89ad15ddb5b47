"""``GET /v1/orders`` (the token's project, newest first, a cursor page at a time) and
``GET /v1/orders/{reference}``: callers' online top-ups as a shop or the books read them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from cards.db import Database
from cards.domain import OrderStatus
from cards.errors import InvalidInput, NotFound
from cards.services import orders
from cards.services.tokens import Grant
from pbx_engine.api.pagination import BadLimit

GrantOf = Callable[[web.Request], Awaitable[Grant]]
DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class OrderRoutes:
    def __init__(self, db: Database, grant: GrantOf) -> None:
        self.db, self.grant = db, grant

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/v1/orders", self.list)
        app.router.add_get("/v1/orders/{reference}", self.show)

    async def list(self, request: web.Request) -> web.Response:
        grant = await self.grant(request)
        query = request.query
        unknown = set(query) - {"limit", "after", "status"}
        if unknown:
            raise InvalidInput(f"unknown parameters: {', '.join(sorted(unknown))}")
        text = query.get("limit", str(DEFAULT_LIMIT))
        if not (
            text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_LIMIT
        ):
            raise BadLimit(f"limit: a whole number 1 to {MAX_LIMIT}")
        status = query.get("status")
        if status is not None and status not in set(OrderStatus):
            raise InvalidInput(f"status: one of {', '.join(OrderStatus)}")
        page = await orders.list_orders(
            self.db, project_id=grant.project_id, limit=int(text),
            status=OrderStatus(status) if status else None, after=query.get("after") or None,
        )  # fmt: skip
        return web.json_response(
            {"items": [v.as_json() for v in page.items], "next_after": page.next_after}
        )

    async def show(self, request: web.Request) -> web.Response:
        grant = await self.grant(request)
        reference = request.match_info["reference"]
        view = await orders.order_view(self.db, reference)
        if view is None or view.project_id != grant.project_id:
            raise NotFound(f"no order {reference[:20]!r}")
        return web.json_response(view.as_json())

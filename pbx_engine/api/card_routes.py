"""The API's card listing and the operator's card steps a shop may take: refund, block and
unblock, by the CLI's rules (the same service functions) and audited to the token."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from cards.db import Database
from cards.domain import CardStatus
from cards.errors import InvalidInput
from cards.services import api_lists, api_views, cardbatch, tokens
from cards.validate import PG_INTEGER_MAX
from pbx_engine.api.pagination import PAGE_PARAMS, page_of

CARD_FILTERS = frozenset({"status", "label", "batch"})


class UnknownField(InvalidInput):
    code = "unknown_field"


class BadReason(InvalidInput):
    code = "reason"


@dataclass(frozen=True)
class CardRoutes:
    """Handed the API's own token check, money move and JSON body reader (one of each)."""

    db: Database
    grant: Callable[..., Awaitable[tokens.Grant]]
    move: Callable[[web.Request, str, set[str]], Awaitable[web.Response]]
    read_json: Callable[[web.Request], Awaitable[dict[str, Any]]]

    def add(self, app: web.Application) -> None:
        app.router.add_get("/v1/cards", self.cards)
        app.router.add_post("/v1/cards/{serial}/refunds", self.refund)
        app.router.add_post("/v1/cards/{serial}/block", self.block)
        app.router.add_post("/v1/cards/{serial}/unblock", self.unblock)

    async def cards(self, request: web.Request) -> web.Response:
        grant = await self.grant(request)
        query = request.query
        unknown = set(query) - CARD_FILTERS - PAGE_PARAMS
        if unknown:
            raise UnknownField(f"unknown parameters: {', '.join(sorted(unknown))}")
        where = api_lists.CardFilter(
            status=_status(query.get("status")), label=_label(query.get("label")),
            batch=_batch(query.get("batch")),
        )  # fmt: skip
        scope = "cards " + json.dumps({k: query.get(k) for k in sorted(CARD_FILTERS)})
        page = page_of(query, scope)
        rows = await api_lists.cards(self.db, grant.project_id, where, page.after_id,
                                     page.limit)  # fmt: skip
        return web.json_response(page.answer(rows.items, rows.ids))

    async def refund(self, request: web.Request) -> web.Response:
        """Money back to the holder: idempotent as a top-up, by the operator's refund rules."""
        return await self.move(request, "refund", {"amount", "reason"})

    async def block(self, request: web.Request) -> web.Response:
        return await self._block(request, blocked=True)

    async def unblock(self, request: web.Request) -> web.Response:
        return await self._block(request, blocked=False)

    async def _block(self, request: web.Request, *, blocked: bool) -> web.Response:
        """Not a money move, so no key: blocking a blocked card is ``409 conflict`` (as the CLI
        refuses it), which a retry reads as done."""
        grant = await self.grant(request, write=True)
        body = await self.read_json(request) if request.body_exists else {}
        unknown = set(body) - {"reason"}
        if unknown:
            raise UnknownField(f"unknown fields: {', '.join(sorted(unknown))}")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise BadReason("reason: a text for the books")
        serial = request.match_info["serial"]
        await api_views.card_id_of(self.db, grant.project_id, serial)  # 404 unless its own
        await cardbatch.set_blocked(
            self.db, serial, blocked, actor=grant.actor, reason=reason or None
        )
        return web.json_response(await api_views.card_view(self.db, grant.project_id, serial))


def _status(text: str | None) -> CardStatus | None:
    if text is None:
        return None
    try:
        return CardStatus(text)
    except ValueError as exc:
        raise InvalidInput(f"status: one of {', '.join(s.value for s in CardStatus)}") from exc


def _batch(text: str | None) -> int | None:
    if text is None:
        return None
    if not (
        text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= PG_INTEGER_MAX
    ):  # ten digits hold PG_INTEGER_MAX; int() of thousands of digits raises
        raise InvalidInput("batch: the batch's number (1, 2, …)")
    return int(text)


def _label(text: str | None) -> str | None:
    if text is not None and not text.isprintable():  # PostgreSQL refuses a NUL: never ask it
        raise InvalidInput("label: printable text")
    return text

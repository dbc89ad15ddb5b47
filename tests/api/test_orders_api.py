"""``GET /v1/orders`` and ``/v1/orders/{reference}``: the token's project only, newest first, a
cursor page at a time; answers match the OpenAPI document."""

from __future__ import annotations

import base64

import jsonschema

from cards.db import Database
from cards.services import order_moves, orders
from pbx_engine.api.pagination import cursor
from tests.api.test_openapi_conformance import documented
from tests.support.api_client import PROBLEM_KEYS, Server

EUR = 10_000


async def test_pages_of_the_projects_orders(db: Database, api: Server) -> None:
    refs = []
    for _ in range(5):
        view = await orders.create_order(db, project="astro", serial=api.serial, amount=15 * EUR,
                                         provider="transfer", actor="page")  # fmt: skip
        refs.append(view.reference)
    await order_moves.mark_paid(db, refs[0], actor="alice", amount=15 * EUR)
    seen, after = [], ""
    while True:
        status, page = await api.call("GET", f"/v1/orders?limit=2{after}", api.read)
        assert status == 200
        jsonschema.validate(page, documented("/v1/orders", "get", 200) or {})
        seen += [o["reference"] for o in page["items"]]
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert seen == refs[::-1]
    status, one = await api.call("GET", f"/v1/orders/{refs[0]}", api.read)
    assert status == 200 and one["status"] == "captured" and one["credited"] == 15 * EUR
    status, captured = await api.call("GET", "/v1/orders?status=captured", api.read)
    assert [o["reference"] for o in captured["items"]] == [refs[0]]
    status, none = await api.call("GET", "/v1/orders", api.other)
    assert status == 200 and none == {"items": [], "next_after": None}
    status, problem = await api.call("GET", f"/v1/orders/{refs[0]}", api.other)
    assert status == 404 and set(problem) == PROBLEM_KEYS  # another project's: not found
    for query in ("limit=0", "limit=501", "limit=x", "after=%21%21", "status=paid", "page=2"):
        status, problem = await api.call("GET", f"/v1/orders?{query}", api.read)
        assert status == 400, query
    status, _ = await api.call("GET", "/v1/orders", None)
    assert status == 401


async def test_a_forged_order_cursor_past_any_row_id_is_a_400_of_its_code(api: Server) -> None:
    """The orders' cursor is read as the other lists' are: an id no database row can have and a
    cursor of another list are ``400 after``, a bad limit ``400 limit`` (docs/money-rules.md)."""
    forged = base64.urlsafe_b64encode(b"o" + b"9" * 40).decode().rstrip("=")
    status, problem = await api.call("GET", f"/v1/orders?after={forged}", api.read)
    assert (status, problem["code"]) == (400, "after")
    status, problem = await api.call("GET", f"/v1/orders?after={cursor('cards', 1)}", api.read)
    assert (status, problem["code"]) == (400, "after")
    status, problem = await api.call("GET", "/v1/orders?limit=0", api.read)
    assert (status, problem["code"]) == (400, "limit")

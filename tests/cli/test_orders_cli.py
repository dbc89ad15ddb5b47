"""``cardadmin orders list|show`` and ``order paid|void`` on SQLite and PostgreSQL: a transfer
marked paid credits once and is audited; a void is audited and refuses a later payment; the list
pages by cursor."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cards.db import Database
from cards.services import orders
from tests.cli.helpers import ok, refused, setup_money_project

EUR = 10_000


async def _order(url: str, serial: str, provider: str = "transfer") -> str:
    db = Database(url)
    try:
        view = await orders.create_order(db, project="astro", serial=serial, amount=25 * EUR,
                                         provider=provider, actor="page")  # fmt: skip
        return view.reference
    finally:
        await db.close()


def test_orders_through_the_cli(cli_env: str, capsys, tmp_path: Path) -> None:
    cards = setup_money_project(capsys, tmp_path)
    serial = cards[0]["serial"]
    refs = [asyncio.run(_order(cli_env, serial)) for _ in range(3)]
    shown = json.loads(ok(capsys, "orders", "show", refs[0].lower(), "--json"))
    assert (shown["status"], shown["amount"], shown["card"]) == ("created", 25 * EUR,
                                                                 "…" + serial[-4:])  # fmt: skip
    short = refused(capsys, "order", "paid", refs[0], "--amount", "20,00", "--actor", "alice")
    assert "nothing credited" in short
    paid = json.loads(ok(capsys, "order", "paid", refs[0], "--amount", "25,00", "--actor", "alice",
                         "--json"))  # fmt: skip
    assert paid["status"] == "captured" and paid["balance_after"] == 35 * EUR
    ok(capsys, "order", "paid", refs[0], "--amount", "25,00", "--actor", "alice")  # again
    balance = json.loads(ok(capsys, "card", "show", serial, "--json"))["balance"]
    assert balance == 35 * EUR
    voided = json.loads(ok(capsys, "order", "void", refs[1], "--reason", "caller asked",
                           "--actor", "bob", "--json"))  # fmt: skip
    assert voided["status"] == "voided" and voided["note"] == "caller asked"
    assert "voided" in refused(
        capsys, "order", "paid", refs[1], "--amount", "25", "--actor", "alice"
    )
    assert "captured" in refused(capsys, "order", "void", refs[0], "--reason", "x")
    history = ok(capsys, "history", "--project", "astro", "--json")
    assert "order_paid" in history and "order_void" in history
    first = json.loads(ok(capsys, "orders", "list", "--project", "astro", "--limit", "2",
                          "--json"))  # fmt: skip
    rest = json.loads(ok(capsys, "orders", "list", "--limit", "2", "--after",
                         first["next_after"], "--json"))  # fmt: skip
    assert [o["reference"] for o in first["items"] + rest["items"]] == refs[::-1]
    assert rest["next_after"] is None
    table = ok(capsys, "orders", "list", "--status", "captured")
    assert refs[0] in table and refs[1] not in table
    assert "no order" in refused(capsys, "orders", "show", "MC-NONE-NONE")
    assert "cursor" in refused(capsys, "orders", "list", "--after", "!!")


def test_a_webhook_order_is_not_marked_paid_by_hand(cli_env: str, capsys, tmp_path: Path) -> None:
    cards = setup_money_project(capsys, tmp_path)
    ref = asyncio.run(_order(cli_env, cards[0]["serial"], provider="webhook"))
    assert "no transfer order" in refused(capsys, "order", "paid", ref, "--amount", "25,00")

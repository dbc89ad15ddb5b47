"""A card's life after issue through cardadmin, on SQLite and PostgreSQL: cards list, refund,
expiry (by hand and of every card past its date), a new PIN, and the audit trail of every
operator change with the acting operator and reason."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from cards.clock import utcnow
from cards.db import Database
from cards.services import activation, calls, card_life, cardbatch
from testbed.astro import SECRET
from tests.cli.helpers import ok, refused, setup_money_project

EUR = 10_000


def test_cards_list_filters_by_status_label_and_use(cli_env: str, capsys, tmp_path: Path) -> None:
    serials = [c["serial"] for c in setup_money_project(capsys, tmp_path)]
    ok(capsys, "cards", "create", "--project", "astro", "--count", "2", "--amount", "5",
       "--label", "shop 7", "--csv", str(tmp_path / "shop.csv"))  # fmt: skip
    ok(capsys, "card", "block", serials[0])
    listed = json.loads(ok(capsys, "cards", "list", "--project", "astro", "--json"))
    assert len(listed) == 5 and {c["unit"] for c in listed} == {"money"}
    blocked = json.loads(
        ok(capsys, "cards", "list", "--project", "astro", "--status", "blocked", "--json")
    )
    assert [c["serial"] for c in blocked] == [serials[0]]
    shop = json.loads(
        ok(capsys, "cards", "list", "--project", "astro", "--label", "shop 7", "--json")
    )
    assert [c["balance"] for c in shop] == [5 * EUR, 5 * EUR]
    assert {c["batch"] for c in shop} == {2}
    second = json.loads(ok(capsys, "cards", "list", "--project", "astro", "--batch", "2",
                           "--json"))  # fmt: skip
    assert sorted(c["serial"] for c in second) == sorted(c["serial"] for c in shop)
    assert "--batch" in refused(capsys, "cards", "list", "--project", "astro", "--batch", "two")
    assert len(json.loads(ok(capsys, "cards", "list", "--project", "astro", "--unused",
                             "--json"))) == 5  # fmt: skip
    table = ok(capsys, "cards", "list", "--project", "astro")
    assert "5 cards" in table and "10.00 EUR" in table
    assert "no project" in refused(capsys, "cards", "list", "--project", "nope")
    assert "is not one of" in refused(capsys, "cards", "list", "--project", "astro",
                                       "--status", "gone")  # fmt: skip


def test_refund_expire_and_a_new_pin_are_audited(cli_env: str, capsys, tmp_path: Path) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    entry = json.loads(ok(capsys, "card", "refund", serial, "2,50", "--reason", "unhappy",
                          "--actor", "anna", "--json"))  # fmt: skip
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("refund", -25_000, 75_000)
    assert "holds 7.50 EUR" in refused(capsys, "card", "refund", serial, "8", "--reason", "x")
    old_pin = json.loads(ok(capsys, "card", "reissue-pin", serial, "--reason", "lost letter",
                            "--actor", "anna", "--json"))["pin"]  # fmt: skip
    assert len(old_pin) == 8
    ok(capsys, "line", "move", serial, "030 123456", "--actor", "ben", "--reason", "new phone")
    ok(capsys, "card", "block", serial, "--actor", "ben", "--reason", "chargeback")
    ok(capsys, "card", "unblock", serial)
    ok(capsys, "tariff", "set", "--project", "astro", "--increments", "60/60", "--price", "2,49",
       "--actor", "carla", "--reason", "price list 2027")  # fmt: skip
    said = ok(capsys, "card", "expire", serial, "--reason", "customer left", "--actor", "anna")
    assert "7.50 EUR taken" in said
    assert "expired already" in refused(capsys, "card", "expire", serial, "--reason", "again")
    everything = json.loads(ok(capsys, "history", "--card", serial, "--json"))
    trail = [a for a in everything if not a["action"].startswith("money:")]
    money = [(a["actor"], a["action"]) for a in everything if a["action"].startswith("money:")]
    assert ("anna", "money:refund") in money and ("anna", "money:expiry") in money
    assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
        ("anna", "refund", "unhappy"),
        ("anna", "pin_reissue", "lost letter"),
        ("ben", "line_move", "new phone"),
        ("ben", "block", "chargeback"),
        (trail[4]["actor"], "unblock", None),
        ("anna", "expiry", "customer left"),
    ]
    assert trail[4]["actor"]  # the OS user when --actor is not given
    assert "+4930123456" in trail[2]["what"]
    project_trail = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    assert ("carla", "tariff", "price list 2027") in [
        (a["actor"], a["action"], a["reason"]) for a in project_trail
    ]
    [card] = json.loads(ok(capsys, "cards", "list", "--project", "astro", "--status", "expired",
                           "--json"))  # fmt: skip
    assert (card["serial"], card["balance"]) == (serial, 0)
    assert "exactly one" in refused(capsys, "history")
    assert "no card" in refused(capsys, "history", "--card", "999")


async def _reissued_pin_activates_and_old_does_not(url: str, serial: str, old: str) -> None:
    db = Database(url)
    try:
        new = await card_life.reissue_pin(db, serial, secret=SECRET, reason="lost", actor="t")
        refused_old = await activation.activate(db, "astro", "+4940111111", old, secret=SECRET)
        accepted = await activation.activate(db, "astro", "+4940111111", new, secret=SECRET)
        assert refused_old.card is None
        assert accepted.card is not None and accepted.card.serial == serial
    finally:
        await db.close()


def test_a_reissued_pin_replaces_the_old_one(cli_env: str, capsys, tmp_path: Path) -> None:
    card = setup_money_project(capsys, tmp_path)[0]
    asyncio.run(_reissued_pin_activates_and_old_does_not(cli_env, card["serial"], card["pin"]))


async def _due_cards(url: str) -> tuple[str, str, str]:
    """Three cards: one past its date, one past its date but in a call, one still valid."""
    db = Database(url)
    try:
        past = utcnow() - timedelta(days=1)
        made = await cardbatch.create_cards(db, "astro", 2, 4 * EUR, secret=SECRET, expires_at=past,
                                            now=past - timedelta(days=9))  # fmt: skip
        later = utcnow() + timedelta(days=30)
        [valid] = await cardbatch.create_cards(db, "astro", 1, 4 * EUR, secret=SECRET,
                                               expires_at=later)  # fmt: skip
        await calls.authorize(db, card_id=made[1].card_id, dialed="+498912345671",
                              caller="+4930123456", call_id="live",
                              now=past - timedelta(hours=1))  # fmt: skip
        return made[0].serial, made[1].serial, valid.serial
    finally:
        await db.close()


def test_cards_past_their_date_expire_and_lose_their_balance(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    setup_money_project(capsys, tmp_path)
    due, in_call, valid = asyncio.run(_due_cards(cli_env))
    done = json.loads(ok(capsys, "cards", "expire-due", "--actor", "cron", "--json"))
    assert done == {"expired": [due], "in_call": [in_call]}
    [card] = json.loads(ok(capsys, "cards", "list", "--project", "astro", "--status", "expired",
                           "--json"))  # fmt: skip
    assert (card["serial"], card["balance"]) == (due, 0)
    [entry] = [e for e in json.loads(ok(capsys, "transactions", "--card", due, "--json"))["entries"]
               if e["kind"] == "expiry"]  # fmt: skip
    assert entry["amount"] == -4 * EUR and entry["actor"] == "cron"
    assert valid not in ok(capsys, "cards", "expire-due")

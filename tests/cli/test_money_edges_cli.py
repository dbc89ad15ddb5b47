"""Money at the edges through `cardadmin` (issue 22): an expired card takes no top-up, a key
is bound to what it moved, `adjust` is audited with its actor, a bonus says its amount in the
project's unit, and `audit --strict` proves the books."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import ok, refused, setup_money_project


def test_the_cli_obeys_the_card_state_rule(cli_env: str, capsys, tmp_path: Path) -> None:
    expired, blocked, *_ = (c["serial"] for c in setup_money_project(capsys, tmp_path))
    ok(capsys, "card", "expire", expired, "--reason", "x")
    assert "has expired" in refused(capsys, "topup", expired, "25")
    assert "has expired" in refused(capsys, "adjust", expired, "+5", "--reason", "r")
    ok(capsys, "card", "block", blocked, "--reason", "lost")
    assert "is blocked" in refused(capsys, "topup", blocked, "25")
    ok(capsys, "adjust", blocked, "-5", "--reason", "correction")  # the operator still may
    assert "cannot be blocked" in refused(capsys, "card", "block", expired)
    assert "cannot be created expired" in refused(
        capsys, "cards", "create", "--project", "astro", "--count", "1", "--amount", "10",
        "--expires", "2020-01-01",
    )  # fmt: skip


def test_keys_adjust_and_bonus_in_the_books(cli_env: str, capsys, tmp_path: Path) -> None:
    card = setup_money_project(capsys, tmp_path)[0]["serial"]
    ok(capsys, "topup", card, "50", "--idempotency-key", "shop-1")
    assert "already credited" in ok(capsys, "topup", card, "50", "--idempotency-key", "shop-1")
    assert "was used for another request" in refused(
        capsys, "adjust", card, "-5", "--reason", "r", "--idempotency-key", "shop-1"
    )
    ok(capsys, "adjust", card, "+2,50", "--reason", "goodwill", "--actor", "maria")
    entries = json.loads(ok(capsys, "transactions", "--card", card, "--json"))["entries"]
    assert [(e["kind"], e["amount"]) for e in entries] == [
        ("voucher", 100_000), ("topup", 500_000), ("bonus", 50_000), ("adjust", 25_000),
    ]  # fmt: skip
    assert entries[2]["reason"] == "bonus for a top-up of 50.00 EUR"
    assert (entries[3]["actor"], entries[3]["reason"]) == ("maria", "goodwill")
    trail = json.loads(ok(capsys, "history", "--card", card, "--json"))
    assert ("adjust", "maria", "goodwill") in [
        (a["action"], a["actor"], a["reason"]) for a in trail
    ]
    assert "strict: 0 invariants broken" in ok(capsys, "audit", "--strict")
    for command in ("report", "operator"), ("calls", "--card", card):
        assert "past the calendar" in refused(capsys, *command, "--month", "9999-12")
    assert json.loads(ok(capsys, "audit", "--strict", "--json"))["breaches"] == []

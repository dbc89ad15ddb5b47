"""cardadmin end to end on a new database (SQLite and PostgreSQL), and every refusal as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import ok, refused, setup_money_project


def test_operator_story(cli_env: str, capsys, tmp_path: Path) -> None:
    cards = setup_money_project(capsys, tmp_path)
    assert len(cards) == 3
    assert all(len(c["pin"]) == 8 and c["pin"].isdigit() for c in cards)
    serial = cards[0]["serial"]
    first = json.loads(ok(capsys, "topup", serial, "25 €", "--idempotency-key", "o-1", "--json"))
    again = json.loads(ok(capsys, "topup", serial, "25 Euro", "--idempotency-key", "o-1", "--json"))
    assert first == again
    bonus = json.loads(ok(capsys, "topup", serial, "50,00", "--json"))
    assert [e["kind"] for e in bonus] == ["topup", "bonus"]
    ok(capsys, "adjust", serial, "-1,50", "--reason", "goodwill undo")
    shown = json.loads(ok(capsys, "card", "show", serial, "--json"))
    assert shown["balance"] == (10 + 25 + 50 + 5) * 10_000 - 15_000
    assert shown["unit"] == "money"
    table = ok(capsys, "card", "show", serial)
    assert "88.50 EUR" in table and "885000" not in table
    ledger = ok(capsys, "transactions", "--card", serial)
    assert "-1.50 EUR" in ledger and "…" not in ledger
    ok(capsys, "line", "move", serial, "030 123456")
    assert json.loads(ok(capsys, "line", "show", serial, "--json"))["line"] == "+4930123456"
    report = json.loads(ok(capsys, "transactions", "--caller", "+4930123456", "--json"))
    assert report["topup_count"] == 2
    assert report["last_topup"]["amount"] == 500_000
    ok(capsys, "card", "block", serial)
    refused(capsys, "topup", serial, "25")
    ok(capsys, "card", "unblock", serial)
    audit = json.loads(ok(capsys, "audit", "--json"))
    assert audit == {"cards_checked": 3, "problems": [], "journal_pending": []}
    numbers = json.loads(ok(capsys, "number", "list", "--json"))
    assert [n["number"] for n in numbers] == ["+498912345670", "+498912345671"]
    tariff = json.loads(ok(capsys, "tariff", "show", "--project", "astro", "--json"))
    assert tariff["price_mobile"] == "2.99 EUR/min"


def test_refusals(cli_env: str, capsys, tmp_path: Path) -> None:
    cards = setup_money_project(capsys, tmp_path)
    serial = cards[0]["serial"]
    assert "allowed: 15.00 EUR, 25.00 EUR, 50.00 EUR" in refused(capsys, "topup", serial, "20")
    refused(capsys, "topup", serial, "abc")
    refused(capsys, "topup", serial, "-5")
    refused(capsys, "topup", "0000000000", "25")
    refused(capsys, "card", "show", "nope")
    refused(capsys, "adjust", serial, "+5")
    refused(capsys, "adjust", serial, "-500", "--reason", "too much")
    refused(capsys, "project", "create", "astro", "--unit", "money")
    refused(capsys, "project", "create", "x", "--unit", "money", "--pin-length", "3")
    refused(capsys, "project", "create", "y", "--unit", "money", "--pin-length", "13")
    refused(capsys, "project", "create", "z", "--unit", "euros")
    refused(capsys, "number", "add", "12", "--project", "astro", "--role", "card")
    refused(capsys, "number", "add", "+498912345672", "--project", "astro", "--role", "advisor")
    refused(capsys, "cards", "create", "--project", "astro", "--count", "2", "--minutes", "30")
    refused(capsys, "cards", "create", "--project", "astro", "--count", "x", "--amount", "10")
    refused(capsys, "cards", "create", "--project", "nope", "--count", "1", "--amount", "10")
    refused(capsys, "tariff", "set", "--project", "astro", "--increments", "60/0", "--price", "1")
    refused(
        capsys, "tariff", "set", "--project", "astro", "--increments", "60/60", "--multiplier", "2"
    )
    refused(capsys, "transactions", "--card", serial, "--since", "yesterday")
    refused(capsys, "transactions")
    refused(capsys, "line", "move", serial, "not-a-number")


def test_minute_project_takes_minutes(cli_env: str, capsys, tmp_path: Path) -> None:
    ok(capsys, "db", "upgrade")
    ok(capsys, "project", "create", "tarot", "--unit", "minutes", "--pin-length", "6")
    out = ok(capsys, "cards", "create", "--project", "tarot", "--count", "1", "--minutes", "30")
    serial, pin, value = out.splitlines()[1].split(";")
    assert (len(pin), value) == (6, "30 min")
    ok(capsys, "topup", serial, "15 min")
    assert json.loads(ok(capsys, "card", "show", serial, "--json"))["balance"] == 45 * 60
    refused(capsys, "topup", serial, "15 €")


def test_console_script_never_shows_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "MINUTECARD_DATA_DIR": str(tmp_path)}
    env.pop("MINUTECARD_DATABASE_URL", None)
    env.pop("MINUTECARD_PIN_SECRET", None)
    script = Path(sys.executable).parent / "cardadmin"
    for args in (
        ["card", "show", "1"],
        ["cards", "create", "--project", "p", "--count", "1", "--amount", "1"],
        ["quote", "--price", "x"],
    ):
        proc = subprocess.run(
            [str(script), *args], capture_output=True, text=True, env=env, check=False
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1

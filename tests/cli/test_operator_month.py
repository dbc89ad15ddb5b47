"""The month of a small line operator (docs/operating.md), with its calls: cards sold, a
recharge, three calls billed as the engine bills them, the customer's statement and the
platform's fee report — the figures docs/operating.md quotes, computed by hand below."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from cards.clock import utcnow
from cards.db import Database
from tests.cli.helpers import ok
from tests.support.settlements import bill_call

ADVISOR = "+498912345671"
MONTH_COMMANDS = [
    ["project", "create", "sternenlicht", "--unit", "minutes"],
    ["tariff", "set", "--project", "sternenlicht", "--increments", "60/1"],
    ["number", "add", "089 12345670", "--project", "sternenlicht", "--role", "card"],
    ["number", "add", "089 12345671", "--project", "sternenlicht", "--role", "advisor",
     "--destination", "PJSIP/advisor1", "--tariff", "standard", "--default"],
]  # fmt: skip


async def three_calls(url: str, serial: str) -> None:
    """10, 15 and 20 minutes from the customer's line, billed as the engine bills them."""
    db = Database(url)
    try:
        for n, seconds in enumerate((600, 900, 1200)):
            await bill_call(db, serial, f"m-{n}", seconds, dialed=ADVISOR)
    finally:
        await db.close()


def test_a_month_of_a_small_line_operator(cli_env: str, capsys, tmp_path: Path) -> None:
    ok(capsys, "db", "upgrade")
    for command in MONTH_COMMANDS:
        ok(capsys, *command)
    sold, sheet = tmp_path / "sold.csv", tmp_path / "sold.pdf"
    ok(capsys, "cards", "create", "--project", "sternenlicht", "--count", "10", "--minutes", "50",
       "--price", "45", "--label", "november", "--csv", str(sold), "--pdf", str(sheet))  # fmt: skip
    serial = next(csv.DictReader(sold.open(), delimiter=";"))["serial"]
    ok(capsys, "customer", "create", "Frau Berger", "--project", "sternenlicht", "--kind",
       "prepaid")  # fmt: skip
    ok(capsys, "customer", "attach", serial, "--customer", "Frau Berger")
    ok(capsys, "topup", serial, "30")
    asyncio.run(three_calls(cli_env, serial))
    month = f"{utcnow():%Y-%m}"
    got = json.loads(ok(capsys, "statement", "--customer", "Frau Berger", "--project",
                        "sternenlicht", "--month", month, "--json"))  # fmt: skip
    # 50 + 30 minutes loaded, 10 + 15 + 20 talked: 35 minutes left
    assert (got["opening"], got["top-ups"], got["calls"], got["closing"]) == (
        0, 80 * 60, -45 * 60, 35 * 60,
    )  # fmt: skip
    fees = json.loads(ok(capsys, "report", "operator", "--month", month, "--project",
                         "sternenlicht", "--json"))  # fmt: skip
    charged = {f["item"]: f["sum"] for f in fees if not f["announced"]}
    announced = {f["item"]: f["sum"] for f in fees if f["announced"]}
    # set-up 59 EUR (first month), 2 EUR minimum (45 < 100 minutes), 45 × 8 ct = 3.60 EUR
    assert charged == {"set-up": 590_000, "minimum usage": 20_000, "feed-in, geographic": 36_000}
    # 10 cards × 1 EUR, (500 + 30) minutes × 5 ct = 26.50 EUR: announced, not charged yet
    assert announced == {"cards issued": 100_000, "minutes loaded": 265_000}
    records = json.loads(ok(capsys, "calls", "--card", serial, "--month", month, "--json"))
    assert [r["billed_seconds"] for r in records] == [600, 900, 1200]

"""`cardadmin calls`: the call records (EVN) of a card, line or project, by month or since a day,
with callers masked on request, as a table, JSON or CSV."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from cards.db import Database
from tests.cli.helpers import ok, refused, setup_money_project
from tests.support.settlements import bill_call

T0 = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)


async def a_call(url: str, serial: str) -> None:
    db = Database(url)
    try:
        await bill_call(db, serial, "c-1", 61, dialed="+498912345671", start=T0)
    finally:
        await db.close()


def test_calls_by_card_month_masked_and_as_csv(cli_env: str, capsys, tmp_path: Path) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    asyncio.run(a_call(cli_env, serial))
    [record] = json.loads(ok(capsys, "calls", "--card", serial, "--month", "2026-11", "--json"))
    # 61 s at 1.99 EUR/min in 60/1 increments: 61 s billed; 61 × 19,900 / 60 = 20,231.67,
    # rounded up once per call to 20,232 (1/10,000 EUR)
    assert (record["billed_seconds"], record["unit"], record["caller"]) == (
        61,
        "money",
        "+4930123456",
    )
    assert record["cost"] == record["charged"] == 20_232
    assert json.loads(ok(capsys, "calls", "--card", serial, "--month", "2026-10", "--json")) == []
    [masked] = json.loads(ok(capsys, "calls", "--caller", "030 123456", "--mask", "--json"))
    assert masked["caller"] == "+4930123xxx"
    table = ok(capsys, "calls", "--project", "astro", "--since", "2026-11-01")
    assert "EUR" in table and "…" not in table
    sheet = tmp_path / "evn.csv"
    ok(capsys, "calls", "--project", "astro", "--csv", str(sheet))
    [row] = list(csv.DictReader(sheet.open(), delimiter=";"))
    assert (row["billed_seconds"], row["unit"]) == ("61", "money")


def test_calls_refusals(cli_env: str, capsys, tmp_path: Path) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    assert "exactly one of" in refused(capsys, "calls")
    assert "exactly one of" in refused(capsys, "calls", "--card", serial, "--project", "astro")
    assert "YYYY-MM" in refused(capsys, "calls", "--card", serial, "--month", "11/2026")
    assert "not both" in refused(capsys, "calls", "--card", serial, "--month", "2026-11",
                                 "--since", "2026-11-01")  # fmt: skip
    assert "YYYY-MM-DD" in refused(capsys, "calls", "--card", serial, "--since", "yesterday")

"""`cardadmin report operator`: the platform's fees for a month (seed 004) from what the
database holds — a Professional minute project in its first month, hand-computed."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import datetime
from pathlib import Path

from cards.clock import aware
from cards.db import Database
from cards.models import Project
from tests.cli.helpers import ok, refused
from tests.support.settlements import bill_call

ADVISOR = "+498912345671"


def minute_project(capsys, tmp_path: Path) -> list[dict[str, str]]:
    ok(capsys, "db", "upgrade")
    ok(capsys, "project", "create", "luna", "--unit", "minutes", "--system", "professional")
    ok(capsys, "tariff", "set", "--project", "luna", "--increments", "1/1")
    ok(capsys, "number", "add", "089 12345670", "--project", "luna", "--role", "card")
    ok(capsys, "number", "add", ADVISOR, "--project", "luna", "--role", "advisor",
       "--destination", "PJSIP/advisor1", "--tariff", "standard", "--default")  # fmt: skip
    sheet = tmp_path / "cards.csv"
    ok(capsys, "cards", "create", "--project", "luna", "--count", "2", "--minutes", "50",
       "--csv", str(sheet))  # fmt: skip
    with sheet.open() as handle:
        return list(csv.DictReader(handle, delimiter=";"))


async def two_calls(url: str, serial: str) -> datetime:
    """Calls of 61 s and 119 s, in the project's first month; returns its creation time."""
    db = Database(url)
    try:
        async with db.read() as session:
            created = aware((await session.get_one(Project, 1)).created_at)
        for call_id, seconds in (("c-1", 61), ("c-2", 119)):
            await bill_call(db, serial, call_id, seconds, dialed=ADVISOR, start=created)
        return created
    finally:
        await db.close()


def test_a_professional_first_month(cli_env: str, capsys, tmp_path: Path) -> None:
    """Set-up 59 EUR; 3 talked minutes (61 + 119 s), so the 2 EUR minimum fee; feed-in
    3 × 8 ct = 0.24; Professional usage 3 × 4 ct = 0.12: 61.36 EUR. Announced: 2 cards × 1 EUR
    and (100 issued + 30 recharged) minutes × 5 ct = 8.50 EUR, charged only with --card-fees."""
    serial = minute_project(capsys, tmp_path)[0]["serial"]
    ok(capsys, "topup", serial, "30")
    month = f"{asyncio.run(two_calls(cli_env, serial)):%Y-%m}"
    lines = json.loads(ok(capsys, "report", "operator", "--month", month, "--json"))
    got = {line["item"]: (line["quantity"], line["sum"], line["announced"]) for line in lines}
    assert got == {
        "set-up": (1, 590_000, False),
        "minimum usage": (1, 20_000, False),
        "feed-in, geographic": (180, 2_400, False),
        "usage, Professional": (180, 1_200, False),
        "cards issued": (2, 20_000, True),
        "minutes loaded": (130 * 60, 65_000, True),
    }
    table = ok(capsys, "report", "operator", "--month", month, "--project", "luna")
    assert "61.36 EUR" in table and "announced, not charged yet" in table and "3:00 min" in table
    charged = ok(capsys, "report", "operator", "--month", month, "--card-fees")
    assert "69.86 EUR" in charged
    schedule = tmp_path / "fees.toml"
    schedule.write_text('setup = "0"\nfeed_in_per_minute = "0.10"\nminimum_minutes = 2\n')
    changed = json.loads(
        ok(capsys, "report", "operator", "--month", month, "--schedule", str(schedule), "--json")
    )
    assert {line["item"]: line["sum"] for line in changed if not line["announced"]} == {
        "set-up": 0,
        "feed-in, geographic": 3_000,
        "usage, Professional": 1_200,
    }
    # A month before the project existed owes nothing (issue 22, finding 5).
    assert json.loads(ok(capsys, "report", "operator", "--month", "2020-01", "--json")) == []
    assert "0.00 EUR" in ok(capsys, "report", "operator", "--month", "1999-01", "--project", "luna")


def test_bad_report_input_is_one_line(cli_env: str, capsys, tmp_path: Path) -> None:
    ok(capsys, "db", "upgrade")
    assert "YYYY-MM" in refused(capsys, "report", "operator", "--month", "11/2026")
    assert "no project" in refused(capsys, "report", "operator", "--month", "2026-11",
                                   "--project", "nope")  # fmt: skip
    bad = tmp_path / "bad.toml"
    for text, says in (
        ("setup = 59\n", 'write EUR as text, e.g. setup = "0.08"'),
        ('feed_in = "0.08"\n', "unknown key 'feed_in'"),
        ('setup = "-1"\n', "setup"),
        ("minimum_minutes = -3\n", "minimum_minutes must be a whole number"),
        ("card_fees_charged = 1\n", "card_fees_charged must be true or false"),
        ("[oops\n", "--schedule"),
    ):
        bad.write_text(text)
        assert says in refused(capsys, "report", "operator", "--month", "2026-11",
                               "--schedule", str(bad)), text  # fmt: skip
    assert "--schedule" in refused(capsys, "report", "operator", "--month", "2026-11",
                                   "--schedule", str(tmp_path / "missing.toml"))  # fmt: skip

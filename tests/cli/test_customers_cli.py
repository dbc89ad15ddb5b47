"""Customers (seed 002) through cardadmin on SQLite and PostgreSQL: a postpaid card spends its
credit limit, charges past the threshold are billed early, switching to prepaid bills what is
open and keeps the balance, month-end billing, and the monthly statement."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
from pathlib import Path

from cards.clock import utcnow
from cards.db import Database
from cards.services import calls, cardbatch, reservations
from tests.cli.helpers import ok, refused, setup_money_project
from tests.support.settlements import bill_call

EUR = 10_000
ADVISOR = "+498912345671"


async def call(url: str, serial: str, call_id: str, seconds: int) -> calls.Authorization:
    """A call of ``seconds`` at 1.99 EUR/min (60/1), billed now; its authorization."""
    db = Database(url)
    try:
        return await bill_call(db, serial, call_id, seconds, dialed=ADVISOR)
    finally:
        await db.close()


async def available(url: str, serial: str) -> int:
    db = Database(url)
    try:
        return await reservations.available(db, (await cardbatch.get_card(db, serial)).id)
    finally:
        await db.close()


def balance(capsys, serial: str) -> int:
    return int(json.loads(ok(capsys, "card", "show", serial, "--json"))["balance"])


def test_a_postpaid_customer_from_credit_line_to_prepaid(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    ok(capsys, "customer", "create", "Frau Berger", "--project", "astro", "--kind", "postpaid",
       "--credit-limit", "50")  # fmt: skip
    ok(capsys, "customer", "attach", serial, "--customer", "Frau Berger")
    assert asyncio.run(available(cli_env, serial)) == 60 * EUR  # 10 EUR balance + 50 EUR limit
    # 10 min at 1.99: 19.90 EUR; 9.90 EUR open, under the 20 EUR threshold
    asyncio.run(call(cli_env, serial, "c-1", 600))
    assert balance(capsys, serial) == -99_000
    # 15 min: 29.85 EUR more, 39.75 EUR open: billed at once, the card back at zero
    asyncio.run(call(cli_env, serial, "c-2", 900))
    assert balance(capsys, serial) == 0
    # Billed is not paid: the line has 50 − 39.75 = 10.25 EUR left until the customer pays.
    assert asyncio.run(available(cli_env, serial)) == 102_500
    [listed] = json.loads(ok(capsys, "customer", "list", "--project", "astro", "--json"))
    assert listed["receivable"] == 397_500
    assert "owes 39.75 EUR" in refused(capsys, "customer", "pay", "Frau Berger", "40",
                                       "--project", "astro", "--reference", "bank-1")  # fmt: skip
    ok(capsys, "customer", "pay", "Frau Berger", "39,75", "--project", "astro",
       "--reference", "bank-1")  # fmt: skip
    ok(
        capsys,
        "customer",
        "pay",
        "Frau Berger",
        "39,75",
        "--project",
        "astro",
        "--reference",
        "bank-1",
    )  # the same payment again: nothing new
    [listed] = json.loads(ok(capsys, "customer", "list", "--project", "astro", "--json"))
    assert listed["receivable"] == 0
    # paid: the credit line alone again, 50 EUR at 1.99/min → 1,507 s
    assert asyncio.run(call(cli_env, serial, "c-3", 120)).affordable_s == 1_507
    assert balance(capsys, serial) == -39_800
    switched = json.loads(ok(capsys, "customer", "switch", "Frau Berger", "--project", "astro",
                             "--to", "prepaid", "--reason", "moved abroad", "--json"))  # fmt: skip
    assert switched["billed"] == 39_800 and balance(capsys, serial) == 0
    assert asyncio.run(call(cli_env, serial, "c-4", 60)).refusal == "no_credit"
    ok(capsys, "topup", serial, "15")
    month = f"{utcnow():%Y-%m}"
    got = json.loads(ok(capsys, "statement", "--customer", "Frau Berger", "--project", "astro",
                        "--month", month, "--json"))  # fmt: skip
    assert (got["opening"], got["closing"]) == (0, 15 * EUR)
    assert (got["top-ups"], got["calls"], got["settlements"]) == (
        25 * EUR, -(199_000 + 298_500 + 39_800), 397_500 + 39_800,
    )  # fmt: skip
    kinds = sorted(line["kind"] for line in got["lines"])  # calls are dated at their end
    assert kinds == sorted(["voucher", "call", "call", "settlement", "call", "settlement", "topup"])
    details = [line["detail"] for line in got["lines"] if line["kind"] == "call"]
    assert "+4930123456 → +498912345671, 600 s" in details
    sheet = tmp_path / "statement.csv"
    ok(capsys, "statement", "--customer", "Frau Berger", "--project", "astro", "--month", month,
       "--csv", str(sheet))  # fmt: skip
    rows = list(csv.reader(sheet.open(), delimiter=";"))
    assert rows[1][2:4] == ["opening", "0"] and rows[-1][2:5] == ["closing", "", "150000"]
    paper = tmp_path / "statement.pdf"
    ok(capsys, "statement", "--customer", "Frau Berger", "--project", "astro", "--month", month,
       "--pdf", str(paper))  # fmt: skip
    text = subprocess.run(["pdftotext", "-layout", str(paper), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "Frau Berger (prepaid)" in text and "closing" in text and "15.00 EUR" in text
    assert text.count("settlement") == 3 and "600 s" in text  # two lines and the total
    table = ok(capsys, "statement", "--customer", "Frau Berger", "--project", "astro",
               "--month", month)  # fmt: skip
    assert "15.00 EUR" in table and "closing" in table
    trail = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    assert ("customer_switch", "moved abroad") in [(a["action"], a["reason"]) for a in trail]


def test_month_end_bills_open_postpaid_charges(cli_env: str, capsys, tmp_path: Path) -> None:
    cards = setup_money_project(capsys, tmp_path)
    ok(capsys, "customer", "create", "Kanzlei Roth", "--project", "astro", "--kind", "postpaid",
       "--credit-limit", "100", "--threshold", "0")  # fmt: skip
    ok(capsys, "customer", "attach", cards[1]["serial"], "--customer", "Kanzlei Roth")
    asyncio.run(call(cli_env, cards[1]["serial"], "m-1", 1200))  # 39.80 EUR, no early bill
    assert balance(capsys, cards[1]["serial"]) == -298_000
    [bill] = json.loads(ok(capsys, "customer", "bill-month", "--json"))
    assert (bill["amount"], bill["cause"]) == (298_000, "month")
    assert balance(capsys, cards[1]["serial"]) == 0
    assert json.loads(ok(capsys, "customer", "bill-month", "--json")) == []
    listed = json.loads(ok(capsys, "customer", "list", "--project", "astro", "--json"))
    assert [(c["name"], c["kind"], c["credit_limit"]) for c in listed] == [
        ("Kanzlei Roth", "postpaid", 100 * EUR)
    ]


def test_bad_customer_input_is_one_line(cli_env: str, capsys, tmp_path: Path) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    assert "credit limit above zero" in refused(
        capsys, "customer", "create", "X", "--project", "astro", "--kind", "postpaid"
    )
    ok(capsys, "customer", "create", "X", "--project", "astro", "--kind", "prepaid")
    assert "exists" in refused(capsys, "customer", "create", "X", "--project", "astro",
                               "--kind", "prepaid")  # fmt: skip
    assert "no customer" in refused(capsys, "customer", "attach", serial, "--customer", "Y")
    assert "prepaid already" in refused(capsys, "customer", "switch", "X", "--project", "astro",
                                        "--to", "prepaid")  # fmt: skip
    assert "YYYY-MM" in refused(capsys, "statement", "--customer", "X", "--project", "astro",
                                "--month", "2026")  # fmt: skip
    assert refused(capsys, "customer", "create", "Z", "--project", "astro", "--kind",
                   "postpaid", "--credit-limit", "-5")  # fmt: skip

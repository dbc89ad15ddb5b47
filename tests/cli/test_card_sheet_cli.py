"""`cards create --pdf`: a printable sheet, 10 cards per A4 page, each with project, value,
serial, PIN and the number to call — read back with poppler (pdfinfo, pdftotext, pdftoppm)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

from tests.cli.helpers import ok, refused, setup_money_project


def poppler(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def test_a_sheet_of_twelve_cards_is_two_pages(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)
    sheet, pins = tmp_path / "batch.pdf", tmp_path / "batch.csv"
    done = json.loads(ok(capsys, "cards", "create", "--project", "astro", "--count", "12",
                         "--amount", "25", "--label", "shop 7", "--pdf", str(sheet),
                         "--csv", str(pins), "--json"))  # fmt: skip
    assert done == {"cards": 12, "batch": 2, "files": [str(pins), str(sheet)]}  # after the 3
    assert os.stat(sheet).st_mode & 0o777 == 0o600
    info = poppler("pdfinfo", str(sheet))
    assert re.search(r"Pages:\s+2\n", info) and "595.276 x 841.89 pts (A4)" in info
    text = poppler("pdftotext", "-layout", str(sheet), "-")
    for row in csv.DictReader(pins.open(), delimiter=";"):
        assert row["serial"] in text and f"PIN: {row['pin']}" in text
    assert text.count("astro") == 12 and text.count("25.00 EUR") == 12
    assert text.count("08912345670") == 12  # the project's card number, national
    first, second = text.split("\f")[:2]
    assert first.count("PIN:") == 10 and second.count("PIN:") == 2
    poppler("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(sheet), str(tmp_path / "p"))
    png = (tmp_path / "p-1.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (331, 468)  # A4 at 40 dpi


def test_no_sheet_without_a_card_number_and_no_card_without_its_sheet(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    ok(capsys, "db", "upgrade")
    ok(capsys, "project", "create", "bare", "--unit", "minutes")
    sheet = tmp_path / "bare.pdf"
    assert "no card number to print" in refused(
        capsys, "cards", "create", "--project", "bare", "--count", "2", "--minutes", "30",
        "--pdf", str(sheet),
    )  # fmt: skip
    assert not sheet.exists()
    assert json.loads(ok(capsys, "cards", "list", "--project", "bare", "--json")) == []
    setup_money_project(capsys, tmp_path)
    sheet.write_text("printed yesterday")
    assert "never overwritten" in refused(
        capsys, "cards", "create", "--project", "astro", "--count", "1", "--amount", "10",
        "--pdf", str(sheet),
    )  # fmt: skip
    assert sheet.read_text() == "printed yesterday"

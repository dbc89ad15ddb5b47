"""Run cardadmin in-process: ``ok`` wants exit 0, ``refused`` one error line and exit 2."""

from __future__ import annotations

import csv
from pathlib import Path

from admin_cli.main import main


def ok(capsys, *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def refused(capsys, *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("cardadmin: error: ") and err.count("\n") == 1
    return err


def setup_money_project(capsys, tmp_path: Path) -> list[dict[str, str]]:
    ok(capsys, "db", "upgrade")
    ok(
        capsys,
        "project",
        "create",
        "astro",
        "--unit",
        "money",
        "--denomination",
        "15",
        "--denomination",
        "25",
        "--denomination",
        "50",
        "--bonus",
        "50=5",
    )
    ok(
        capsys,
        "tariff",
        "set",
        "--project",
        "astro",
        "--increments",
        "60/1",
        "--price",
        "1,99",
        "--price-mobile",
        "2.99",
    )
    ok(capsys, "number", "add", "089 12345670", "--project", "astro", "--role", "card")
    ok(
        capsys,
        "number",
        "add",
        "+498912345671",
        "--project",
        "astro",
        "--role",
        "advisor",
        "--destination",
        "PJSIP/advisor1",
        "--tariff",
        "standard",
        "--default",
    )
    sheet = tmp_path / "cards.csv"
    ok(
        capsys,
        "cards",
        "create",
        "--project",
        "astro",
        "--count",
        "3",
        "--amount",
        "10",
        "--price",
        "9,90",
        "--csv",
        str(sheet),
    )
    with sheet.open() as handle:
        return list(csv.DictReader(handle, delimiter=";"))

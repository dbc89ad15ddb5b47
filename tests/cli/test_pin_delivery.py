"""PINs exist only in the `cards create` output: a card is created only when its PIN was written
(a new file, 0600, never over another file unless --force; stdout that is read to the end)."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cards.db import Database
from cards.models import Card
from tests.cli.helpers import ok, refused, setup_money_project

CREATE = ("cards", "create", "--project", "astro", "--count", "5", "--amount", "10")


def card_count(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            async with db.read() as session:
                return int(await session.scalar(select(func.count()).select_from(Card)) or 0)
        finally:
            await db.close()

    return asyncio.run(count())


def test_an_existing_pin_file_is_never_overwritten(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)  # 3 cards in tmp_path/cards.csv
    sheet = tmp_path / "cards.csv"
    before = sheet.read_bytes()
    assert "exists: PIN files are never overwritten" in refused(
        capsys, *CREATE, "--csv", str(sheet)
    )
    assert sheet.read_bytes() == before
    assert card_count(cli_env) == 3
    ok(capsys, *CREATE, "--csv", str(sheet), "--force")
    assert len(sheet.read_text().splitlines()) == 1 + 5
    assert card_count(cli_env) == 8


def test_the_pin_file_is_private_and_nothing_else_is_left(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    setup_money_project(capsys, tmp_path)
    sheet = tmp_path / "new.csv"
    ok(capsys, *CREATE, "--csv", str(sheet))
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("path", ["/nonexistent/dir/x.csv", "", "/proc/version", "/proc"])
def test_an_unwritable_pin_file_creates_no_card(
    cli_env: str, capsys, tmp_path: Path, path: str
) -> None:
    setup_money_project(capsys, tmp_path)
    refused(capsys, *CREATE, "--csv", path)
    refused(capsys, *CREATE, "--csv", path, "--force")
    assert card_count(cli_env) == 3


def test_a_refused_batch_leaves_no_pin_file(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)
    sheet = tmp_path / "never.csv"
    refused(capsys, "cards", "create", "--project", "nope", "--count", "5", "--amount", "10",
            "--csv", str(sheet))  # fmt: skip
    assert not sheet.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_broken_pipe_creates_no_card(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)
    cardadmin = Path(sys.executable).parent / "cardadmin"
    many = [str(cardadmin), "cards", "create", "--project", "astro", "--count", "3000"]
    command = " ".join([*many, "--amount", "10", "| head -1"])
    run = subprocess.run(
        ["bash", "-c", command + "; exit ${PIPESTATUS[0]}"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
        timeout=120,
    )
    assert run.stdout == "serial;pin;value\n"
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("cardadmin: error: no card created: the PINs could not be")
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    assert card_count(cli_env) == 3

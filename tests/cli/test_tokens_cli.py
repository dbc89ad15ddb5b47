"""`cardadmin token`: created once with its token shown, listed without it, revoked at once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from cards.db import Database
from cards.services import tokens
from tests.cli.helpers import ok, refused, setup_money_project


async def grant(url: str, token: str) -> tokens.Grant | None:
    db = Database(url)
    try:
        return await tokens.authenticate(db, token)
    finally:
        await db.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_token_is_shown_once_and_revoked_at_once(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)
    made = json.loads(ok(capsys, "token", "create", "--project", "astro", "--scope", "write",
                         "--json"))  # fmt: skip
    assert made["token"].startswith("mct_") and made["scope"] == "write"
    listed = ok(capsys, "token", "list", "--json")
    assert made["token"] not in listed and json.loads(listed)[0]["revoked_at"] is None
    assert asyncio.run(grant(cli_env, made["token"])) is not None
    ok(capsys, "token", "revoke", str(made["id"]))
    assert asyncio.run(grant(cli_env, made["token"])) is None
    assert "no token 99" in refused(capsys, "token", "revoke", "99")
    assert "0-9" in refused(capsys, "token", "revoke", "١")
    refused(capsys, "token", "create", "--project", "astro", "--scope", "admin")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_tokens_caps_are_set_at_creation_and_changed_later(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    setup_money_project(capsys, tmp_path)
    made = json.loads(ok(capsys, "token", "create", "--project", "astro", "--scope", "write",
                         "--max-amount", "500000", "--max-per-day", "1000000",
                         "--json"))  # fmt: skip
    assert (made["max_amount"], made["max_amount_per_day"]) == (500_000, 1_000_000)
    changed = json.loads(ok(capsys, "token", "caps", str(made["id"]), "--max-per-day", "5",
                            "--json"))  # fmt: skip
    assert (changed["max_amount"], changed["max_amount_per_day"]) == (None, 5)
    refused(capsys, "token", "caps", str(made["id"]), "--max-amount", "0")
    assert "no token 99" in refused(capsys, "token", "caps", "99", "--max-amount", "5")

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

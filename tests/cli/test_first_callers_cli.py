"""`cardadmin first-callers`: the operator puts a line on the first-caller list (its next call
gets the standard tariff) or takes it off (the first-caller tariff again), audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cards.db import Database
from cards.services import calls, cardbatch
from tests.cli.helpers import ok, refused, setup_money_project

WELCOME_NUMBER = "+498912345672"


async def tariff_reason(url: str, serial: str, call_id: str) -> str:
    db = Database(url)
    try:
        card_id = (await cardbatch.get_card(db, serial)).id
        auth = await calls.authorize(db, card_id=card_id, dialed=WELCOME_NUMBER,
                                     caller="+4930123456", call_id=call_id)  # fmt: skip
        return auth.tariff_reason
    finally:
        await db.close()


def test_the_operator_adds_and_removes_first_callers(cli_env: str, capsys, tmp_path: Path) -> None:
    serial = setup_money_project(capsys, tmp_path)[0]["serial"]
    ok(capsys, "tariff", "set", "--project", "astro", "--name", "welcome", "--increments",
       "60/1", "--price", "0,99")  # fmt: skip
    ok(capsys, "number", "add", WELCOME_NUMBER, "--project", "astro", "--role", "advisor",
       "--destination", "PJSIP/advisor2", "--tariff", "standard",
       "--first-caller-tariff", "welcome")  # fmt: skip
    assert asyncio.run(tariff_reason(cli_env, serial, "c-1")) == "first_caller"
    ok(capsys, "first-callers", "add", "030 123456", "--project", "astro", "--actor", "anna",
       "--reason", "a regular since 2019")  # fmt: skip
    [listed] = json.loads(ok(capsys, "first-callers", "list", "--project", "astro", "--json"))
    assert (listed["line"], listed["calls"]) == ("+4930123456", 0)
    assert asyncio.run(tariff_reason(cli_env, serial, "c-2")) == "standard"
    assert "already" in refused(capsys, "first-callers", "add", "+4930123456", "--project", "astro")
    ok(capsys, "first-callers", "remove", "+4930123456", "--project", "astro")
    assert asyncio.run(tariff_reason(cli_env, serial, "c-3")) == "first_caller"
    assert "not on the first-caller list" in refused(
        capsys, "first-callers", "remove", "030 123456", "--project", "astro"
    )
    assert "no project" in refused(capsys, "first-callers", "list", "--project", "nope")
    assert refused(capsys, "first-callers", "add", "not-a-number", "--project", "astro")
    trail = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    assert [(a["action"], a["reason"]) for a in trail if a["action"].startswith("first")] == [
        ("first_caller_add", "a regular since 2019"),
        ("first_caller_remove", None),
    ]

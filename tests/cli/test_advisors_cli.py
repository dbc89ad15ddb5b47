"""``cardadmin advisor``: records of their own, PINs kept only as keyed hashes, every change in
the project's history, refusals in one line."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from cards.db import Database
from cards.models import Advisor
from cards.pins import hash_pin
from cards.services.advisors import pin_hash
from testbed.astro import SECRET
from tests.cli.helpers import ok, refused, setup_money_project

pytestmark = pytest.mark.usefixtures("cli_env")


def add(capsys, name: str, *extra: str) -> dict[str, object]:
    out = ok(capsys, "advisor", "add", name, "--project", "astro", "--json", *extra)
    record: dict[str, object] = json.loads(out)
    return record


async def stored(url: str, name: str) -> Advisor:
    db = Database(url)
    try:
        async with db.read() as session:
            row = await session.scalar(select(Advisor).where(Advisor.name == name))
            assert row is not None
            return row
    finally:
        await db.close()


def test_add_shows_the_pin_once_and_keeps_only_its_keyed_hash(capsys, tmp_path, cli_env) -> None:
    setup_money_project(capsys, tmp_path)
    anna = add(capsys, "Anna", "--dial", "PJSIP/anna", "--payout", "0,80", "--extension", "11")
    assert anna["payout_per_minute"] == 8000 and anna["extension"] == "11"
    assert anna["state"] == "available"
    pin = str(anna["login_pin"])
    assert len(pin) == 8 and pin.isdigit()
    row = asyncio.run(stored(cli_env, "Anna"))
    assert row.pin_hash == pin_hash(SECRET, row.project_id, pin) != pin
    assert row.pin_hash != hash_pin(SECRET, row.project_id, pin)  # never a card PIN's hash
    shown = json.loads(ok(capsys, "advisor", "show", "Anna", "--project", "astro", "--json"))
    assert "login_pin" not in shown and shown["dial_string"] == "PJSIP/anna"


def test_list_set_remove_and_the_history_of_each_change(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    add(capsys, "Anna", "--dial", "PJSIP/anna", "--actor", "ops", "--reason", "new hire")
    add(capsys, "Ben", "--dial", "PJSIP/ben", "--extension", "12")
    listed = json.loads(ok(capsys, "advisor", "list", "--project", "astro", "--json"))
    assert [a["name"] for a in listed] == ["Anna", "Ben"]
    changed = json.loads(
        ok(capsys, "advisor", "set", "Ben", "--project", "astro", "--payout", "1.25",
           "--extension", "", "--new-pin", "--json")
    )  # fmt: skip
    assert changed["payout_per_minute"] == 12_500 and changed["extension"] is None
    assert len(str(changed["login_pin"])) == 8
    assert "removed advisor Ben" in ok(capsys, "advisor", "remove", "Ben", "--project", "astro")
    history = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    lines = [(h["action"], h["what"]) for h in history if h["action"].startswith("advisor")]
    assert [a for a, _ in lines] == ["advisor_add", "advisor_add", "advisor_set", "advisor_remove"]
    assert "PJSIP/anna" in lines[0][1] and "new PIN" in lines[2][1]
    table = ok(capsys, "advisor", "list", "--project", "astro")
    assert "PJSIP/anna" in table and "PJSIP/ben" not in table and "0.00 EUR" in table


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--dial", "PJSIP/a,b"), "TECH/resource"),
        (("--dial", "PJSIP/a&PJSIP/b"), "TECH/resource"),
        (("--dial", "PJSIP/a", "--payout", "-1"), "--payout"),
        (("--dial", "PJSIP/a", "--payout", "0.1"), None),
        (("--dial", "PJSIP/a", "--extension", "12a"), "1–8 digits"),
    ],
)
def test_bad_input_is_refused_in_one_line(capsys, tmp_path, args, words) -> None:
    setup_money_project(capsys, tmp_path)
    if words is None:
        add(capsys, "Anna", *args)
        return
    assert words in refused(capsys, "advisor", "add", "Anna", "--project", "astro", *args)


def test_duplicates_and_unknowns_are_refused(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    add(capsys, "Anna", "--dial", "PJSIP/anna", "--extension", "11")
    assert "name" in refused(capsys, "advisor", "add", "Anna", "--project", "astro",
                             "--dial", "PJSIP/x")  # fmt: skip
    assert "extension" in refused(capsys, "advisor", "add", "Bea", "--project", "astro",
                                  "--dial", "PJSIP/x", "--extension", "11")  # fmt: skip
    assert "no advisor" in refused(capsys, "advisor", "show", "Zoe", "--project", "astro")
    assert "nothing to change" in refused(capsys, "advisor", "set", "Anna", "--project", "astro")


def test_a_number_rings_a_group_and_back_its_dial_string(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    for name in ("Anna", "Ben", "Cleo"):
        add(capsys, name, "--dial", f"PJSIP/{name.lower()}")
    group = json.loads(
        ok(capsys, "advisor", "group", "set", "089 12345671", "--advisor", "Cleo",
           "--advisor", "Anna", "--advisor", "Ben", "--strategy", "round-robin",
           "--ring-timeout", "15", "--overall-timeout", "60", "--wrap-up", "10", "--extensions",
           "--json")
    )  # fmt: skip
    assert group == {
        "number": "+498912345671",
        "advisors": ["Cleo", "Anna", "Ben"],
        "strategy": "round-robin",
        "ring_timeout_s": 15,
        "overall_timeout_s": 60,
        "wrapup_s": 10,
        "extensions": True,
    }
    shown = json.loads(ok(capsys, "advisor", "group", "show", "+498912345671", "--json"))
    assert shown == group
    assert "in a number's group" in refused(capsys, "advisor", "remove", "Anna", "--project",
                                            "astro")  # fmt: skip
    assert "5–600" in refused(capsys, "advisor", "group", "set", "+498912345671",
                              "--advisor", "Anna", "--ring-timeout", "2")  # fmt: skip
    assert "again" in ok(capsys, "advisor", "group", "clear", "+498912345671")
    assert "rings PJSIP/advisor1" in refused(capsys, "advisor", "group", "show", "+498912345671")
    history = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    assert [h["action"] for h in history].count("hunt_group") == 2


def test_login_and_logout_are_audited_and_kept(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    add(capsys, "Anna", "--dial", "PJSIP/anna")
    out = json.loads(ok(capsys, "advisor", "logout", "Anna", "--project", "astro", "--json"))
    assert out["state"] == "logged_out"
    shown = json.loads(ok(capsys, "advisor", "show", "Anna", "--project", "astro", "--json"))
    assert shown["state"] == "logged_out"  # in the database: an engine restart keeps it
    ok(capsys, "advisor", "logout", "Anna", "--project", "astro")  # already out: no new entry
    assert "available" in ok(capsys, "advisor", "login", "Anna", "--project", "astro")
    history = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    logs = [h["action"] for h in history if h["action"].startswith("advisor_log")]
    assert logs == ["advisor_logout", "advisor_login"]


def test_opening_hours_are_set_shown_and_cleared(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    shown = json.loads(
        ok(capsys, "hours", "set", "089 12345671", "--week", "mon-fri 09:00-18:00",
           "--date", "2026-12-24 closed", "--json")
    )  # fmt: skip
    assert shown["weekly"]["fri"] == [[540, 1080]] and shown["exceptions"]["2026-12-24"] == []
    assert shown["tz"] == "Europe/Berlin"
    assert "mon" in ok(capsys, "hours", "show", "+498912345671")
    assert "card number" in refused(capsys, "hours", "set", "089 12345670", "--week",
                                    "mon 09:00-10:00")  # fmt: skip
    assert "HH:MM" in refused(capsys, "hours", "set", "089 12345671", "--week", "mon 9-5")
    assert "any time" in ok(capsys, "hours", "clear", "089 12345671")
    assert "any time" in refused(capsys, "hours", "show", "089 12345671")


def test_an_advisor_carries_a_tariff_of_its_own_and_gives_it_back(capsys, tmp_path) -> None:
    setup_money_project(capsys, tmp_path)
    ok(capsys, "tariff", "set", "--project", "astro", "--name", "astrologie",
       "--increments", "60/1", "--price", "2,99")  # fmt: skip
    anna = add(capsys, "Anna", "--dial", "PJSIP/anna", "--tariff", "astrologie")
    assert anna["tariff"] == "astrologie"
    listed = json.loads(ok(capsys, "advisor", "list", "--project", "astro", "--json"))
    assert [(a["name"], a["tariff"]) for a in listed] == [("Anna", "astrologie")]
    err = refused(capsys, "advisor", "set", "Anna", "--project", "astro", "--tariff", "gold")
    assert "no tariff 'gold'" in err
    cleared = json.loads(
        ok(capsys, "advisor", "set", "Anna", "--project", "astro", "--tariff", "", "--json")
    )
    assert cleared["tariff"] is None
    history = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    lines = [h["what"] for h in history if h["action"] in ("advisor_add", "advisor_set")]
    assert lines == [
        "advisor Anna: PJSIP/anna, payout 0.00 EUR/min, tariff astrologie",
        "advisor Anna: PJSIP/anna, payout 0.00 EUR/min",
    ]

"""`cardadmin line price set|clear` (issue 22, finding 10): a caller line's own tariff, shown
by `line show`, used by the next call's authorization, audited in `history`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cards.db import Database
from cards.services import activation, calls
from testbed.astro import SECRET
from tests.cli.helpers import ok, refused, setup_money_project


async def _bind_and_authorize(url: str, serial: str, pin: str) -> tuple[str, str]:
    db = Database(url)
    try:
        done = await activation.activate(db, "astro", "+4930123456", pin, secret=SECRET)
        assert done.card is not None
        auth = await calls.authorize(
            db, card_id=done.card.id, dialed="+498912345671", caller="+4930123456", call_id="p1"
        )
        assert auth.hold_id is not None
        await calls.settle(
            db,
            calls.Settlement(
                "p1", auth.hold_id, 0, 1, "+4930123456", "+498912345671",
                done.card.created_at, done.card.created_at, "normal", "caller",
            ),
        )  # fmt: skip
        return auth.tariff_reason, str(auth.price_per_minute)
    finally:
        await db.close()


def test_a_line_gets_a_price_of_its_own(cli_env: str, capsys, tmp_path: Path) -> None:
    [card, *_] = setup_money_project(capsys, tmp_path)
    ok(capsys, "tariff", "set", "--project", "astro", "--name", "vip", "--increments", "1/1",
       "--price", "0,99")  # fmt: skip
    assert "no tariff 'gold'" in refused(
        capsys, "line", "price", "set", "030 123456", "--project", "astro", "--tariff", "gold"
    )
    done = json.loads(ok(capsys, "line", "price", "set", "030 123456", "--project", "astro",
                         "--tariff", "vip", "--actor", "maria", "--json"))  # fmt: skip
    assert done == {"line": "+4930123456", "project": "astro", "tariff": "vip"}
    reason, price = asyncio.run(_bind_and_authorize(cli_env, card["serial"], card["pin"]))
    assert (reason, price) == ("individual", "9900")
    shown = json.loads(ok(capsys, "line", "show", card["serial"], "--json"))
    assert (shown["line"], shown["price"]) == ("+4930123456", "vip")
    ok(capsys, "line", "price", "clear", "+4930123456", "--project", "astro")
    assert json.loads(ok(capsys, "line", "show", card["serial"], "--json"))["price"] is None
    assert "has no price of its own" in refused(
        capsys, "line", "price", "clear", "+4930123456", "--project", "astro"
    )
    history = json.loads(ok(capsys, "history", "--project", "astro", "--json"))
    prices = [h for h in history if h["action"] == "line_price"]
    assert [h["actor"] for h in prices] == ["maria", prices[1]["actor"]]

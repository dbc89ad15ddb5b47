"""AGI mode keeps a number's opening hours (issue 23): outside them ``authorize`` answers
``closed`` with the prompt the dialplan plays, and holds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cards.db import Database
from cards.journal import Journal
from cards.models import Reservation
from cards.services import activation, calls, hours
from pbx_engine.agi.routes import AgiRoutes
from pbx_engine.settler import Settler
from testbed.astro import ADVISOR_NO, SECRET, astro_project

CALLER = "+4930123456"


async def test_outside_the_opening_hours_agi_authorize_says_closed_and_holds_nothing(
    db: Database, tmp_path: Path
) -> None:
    card = await astro_project(db, secret=SECRET, credit=600)
    await activation.activate(db, "astro", CALLER, card.pin, secret=SECRET)
    routes = AgiRoutes(db, Settler(db, Journal(tmp_path / "journal.jsonl")), SECRET)
    today = datetime.now(UTC).date()
    closed_days = [f"{today + timedelta(days=d)} closed" for d in (-1, 0, 1)]
    await hours.set_hours(db, ADVISOR_NO, ["mon-sun 00:00-24:00"], closed_days)
    answer = await routes._authorize(CALLER, ADVISOR_NO, "agi-1")
    assert (answer["MC_RESULT"], answer["MC_PROMPT"]) == ("closed", "closed")
    async with db.read() as session:
        assert (await session.scalars(select(Reservation))).all() == []
    await hours.clear_hours(db, ADVISOR_NO)
    answer = await routes._authorize(CALLER, ADVISOR_NO, "agi-2")
    assert (answer["MC_RESULT"], answer["MC_LIMIT_MS"]) == ("ok", "600000")
    now = datetime.now(UTC)
    await calls.settle(
        db,
        calls.Settlement(
            "agi-2", int(answer["MC_HOLD"]), 0, 1, CALLER, ADVISOR_NO, now, now, "noanswer",
            "advisor", card.card_id,
        ),
    )  # fmt: skip

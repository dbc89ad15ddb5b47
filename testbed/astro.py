"""The project the engine and end-to-end tests share: numbers, a 1/1 tariff and one card."""

from __future__ import annotations

from typing import Any

from cards.db import Database
from cards.migrate import upgrade
from cards.services import cardbatch, projects
from cards.services.cardbatch import NewCard
from rating import Increments

SECRET = b"test-secret-for-pins-0123456789"  # the PIN secret of the tests and benches
CARD_NO = "+498912345670"
ADVISOR_NO = "+498912345671"
FREEPHONE_NO = "+498001234567"
ENGLISH_CARD_NO = "+442079460018"


async def astro_project(
    db: Database,
    *,
    secret: bytes,
    credit: int,
    unit: str = "minutes",
    settings: dict[str, Any] | None = None,
) -> NewCard:
    """Migrate ``db``, create project "astro" with card, advisor (default), 0800 and English
    card numbers, a 1/1 tariff (1 card second or 0.60 EUR a minute) and one card."""
    await upgrade(db)
    await projects.create_project(db, "astro", unit, settings)
    rates = {"fixed": 1} if unit == "minutes" else {"fixed": 6_000}
    await projects.set_tariff(db, "astro", "standard", increments=Increments(1, 1), rates=rates)
    await projects.add_number(db, "astro", CARD_NO, "card")
    await projects.add_number(db, "astro", ENGLISH_CARD_NO, "card")
    for number in (ADVISOR_NO, FREEPHONE_NO):
        await projects.add_number(
            db,
            "astro",
            number,
            "advisor",
            destination="PJSIP/advisor1",
            tariff="standard",
            default_advisor=number == ADVISOR_NO,
        )
    [card] = await cardbatch.create_cards(db, "astro", 1, credit, secret=secret)
    return card

"""Small builders for cards tests: a project with a card number, an advisor number and cards."""

from __future__ import annotations

from typing import Any

from cards.db import Database
from cards.services import cardbatch, projects
from cards.services.cardbatch import NewCard
from rating import Increments
from testbed.astro import SECRET


async def project_with_cards(
    db: Database,
    *,
    unit: str = "minutes",
    value: int = 600,
    count: int = 1,
    settings: dict[str, Any] | None = None,
    name: str = "astro",
) -> list[NewCard]:
    await projects.create_project(db, name, unit, settings)
    rates = {"fixed": 1} if unit == "minutes" else {"fixed": 19_900}
    await projects.set_tariff(db, name, "standard", increments=Increments(60, 1), rates=rates)
    await projects.add_number(db, name, "+498912345670", "card")
    await projects.add_number(
        db,
        name,
        "+498912345671",
        "advisor",
        destination="PJSIP/advisor1",
        tariff="standard",
        default_advisor=True,
    )
    return await cardbatch.create_cards(db, name, count, value, secret=SECRET)

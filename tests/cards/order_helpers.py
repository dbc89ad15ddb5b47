"""A money project with denominations, a bonus and one card bound to a caller line."""

from __future__ import annotations

from cards.db import Database
from cards.services import activation
from cards.services.cardbatch import NewCard
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

EUR = 10_000
SHOP = {"denominations": [15 * EUR, 25 * EUR, 50 * EUR], "bonus": {str(50 * EUR): 5 * EUR}}
LINE = "+4930901820"


async def bound_card(db: Database, *, value: int = 10 * EUR) -> NewCard:
    [card] = await project_with_cards(db, unit="money", value=value, settings=SHOP)
    result = await activation.activate(db, "astro", LINE, card.pin, secret=SECRET)
    assert result.card is not None and result.card.id == card.card_id
    return card

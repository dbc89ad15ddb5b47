"""The webhook outbox (issue 25 item 5): events are written in the money move's own transaction,
to the project's subscribers only; a low balance once per crossing; exhausted at zero."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from cards.clock import utcnow
from cards.db import Database
from cards.errors import DenominationNotAllowed
from cards.models import WebhookDelivery
from cards.services import adjustments, cardbatch, ledger, projects, webhooks
from cards.services.outbox import EVENTS
from cards.services.strict_audit import strict_audit
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards
from tests.support.settlements import bill_call

EUR = 10_000
URL = "http://127.0.0.1:9/hook"


async def events(db: Database) -> list[tuple[str, dict[str, Any]]]:
    async with db.read() as session:
        rows = (await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all()
    return [(r.event_type, r.payload["data"]) for r in rows]


async def shop(db: Database, settings: dict[str, Any] | None = None) -> int:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=settings)
    await shop_hook(db)
    return card.card_id


async def shop_hook(db: Database) -> None:
    await webhooks.add(db, "astro", URL, list(EVENTS), actor="anna", low_balance=5 * EUR)


async def test_a_topup_writes_its_event_with_the_move(db: Database) -> None:
    card_id = await shop(db, {"denominations": [15 * EUR], "bonus": {str(15 * EUR): EUR}})
    await ledger.topup(db, card_id, 15 * EUR, actor="anna", key="o-1")
    [(kind, data)] = await events(db)
    assert kind == "topup.credited"
    assert (data["amount"], data["bonus"], data["balance"]) == (15 * EUR, EUR, 26 * EUR)
    assert data["reference"] == "cli:o-1"


async def test_a_refused_or_rolled_back_move_writes_no_event(db: Database) -> None:
    card_id = await shop(db, {"denominations": [15 * EUR]})
    with pytest.raises(DenominationNotAllowed):
        await ledger.topup(db, card_id, 20 * EUR, actor="anna")
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            card = await ledger.locked_card(session, card_id)
            await ledger.topup_locked(session, card, 15 * EUR, actor="anna")
            raise RuntimeError("the rest of the transaction failed")
    assert await events(db) == []


async def test_another_projects_moves_send_nothing(db: Database) -> None:
    await shop(db)
    await projects.create_project(db, "other", "money")
    [other] = await cardbatch.create_cards(db, "other", 1, 10 * EUR, secret=SECRET)
    await adjustments.adjust(db, other.card_id, -10 * EUR, actor="anna", reason="fix")
    assert await events(db) == []


async def test_low_balance_once_per_crossing_and_exhausted_at_zero(db: Database) -> None:
    card_id = await shop(db)
    for amount in (-3, -3, -1, +5, -5, -3):  # 7, 4 (crossed), 3, 8, 3 (crossed), 0
        await adjustments.adjust(db, card_id, amount * EUR, actor="anna", reason="test")
    assert [(k, d["balance"]) for k, d in await events(db)] == [
        ("card.low_balance", 4 * EUR),
        ("card.low_balance", 3 * EUR),
        ("card.exhausted", 0),
    ]
    assert (await events(db))[0][1]["threshold"] == 5 * EUR


async def test_a_call_ended_event_carries_its_billed_seconds_and_charge(db: Database) -> None:
    await shop(db)
    [card] = await cardbatch.create_cards(db, "astro", 1, 10 * EUR, secret=SECRET)
    await bill_call(db, card.serial, "call-7", 120, dialed="+498912345671")
    [(_, data)] = [e for e in await events(db) if e[0] == "call.ended"]
    assert (data["call_id"], data["serial"], data["billed_seconds"]) == ("call-7", card.serial, 120)
    assert data["charge"] == 2 * 19_900


@pytest.mark.books_broken
async def test_the_strict_audit_finds_a_topup_its_webhook_never_heard_of(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR)
    await ledger.topup(db, card.card_id, 15 * EUR, actor="anna")  # before any webhook: not its
    await shop_hook(db)
    later = utcnow() + timedelta(minutes=2)
    await ledger.topup(db, card.card_id, 15 * EUR, actor="anna", now=later)
    assert await strict_audit(db) == []
    async with db.transaction() as session:
        await session.execute(delete(WebhookDelivery))
    [breach] = await strict_audit(db)
    assert breach.invariant == "a top-up is announced to each webhook subscribed then"
    assert breach.subject == "webhook 1"

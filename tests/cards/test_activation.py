"""PIN activation: binding, moves, lockout per line and per card, and its expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cards.db import Database
from cards.errors import Conflict
from cards.models import Card, PinFailure
from cards.services import activation, cardbatch
from cards.services.activation import Activation
from cards.services.projects import get_project
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LINE_A = "+4930123456"
LINE_B = "+4940123456"


def wrong(pin: str) -> str:
    return pin[:-1] + str((int(pin[-1]) + 1) % 10)


async def test_right_pin_binds_the_line(db: Database) -> None:
    [card] = await project_with_cards(db)
    project = await get_project(db, "astro")
    result = await activation.activate(db, "astro", "030 123456", card.pin, secret=SECRET, now=T0)
    assert result.status is Activation.ACTIVATED
    assert result.moved_from is None
    bound = await activation.card_for_line(db, project.id, LINE_A)
    assert bound is not None
    assert bound.serial == card.serial
    assert (await cardbatch.get_card(db, card.serial)).status == "active"


async def test_pin_from_another_line_moves_the_card(db: Database) -> None:
    [card] = await project_with_cards(db)
    project = await get_project(db, "astro")
    await activation.activate(db, "astro", LINE_A, card.pin, secret=SECRET, now=T0)
    result = await activation.activate(db, "astro", LINE_B, card.pin, secret=SECRET, now=T0)
    assert result.moved_from == LINE_A
    assert await activation.card_for_line(db, project.id, LINE_A) is None
    assert await activation.line_of(db, card.serial) == LINE_B


async def test_operator_line_move(db: Database) -> None:
    [card] = await project_with_cards(db)
    await activation.activate(db, "astro", LINE_A, card.pin, secret=SECRET, now=T0)
    moved = await activation.move_line(db, card.serial, "040 123456")
    assert moved == activation.LineMove(LINE_A, LINE_B, None)
    assert await activation.line_of(db, card.serial) == LINE_B


async def test_a_line_held_by_another_card_moves_only_with_force(db: Database) -> None:
    first, second = await project_with_cards(db, count=2)
    await activation.activate(db, "astro", LINE_A, first.pin, secret=SECRET, now=T0)
    with pytest.raises(Conflict, match=f"bound to card {first.serial}: add --force"):
        await activation.move_line(db, second.serial, LINE_A)
    assert await activation.line_of(db, first.serial) == LINE_A
    moved = await activation.move_line(db, second.serial, LINE_A, force=True)
    assert moved == activation.LineMove(None, LINE_A, first.serial)
    assert await activation.line_of(db, first.serial) is None
    assert await activation.line_of(db, second.serial) == LINE_A


async def test_unblock_returns_a_card_to_what_it_was(db: Database) -> None:
    fresh, used = await project_with_cards(db, count=2)
    await activation.activate(db, "astro", LINE_A, used.pin, secret=SECRET, now=T0)
    for card, before in ((fresh, "new"), (used, "active")):
        await cardbatch.set_blocked(db, card.serial, True)
        assert (await cardbatch.set_blocked(db, card.serial, False)).status == before


async def test_activating_a_second_card_replaces_the_line_binding(db: Database) -> None:
    first, second = await project_with_cards(db, count=2)
    project = await get_project(db, "astro")
    await activation.activate(db, "astro", LINE_A, first.pin, secret=SECRET, now=T0)
    await activation.activate(db, "astro", LINE_A, second.pin, secret=SECRET, now=T0)
    bound = await activation.card_for_line(db, project.id, LINE_A)
    assert bound is not None
    assert bound.serial == second.serial
    assert await activation.line_of(db, first.serial) is None


async def test_lockout_after_five_failures_refuses_even_the_right_pin(db: Database) -> None:
    [card] = await project_with_cards(db)
    for i in range(5):
        result = await activation.activate(
            db, "astro", LINE_A, wrong(card.pin), secret=SECRET, now=T0 + timedelta(seconds=i)
        )
        assert result.status is Activation.INVALID
    locked = await activation.activate(
        db, "astro", LINE_A, card.pin, secret=SECRET, now=T0 + timedelta(minutes=1)
    )
    assert locked.status is Activation.LOCKED
    other_line = await activation.activate(
        db, "astro", LINE_B, card.pin, secret=SECRET, now=T0 + timedelta(minutes=1)
    )
    assert other_line.status is Activation.ACTIVATED
    async with db.transaction() as session:
        logged = await session.scalar(
            select(func.count()).select_from(PinFailure).where(PinFailure.locked.is_(True))
        )
    assert logged == 1


async def test_lockout_expires_after_the_window(db: Database) -> None:
    [card] = await project_with_cards(db, settings={"lockout_failures": 3, "lockout_window": 600})
    for i in range(3):
        await activation.activate(
            db, "astro", LINE_A, "00000000", secret=SECRET, now=T0 + timedelta(seconds=i)
        )
    still = await activation.activate(
        db, "astro", LINE_A, card.pin, secret=SECRET, now=T0 + timedelta(seconds=590)
    )
    assert still.status is Activation.LOCKED
    later = await activation.activate(
        db, "astro", LINE_A, card.pin, secret=SECRET, now=T0 + timedelta(seconds=603)
    )
    assert later.status is Activation.ACTIVATED


async def test_failures_count_against_the_bound_card_across_lines(db: Database) -> None:
    first, second = await project_with_cards(db, count=2, settings={"lockout_failures": 2})
    await activation.activate(db, "astro", LINE_A, first.pin, secret=SECRET, now=T0)
    for _ in range(2):
        await activation.activate(db, "astro", LINE_A, wrong(second.pin), secret=SECRET, now=T0)
    project = await get_project(db, "astro")
    async with db.transaction() as session:
        by_card = await session.scalar(
            select(func.count()).select_from(PinFailure).where(PinFailure.card_id == first.card_id)
        )
    assert by_card == 2
    assert await activation.card_for_line(db, project.id, LINE_A) is not None


async def test_blocked_and_expired_cards_do_not_activate(db: Database) -> None:
    first, second = await project_with_cards(db, count=2)
    await cardbatch.set_blocked(db, first.serial, True)
    result = await activation.activate(db, "astro", LINE_A, first.pin, secret=SECRET, now=T0)
    assert result.status is Activation.BLOCKED
    async with db.transaction() as session:
        card = await session.get_one(Card, second.card_id)
        card.expires_at = T0
    result = await activation.activate(db, "astro", LINE_A, second.pin, secret=SECRET, now=T0)
    assert result.status is Activation.EXPIRED


async def test_typo_pins_are_failures_not_errors(db: Database) -> None:
    [card] = await project_with_cards(db)
    for typo in ("", "12ab", card.pin + "1", card.pin[:-1]):
        result = await activation.activate(db, "astro", LINE_A, typo, secret=SECRET, now=T0)
        assert result.status is Activation.INVALID

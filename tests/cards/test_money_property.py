"""Random sequences of API and CLI money moves — with replayed and reused keys, racing twins,
blocks, unblocks and expiries — on SQLite and PostgreSQL: after every step each balance is
what a plain model of the rules says, and the strict audit holds (issue 22, build item 10)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cards.db import Database
from cards.errors import CardsError
from cards.models import Project
from cards.services import adjustments, api_views, card_life, cardbatch, ledger
from cards.services.strict_audit import strict_audit
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

RUNS = itertools.count()
EUR = 10_000
DENOMINATIONS = [15 * EUR, 25 * EUR]
KEYS = ["k1", "k2", "k3"]

api_move = st.tuples(
    st.just("api"),
    st.sampled_from(["topup", "credit", "debit"]),
    st.integers(0, 1),
    st.sampled_from([*DENOMINATIONS, 7, 20 * EUR]),
    st.sampled_from(KEYS),
)
cli_move = st.tuples(
    st.just("cli"),
    st.sampled_from(["topup", "adjust"]),
    st.integers(0, 1),
    st.sampled_from([*DENOMINATIONS, 3 * EUR, -3 * EUR]),
    st.sampled_from([None, *KEYS]),
)
state_change = st.tuples(
    st.just("state"), st.sampled_from(["block", "unblock", "expire"]), st.integers(0, 1)
)
race = st.tuples(st.just("race"), st.integers(0, 1), st.sampled_from(KEYS))
steps = st.lists(st.one_of(api_move, cli_move, state_change, race), min_size=1, max_size=12)


@dataclass
class Model:
    """What the rules say each card holds, and what each key is bound to."""

    balances: list[int]
    status: list[str] = field(default_factory=lambda: ["new", "new"])
    api_keys: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    cli_keys: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    def allows(self, card: int, move: str, amount: int) -> bool:
        if self.status[card] == "expired":
            return False
        if self.status[card] == "blocked" and move in ("topup", "credit", "debit"):
            return False
        if move == "topup" and amount not in DENOMINATIONS:
            return False
        return self.balances[card] + self.signed(move, amount) >= 0

    @staticmethod
    def signed(move: str, amount: int) -> int:
        return -amount if move == "debit" else amount


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_any_sequence_of_money_moves_keeps_the_books(
    db: Database, data: st.DataObject
) -> None:
    run = next(RUNS)  # the examples share the database: fresh cards and keys for each
    if run == 0 or not await _has_project(db):
        cards = await project_with_cards(
            db, unit="money", value=10 * EUR, count=2,
            settings={"denominations": DENOMINATIONS}, name="prop",
        )  # fmt: skip
    else:
        cards = await cardbatch.create_cards(db, "prop", 2, 10 * EUR, secret=SECRET)
    ids = [c.card_id for c in cards]
    model = Model([10 * EUR, 10 * EUR])
    project_id = (await cardbatch.get_card(db, cards[0].serial)).project_id
    for drawn in data.draw(steps):
        step = tuple(f"{run}-{v}" if v in KEYS else v for v in drawn)
        kind = step[0]
        if kind == "api":
            _, move, card, amount, key = step
            await _api(db, model, project_id, cards[card].serial, card, move, amount, key)
        elif kind == "cli":
            _, move, card, amount, key = step
            await _cli(db, model, ids[card], card, move, amount, key)
        elif kind == "state":
            await _state(db, model, cards[step[2]].serial, step[2], step[1])
        else:
            _, card, key = step
            # Twins with one key and different bodies: exactly one may move money.
            before = list(model.balances)
            results = await asyncio.gather(
                *(
                    _api(db, model, project_id, cards[card].serial, card, "credit", amount, key)
                    for amount in (101, 102, 103)
                ),
                return_exceptions=True,
            )
            assert not [r for r in results if isinstance(r, BaseException)], results
            assert abs(sum(model.balances) - sum(before)) <= 103
        for card_id, expected in zip(ids, model.balances, strict=True):
            assert (await ledger_balance(db, card_id)) == expected, step
        assert await strict_audit(db) == []


async def _api(
    db: Database, model: Model, project_id: int, serial: str, card: int, move: str, amount: int,
    key: str,
) -> None:  # fmt: skip
    body: dict[str, object] = {"amount": amount}
    if move != "topup":
        body["reason"] = "property"
    request = api_views.MoveRequest(
        project_id=project_id, serial=serial, kind=move, body=body, key=key,
        fingerprint=api_views.fingerprint("POST", f"/v1/cards/{serial}/{move}s", body),
        actor="api token 1",
    )  # fmt: skip
    bound = model.api_keys.get(key)
    try:
        moved = await api_views.move(db, request)
    except CardsError:
        assert bound != (move, card, amount) or bound is None
        return
    if bound is not None:
        assert moved.replayed and bound == (move, card, amount)
        return
    assert model.allows(card, move, amount), (move, card, amount, model)
    model.api_keys[key] = (move, card, amount)
    model.balances[card] += model.signed(move, amount)


async def _cli(
    db: Database, model: Model, card_id: int, card: int, move: str, amount: int, key: str | None
) -> None:
    bound = model.cli_keys.get(key) if key else None
    try:
        if move == "topup":
            done = await ledger.topup(db, card_id, amount, actor="cli", key=key)
        else:
            done = await adjustments.adjust(db, card_id, amount, actor="cli", reason="p", key=key)
    except CardsError:
        return
    if done.replayed:
        assert bound == (move, card, amount)
        return
    assert bound is None
    allowed = model.status[card] != "expired" and (
        move == "adjust" or (model.status[card] != "blocked" and amount in DENOMINATIONS)
    )
    assert allowed and model.balances[card] + amount >= 0, (move, card, amount, model)
    if key:
        model.cli_keys[key] = (move, card, amount)
    model.balances[card] += amount


async def _state(db: Database, model: Model, serial: str, card: int, change: str) -> None:
    status = model.status[card]
    refused = (
        status == "expired"
        or (change == "block" and status == "blocked")
        or (change == "unblock" and status != "blocked")
    )
    try:
        if change == "expire":
            await card_life.expire(db, serial, reason="property", actor="t")
            model.status[card], model.balances[card] = "expired", 0
        else:
            await cardbatch.set_blocked(db, serial, change == "block", actor="t")
            model.status[card] = "blocked" if change == "block" else "active"
    except CardsError:
        assert refused, (change, status)
        return
    assert not refused, (change, status)


async def _has_project(db: Database) -> bool:
    async with db.read() as session:
        return await session.scalar(select(Project.id).where(Project.name == "prop")) is not None


async def ledger_balance(db: Database, card_id: int) -> int:
    async with db.read() as session:
        return (await ledger.locked_card(session, card_id)).balance

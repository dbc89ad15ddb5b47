"""Per-token caps on API money moves: over the per-request cap or past the per-day cap (UTC day,
top-ups, credits, debits and refunds through that token) is 422 with its own code and moves
nothing; a replay of a move made before the cap still replays."""

from __future__ import annotations

import asyncio

from cards.db import Database
from cards.services import token_caps
from tests.api.conftest import EUR
from tests.support.api_client import Server


async def test_a_token_over_its_caps_is_refused_with_a_code_of_its_own(
    api: Server, db: Database
) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    first = await api.call(
        "POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": "c-1"}
    )
    assert first[0] == 201
    await token_caps.set_caps(db, 1, 25 * EUR, 40 * EUR)  # the write token is the first made
    status, body = await api.call(
        "POST", path, api.write, {"amount": 50 * EUR}, **{"Idempotency-Key": "c-2"}
    )
    assert (status, body["code"]) == (422, "token_cap_per_request")
    status, body = await api.call(
        "POST", f"/v1/cards/{api.serial}/credits", api.write,
        {"amount": 15 * EUR + 1, "reason": "goodwill"}, **{"Idempotency-Key": "c-3"},
    )  # fmt: skip
    assert (status, body["code"]) == (422, "token_cap_per_day")
    assert "150000 left today" in body["detail"]
    again = await api.call(
        "POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": "c-1"}
    )
    assert again == first  # made before the cap: replayed, not refused
    status, _ = await api.call(
        "POST", f"/v1/cards/{api.serial}/debits", api.write,
        {"amount": 15 * EUR, "reason": "goods"}, **{"Idempotency-Key": "c-4"},
    )  # fmt: skip
    assert status == 201  # 25 + 15 = 40 EUR: the day's cap exactly
    card = (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]
    assert card["balance"] == (10 + 25 - 15) * EUR
    await token_caps.set_caps(db, 1, None, None)
    status, _ = await api.call(
        "POST", path, api.write, {"amount": 50 * EUR}, **{"Idempotency-Key": "c-5"}
    )
    assert status == 201


async def test_two_moves_at_once_cannot_both_pass_the_daily_cap(api: Server, db: Database) -> None:
    await token_caps.set_caps(db, 1, None, 25 * EUR)
    path = f"/v1/cards/{api.serial}/topups"
    answers = await asyncio.gather(
        *(
            api.call("POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": f"t-{i}"})
            for i in range(4)
        )
    )
    assert sorted(status for status, _ in answers) == [201, 422, 422, 422]
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 35 * EUR


async def test_refunds_count_towards_the_daily_cap(api: Server, db: Database) -> None:
    """A refund pays money out on the token's word: a capped token cannot refund past its day."""
    await token_caps.set_caps(db, 1, 5 * EUR, 5 * EUR)
    path = f"/v1/cards/{api.serial}/refunds"
    body = {"amount": 5 * EUR, "reason": "returned goods"}
    first = await api.call("POST", path, api.write, body, **{"Idempotency-Key": "r-1"})
    assert first[0] == 201
    status, answer = await api.call("POST", path, api.write, body, **{"Idempotency-Key": "r-2"})
    assert (status, answer["code"]) == (422, "token_cap_per_day")
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 5 * EUR

"""Money at the API's edges (issue 22), on SQLite and PostgreSQL: an Idempotency-Key is bound
to method, path and body; racing twins move money once and every answer tells the truth; a
card's state decides what may move; refusals are RFC 9457 problems with distinct codes."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import aiohttp
from sqlalchemy import update

from cards.clock import utcnow
from cards.db import Database
from cards.models import Card
from cards.services import card_life, cardbatch, line_prices, reports
from testbed.astro import SECRET
from tests.api.conftest import EUR
from tests.support.api_client import PROBLEM_KEYS, Server


async def balance(api: Server, serial: str | None = None) -> int:
    status, card = await api.call("GET", f"/v1/cards/{serial or api.serial}", api.read)
    assert status == 200, card
    return int(card["balance"])


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_a_key_is_bound_to_its_card_operation_and_body(api: Server, db: Database) -> None:
    """Finding 1: the same key and body on debits, another card or an unknown card was a
    silent 201 replay of the first credit, and nothing was debited."""
    [second] = await cardbatch.create_cards(db, "astro", 1, 10 * EUR, secret=SECRET)
    body = {"amount": 500, "reason": "r"}
    first = await api.call("POST", f"/v1/cards/{api.serial}/credits", api.write, body, **key("x1"))
    assert first[0] == 201
    for path in (
        f"/v1/cards/{api.serial}/debits",
        f"/v1/cards/{second.serial}/debits",
        f"/v1/cards/{second.serial}/credits",
        "/v1/cards/0000000000/debits",
    ):
        status, answer = await api.call("POST", path, api.write, body, **key("x1"))
        assert (status, answer["code"]) == (409, "idempotency_key_reused"), (path, answer)
        assert set(answer) == PROBLEM_KEYS
    assert await balance(api) == 10 * EUR + 500
    assert await balance(api, second.serial) == 10 * EUR


async def test_a_replay_says_so_and_answers_the_first_body(api: Server) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    async with _raw(api, path, {"amount": 15 * EUR}, "r-1") as (status, headers, body):
        assert status == 201 and "Idempotent-Replayed" not in headers
        first = body
    async with _raw(api, path, {"amount": 15 * EUR}, "r-1") as (status, headers, body):
        assert (status, headers.get("Idempotent-Replayed"), body) == (201, "true", first)
    assert await balance(api) == 25 * EUR


async def test_racing_twins_with_one_key_move_money_once_and_tell_the_truth(
    api: Server,
) -> None:
    """Finding 2: 30 parallel credits and debits with one key and different amounts. Exactly
    one moved money; the 201 answers are all that one's; everyone else is 409."""
    path = f"/v1/cards/{api.serial}"
    for run in range(3):
        before = await balance(api)
        amounts = random.Random(run).sample(range(1, 5_000), 30)
        requests = [
            (f"{path}/{'credits' if n % 2 else 'debits'}", {"amount": a, "reason": "race"})
            for n, a in enumerate(amounts)
        ]
        answers = await asyncio.gather(
            *(api.call("POST", p, api.write, b, **key(f"race-{run}")) for p, b in requests)
        )
        won = [(req, ans) for req, ans in zip(requests, answers, strict=True) if ans[0] == 201]
        assert all(a[0] in (201, 409) for a in answers), answers
        assert len({str(ans[1]) for _, ans in won}) == 1, won
        (winner_path, winner_body), (_, answer) = won[0]
        sign = 1 if winner_path.endswith("credits") else -1
        assert await balance(api) == before + sign * winner_body["amount"]
        assert answer["entries"][0]["amount"] == sign * winner_body["amount"]
        for (p, b), ans in zip(requests, answers, strict=True):
            if ans[0] == 201:
                assert (p, b) == (winner_path, winner_body)
            else:
                assert ans[1]["code"] == "idempotency_key_reused"


async def test_twins_with_the_same_body_get_the_same_answer(api: Server) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    answers = await asyncio.gather(
        *(api.call("POST", path, api.write, {"amount": 25 * EUR}, **key("same")) for _ in range(20))
    )
    assert {a[0] for a in answers} == {201} and len({str(a[1]) for a in answers}) == 1
    assert await balance(api) == 35 * EUR


async def test_an_expired_card_takes_no_money_in_or_out(api: Server, db: Database) -> None:
    """Finding 3: top-ups, credits and debits on an expired card answered 201."""
    await card_life.expire(db, api.serial, reason="x", actor="test")
    for op, body in (
        ("topups", {"amount": 25 * EUR}),
        ("credits", {"amount": 40 * EUR, "reason": "r"}),
        ("debits", {"amount": 1, "reason": "r"}),
    ):
        status, answer = await api.call(
            "POST", f"/v1/cards/{api.serial}/{op}", api.write, body, **key(f"e-{op}")
        )
        assert (status, answer["code"]) == (422, "card_expired"), answer
    assert await balance(api) == 0


async def test_a_card_past_its_date_is_expired_before_the_sweep(api: Server, db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Card)
            .where(Card.serial == api.serial)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    status, answer = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 25 * EUR}, **key("p")
    )
    assert (status, answer["code"]) == (422, "card_expired")
    assert await balance(api) == 10 * EUR


async def test_a_blocked_card_is_frozen_for_shops(api: Server, db: Database) -> None:
    await cardbatch.set_blocked(db, api.serial, True, actor="test", reason="lost")
    for op, body in (
        ("topups", {"amount": 25 * EUR}),
        ("credits", {"amount": EUR, "reason": "r"}),
        ("debits", {"amount": EUR, "reason": "r"}),
    ):
        status, answer = await api.call(
            "POST", f"/v1/cards/{api.serial}/{op}", api.write, body, **key(f"b-{op}")
        )
        assert (status, answer["code"]) == (422, "card_blocked"), answer
    assert await balance(api) == 10 * EUR
    # The key of a refused request is free: the same key works once the card is unblocked.
    await cardbatch.set_blocked(db, api.serial, False, actor="test", reason="found")
    status, _ = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 25 * EUR}, **key("b-topups")
    )
    assert status == 201 and await balance(api) == 35 * EUR


async def test_denominations_and_credits_have_codes_of_their_own(api: Server) -> None:
    path = f"/v1/cards/{api.serial}"
    status, answer = await api.call(
        "POST", f"{path}/topups", api.write, {"amount": 20 * EUR}, **key("d1")
    )
    assert (status, answer["code"]) == (422, "denomination_not_allowed")
    # Credits are not sales of credit: any amount, no bonus (README, "card-state rules").
    status, answer = await api.call(
        "POST", f"{path}/credits", api.write, {"amount": 7, "reason": "goodwill"}, **key("d2")
    )
    assert status == 201 and [e["kind"] for e in answer["entries"]] == ["credit"]
    status, answer = await api.call(
        "POST", f"{path}/debits", api.write, {"amount": 11 * EUR, "reason": "x"}, **key("d3")
    )
    assert (status, answer["code"]) == (422, "insufficient_funds")


async def test_protocol_refusals_are_problems_too(api: Server) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    cases = [
        ("GET", "/v1/nothing-here", None, {}, 404, "not_found"),
        ("PUT", path, {"amount": 1}, key("m"), 405, "method_not_allowed"),
        ("POST", path, b'{"amount": 1' + b" " * 70_000 + b"}", key("t"), 413, "too_large"),
        ("POST", path, b'{"amount": 150000}', {**key("u"), "Content-Type": "text/plain"}, 415,
         "unsupported_media_type"),
    ]  # fmt: skip
    for method, url, body, headers, status, code in cases:
        got, answer = await api.call(method, url, api.write, body, **headers)
        assert (got, answer["code"], answer["status"]) == (status, code, status), answer
        assert set(answer) == PROBLEM_KEYS
    assert await balance(api) == 10 * EUR


async def test_a_move_names_the_token_that_made_it(api: Server, db: Database) -> None:
    await api.call(
        "POST", f"/v1/cards/{api.serial}/credits", api.write, {"amount": 9, "reason": "book"},
        **key("who"),
    )  # fmt: skip
    entries = (await reports.transactions(db, card_ref=api.serial)).entries
    assert entries[-1].actor.startswith("api token ")
    assert entries[-1].idempotency_key is not None and entries[-1].idempotency_key.endswith(":who")


class _raw:
    """One request with the response's headers (the client helper keeps only the body)."""

    def __init__(self, api: Server, path: str, body: dict[str, int], idem: str) -> None:
        self.args = (api, path, body, idem)

    async def __aenter__(self) -> tuple[int, dict[str, str], object]:
        api, path, body, idem = self.args
        self.session = aiohttp.ClientSession()
        resp = await self.session.post(
            api.url + path, json=body,
            headers={"Authorization": f"Bearer {api.write}", "Idempotency-Key": idem},
        )  # fmt: skip
        return resp.status, dict(resp.headers), await resp.json()

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()


async def test_a_line_price_over_the_api_is_audited_to_the_token(api: Server, db: Database) -> None:
    """Finding 10: nothing wrote ``line_prices``."""
    path = "/v1/lines/030 123456/price"
    status, answer = await api.call("PUT", path, api.write, {"tariff": "gold"})
    assert (status, answer["code"]) == (404, "not_found")
    assert (await api.call("PUT", path, api.read, {"tariff": "standard"}))[0] == 403
    status, answer = await api.call("PUT", path, api.write, {"tariff": "standard"})
    assert (status, answer) == (200, {"line": "+4930123456", "tariff": "standard"})
    assert await line_prices.price_of(db, "astro", "+4930123456") == "standard"
    assert await line_prices.price_of(db, "other", "+4930123456") is None
    assert (await api.call("DELETE", path, api.other))[0] == 404
    status, answer = await api.call("DELETE", path, api.write)
    assert (status, answer["tariff"]) == (200, None)
    history = await reports.history(db, project_ref="astro")
    assert [h.actor.startswith("api token ") for h in history if h.action == "line_price"] == [
        True,
        True,
    ]


async def test_parallel_debits_with_their_own_keys_never_overdraw(api: Server) -> None:
    """Review of issue 22: the card read before its lock was not read again, and on PostgreSQL
    30 parallel debits of 5 EUR all passed on a 10 EUR card."""
    path = f"/v1/cards/{api.serial}/debits"
    answers = await asyncio.gather(
        *(
            api.call("POST", path, api.write, {"amount": 5 * EUR, "reason": "x"}, **key(f"d{n}"))
            for n in range(30)
        )
    )
    statuses = sorted(a[0] for a in answers)
    assert statuses == [201, 201] + [422] * 28, statuses
    assert {a[1]["code"] for a in answers if a[0] == 422} == {"insufficient_funds"}
    assert await balance(api) == 0


async def test_odd_input_is_a_clear_refusal_never_an_outage(api: Server) -> None:
    for method, url in (
        ("GET", "/v1/cards/%00"),
        ("POST", "/v1/cards/%00/debits"),
        ("GET", "/v1/calls?card=%00"),
    ):
        body = {"amount": 1, "reason": "x"} if method == "POST" else None
        status, answer = await api.call(method, url, api.write, body, **key("nul"))
        assert (status, answer["code"]) == (404, "not_found"), (url, answer)
    deep = b"[" * 20_000 + b"]" * 20_000
    status, answer = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, deep, **key("deep")
    )
    assert (status, answer["code"]) == (400, "bad_json")

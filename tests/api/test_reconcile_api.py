"""Reconciling through the API (issue 25 item 4): cursor pages on the ledger, the call records and
the card listing; entries with their id and key; refund, block and unblock by the CLI's rules."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.db import Database
from cards.services import card_life, cardbatch, reports
from testbed.astro import SECRET
from tests.api.conftest import EUR
from tests.support.api_client import Server
from tests.support.settlements import bill_call

ADVISOR = "+498912345671"
KEYS = itertools.count()


async def credit(api: Server, amount: int = EUR) -> None:
    status, _ = await api.call(
        "POST", f"/v1/cards/{api.serial}/credits", api.write,
        {"amount": amount, "reason": "goodwill"}, **{"Idempotency-Key": f"k-{next(KEYS)}"},
    )  # fmt: skip
    assert status == 201


async def every_page(api: Server, path: str, limit: int) -> list[dict[str, Any]]:
    """Follow ``next_after`` to the end; each page holds at most ``limit`` items."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&after={after}" if after else "")
        status, page = await api.call("GET", url, api.read)
        assert status == 200, page
        assert set(page) == {"items", "next_after"}
        assert len(page["items"]) <= limit
        items += page["items"]
        if page["next_after"] is None:
            return items
        assert len(page["items"]) == limit  # a cursor only after a full page
        after = page["next_after"]


async def test_the_ledger_comes_in_pages_of_limit(api: Server) -> None:
    """Finding: /transactions returned everything and ignored ``limit``."""
    for _ in range(6):
        await credit(api)
    path = f"/v1/cards/{api.serial}/transactions"
    status, first = await api.call("GET", f"{path}?limit=3", api.read)
    assert status == 200 and len(first["items"]) == 3 and first["next_after"]
    entries = await every_page(api, path, 3)
    assert [e["kind"] for e in entries] == ["voucher"] + ["credit"] * 6
    ids = [e["id"] for e in entries]
    assert ids == sorted(set(ids))
    assert (await api.call("GET", path, api.read))[1]["items"] == entries  # default 100


async def test_call_records_come_in_pages_none_cut_silently(api: Server, db: Database) -> None:
    """Finding: /calls stopped at 1,000 rows with no cursor and no sign that it was cut."""
    for n in range(5):
        await bill_call(db, api.serial, f"call-{n}", 60, dialed=ADVISOR)
    status, page = await api.call("GET", "/v1/calls?limit=2", api.read)
    assert (status, len(page["items"])) == (200, 2) and page["next_after"]
    calls = await every_page(api, f"/v1/calls?card={api.serial}", 2)
    assert [c["call_id"] for c in calls] == [f"call-{n}" for n in range(5)]
    assert all(c["charge_start_at"] and c["billed_seconds"] == 60 for c in calls)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "limit"), ("limit=501", "limit"), ("limit=-1", "limit"),
        ("limit=1.5", "limit"), ("limit=abc", "limit"), ("limit=%EF%BC%91", "limit"),
        ("after=garbage", "after"), ("after=", "after"), ("after=MTIz", "after"),
        ("limit=" + "0" * 4400 + "1", "limit"),  # past Python's int() digit limit: no 500
    ],
)  # fmt: skip
async def test_bad_page_parameters_are_400(api: Server, query: str, code: str) -> None:
    for path in (f"/v1/cards/{api.serial}/transactions", "/v1/calls", "/v1/cards"):
        status, body = await api.call("GET", f"{path}?{query}", api.read)
        assert (status, body["code"]) == (400, code), (path, body)


async def test_a_batch_number_of_thousands_of_digits_is_400(api: Server) -> None:
    status, body = await api.call("GET", "/v1/cards?batch=" + "0" * 4400 + "1", api.read)
    assert (status, body["code"]) == (400, "invalid_input")


async def test_a_changed_or_foreign_cursor_is_400(api: Server, db: Database) -> None:
    await credit(api)
    path = f"/v1/cards/{api.serial}/transactions"
    cursor = (await api.call("GET", f"{path}?limit=1", api.read))[1]["next_after"]
    assert (await api.call("GET", f"{path}?limit=1&after={cursor}", api.read))[0] == 200
    flipped = cursor[:3] + ("A" if cursor[3] != "A" else "B") + cursor[4:]
    [other] = await cardbatch.create_cards(db, "astro", 1, 10 * EUR, secret=SECRET)
    for url in (
        f"{path}?after={flipped}",
        f"/v1/cards/{other.serial}/transactions?after={cursor}",  # another card's list
        f"/v1/calls?after={cursor}",
        f"/v1/cards?status=new&after={cursor}",
    ):
        status, body = await api.call("GET", url, api.read)
        assert (status, body["code"]) == (400, "after"), url


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3)), min_size=1, max_size=6))
async def test_rows_added_between_pages_are_neither_skipped_nor_repeated(
    api: Server, steps: list[tuple[int, int]]
) -> None:
    """Property: a walk that reads a page of ``limit``, adds ``k`` entries, reads on by
    ``next_after`` (pages of 1 once the steps are used up) until it is null, reads every entry
    that existed when it started and every later one up to its last, each once, in id order."""
    path = f"/v1/cards/{api.serial}/transactions"
    at_start = [e["id"] for e in (await api.call("GET", f"{path}?limit=500", api.read))[1]["items"]]
    seen: list[int] = []
    after = None
    for limit, added in itertools.chain(steps, itertools.repeat((1, 0))):
        url = f"{path}?limit={limit}" + (f"&after={after}" if after else "")
        page = (await api.call("GET", url, api.read))[1]
        seen += [e["id"] for e in page["items"]]
        for _ in range(added):
            await credit(api, 1)
        after = page["next_after"]
        if after is None:
            break
    ledger = [e["id"] for e in (await api.call("GET", f"{path}?limit=500", api.read))[1]["items"]]
    assert seen == [i for i in ledger if i <= seen[-1]]
    assert set(at_start) <= set(seen)


async def test_cards_are_listed_by_status_label_and_batch(api: Server, db: Database) -> None:
    """Finding: no card listing."""
    more = await cardbatch.create_cards(db, "astro", 3, 5 * EUR, secret=SECRET, label="fair")
    status, page = await api.call("GET", "/v1/cards?label=fair&limit=2", api.read)
    assert status == 200 and page["next_after"]
    fair = await every_page(api, "/v1/cards?label=fair", 2)
    assert [c["serial"] for c in fair] == [c.serial for c in more]
    assert {(c["status"], c["balance"], c["batch"]) for c in fair} == {("new", 5 * EUR, 2)}
    batch1 = (await api.call("GET", "/v1/cards?batch=1", api.read))[1]["items"]
    assert [c["serial"] for c in batch1] == [api.serial]
    assert api.other_serial not in {c["serial"] for c in await every_page(api, "/v1/cards", 500)}
    await api.call("POST", f"/v1/cards/{more[0].serial}/block", api.write)
    blocked = (await api.call("GET", "/v1/cards?status=blocked", api.read))[1]["items"]
    assert [c["serial"] for c in blocked] == [more[0].serial]
    for bad in ("status=lost", "batch=0", "batch=x", "label=%00", "colour=red"):
        assert (await api.call("GET", f"/v1/cards?{bad}", api.read))[0] == 400, bad


async def test_entries_carry_their_id_and_the_shops_key(api: Server) -> None:
    """Finding: ledger entries in answers carried no id."""
    status, moved = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 15 * EUR},
        **{"Idempotency-Key": "order-4711"},
    )  # fmt: skip
    assert status == 201
    [topup] = moved["entries"]
    assert topup["idempotency_key"] == "order-4711" and isinstance(topup["id"], int)
    ledger = (await api.call("GET", f"/v1/cards/{api.serial}/transactions", api.read))[1]
    voucher, listed = ledger["items"]
    assert listed == topup
    assert voucher["idempotency_key"] is None and voucher["id"] < topup["id"]


async def test_a_refund_by_api_follows_the_cli_rules_once_per_key(
    api: Server, db: Database
) -> None:
    """Finding: no refund endpoint. Idempotent as a top-up; the operator's refund rules (never
    more than the card holds; allowed on a blocked card, not on an expired one); audited."""
    path = f"/v1/cards/{api.serial}/refunds"
    body = {"amount": 4 * EUR, "reason": "order 12 cancelled"}
    first = await api.call("POST", path, api.write, body, **{"Idempotency-Key": "r-1"})
    again = await api.call("POST", path, api.write, body, **{"Idempotency-Key": "r-1"})
    assert first[0] == 201 and again == first
    [entry] = first[1]["entries"]
    assert (entry["kind"], entry["amount"], entry["idempotency_key"]) == ("refund", -4 * EUR, "r-1")
    assert first[1]["card"]["balance"] == 6 * EUR
    other = {"amount": 5 * EUR, "reason": "x"}
    refused = await api.call("POST", path, api.write, other, **{"Idempotency-Key": "r-1"})
    assert (refused[0], refused[1]["code"]) == (409, "idempotency_key_reused")
    too_much = {"amount": 7 * EUR, "reason": "x"}
    refused = await api.call("POST", path, api.write, too_much, **{"Idempotency-Key": "r-2"})
    assert (refused[0], refused[1]["code"]) == (422, "insufficient_funds")
    assert (await api.call("POST", path, api.read, body, **{"Idempotency-Key": "r-3"}))[0] == 403
    assert (await api.call("POST", path, api.write, body))[1]["code"] == "idempotency_key"
    assert (await api.call("POST", f"/v1/cards/{api.other_serial}/refunds", api.write, body,
                           **{"Idempotency-Key": "r-4"}))[0] == 404  # fmt: skip
    await api.call("POST", f"/v1/cards/{api.serial}/block", api.write)
    small = {"amount": EUR, "reason": "lost card paid out"}
    blocked = await api.call("POST", path, api.write, small, **{"Idempotency-Key": "r-5"})
    assert blocked[0] == 201
    [action, *_] = [a for a in await reports.history(db, card_ref=api.serial)
                    if a.action == "refund"]  # fmt: skip
    assert action.actor.startswith("api token") and action.reason == "order 12 cancelled"
    await card_life.expire(db, api.serial, reason="test", actor="maria")
    expired = await api.call("POST", path, api.write, small, **{"Idempotency-Key": "r-6"})
    assert (expired[0], expired[1]["code"]) == (422, "card_expired")


async def test_block_and_unblock_by_api_as_the_cli_does(api: Server, db: Database) -> None:
    """Finding: no block or unblock endpoint. A blocked card takes no top-up; blocking twice is
    409 as in the CLI; an expired card is neither blocked nor unblocked; audited to the token."""
    path = f"/v1/cards/{api.serial}"
    status, card = await api.call("POST", f"{path}/block", api.write, {"reason": "lost"})
    assert (status, card["status"], card["available"]) == (200, "blocked", 0)
    assert (await api.call("POST", f"{path}/block", api.write))[1]["code"] == "conflict"
    topup = await api.call(
        "POST", f"{path}/topups", api.write, {"amount": 15 * EUR}, **{"Idempotency-Key": "t"}
    )
    assert (topup[0], topup[1]["code"]) == (422, "card_blocked")
    assert (await api.call("POST", f"{path}/unblock", api.read))[0] == 403
    assert (await api.call("POST", f"/v1/cards/{api.other_serial}/block", api.write))[0] == 404
    assert (await api.call("POST", f"{path}/unblock", api.write, {"why": "x"}))[0] == 400
    status, card = await api.call("POST", f"{path}/unblock", api.write)
    assert (status, card["status"], card["available"]) == (200, "new", 10 * EUR)
    assert (await api.call("POST", f"{path}/unblock", api.write))[0] == 409
    actions = [(a.action, a.reason) for a in await reports.history(db, card_ref=api.serial)]
    assert actions == [("block", "lost"), ("unblock", None)]
    assert all(
        a.actor.startswith("api token") for a in await reports.history(db, card_ref=api.serial)
    )
    await card_life.expire(db, api.serial, reason="test", actor="maria")
    assert (await api.call("POST", f"{path}/block", api.write))[0] == 409

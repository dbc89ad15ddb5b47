"""The balance API against a real server on SQLite and PostgreSQL: tokens per project (404 for
another project's card), idempotent top-ups (replay, 409), strict input (400), /health and
/metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.db import Database
from cards.journal import Journal
from cards.services import activation
from pbx_engine.api.app import Api, Status
from testbed.astro import SECRET
from tests.api.conftest import EUR
from tests.support.api_client import PROBLEM_KEYS, Server

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
) | st.fixed_dictionaries({"amount": st.integers(min_value=-10, max_value=2**40)})


async def test_a_token_reads_its_own_projects_cards_only(api: Server) -> None:
    status, card = await api.call("GET", f"/v1/cards/{api.serial}", api.read)
    assert status == 200
    assert (card["balance"], card["available"], card["unit"]) == (10 * EUR, 10 * EUR, "money")
    for token in (api.other, None, "mct_not-a-token", "garbage"):
        status, body = await api.call("GET", f"/v1/cards/{api.serial}", token)
        assert status == (404 if token == api.other else 401), body
        assert set(body) == PROBLEM_KEYS
    status, _ = await api.call("GET", f"/v1/cards/{api.other_serial}", api.write)
    assert status == 404


async def test_a_topup_is_idempotent_and_a_reused_key_is_a_conflict(api: Server) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    first = await api.call(
        "POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": "o-1"}
    )
    again = await api.call(
        "POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": "o-1"}
    )
    assert first[0] == 201 and again == first
    assert first[1]["card"]["balance"] == 35 * EUR
    status, body = await api.call(
        "POST", path, api.write, {"amount": 50 * EUR}, **{"Idempotency-Key": "o-1"}
    )
    assert (status, body["code"]) == (409, "idempotency_key_reused")
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 35 * EUR


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        ({"amount": 25.0}, {"Idempotency-Key": "k"}, "amount"),
        ({"amount": "25"}, {"Idempotency-Key": "k"}, "amount"),
        ({"amount": True}, {"Idempotency-Key": "k"}, "amount"),
        ({"amount": 25 * EUR, "note": "x"}, {"Idempotency-Key": "k"}, "unknown_field"),
        ({"amount": 25 * EUR}, {}, "idempotency_key"),
        ({"amount": 25 * EUR}, {"Idempotency-Key": ""}, "idempotency_key"),
        (b"{not json", {"Idempotency-Key": "k"}, "bad_json"),
        (b"[1, 2]", {"Idempotency-Key": "k"}, "bad_json"),
    ],
)
async def test_bad_requests_are_400_and_move_nothing(
    api: Server, body: Any, headers: dict[str, str], code: str
) -> None:
    status, answer = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, body, **headers
    )
    assert (status, answer["code"]) == (400, code), answer
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 10 * EUR


async def test_a_read_token_cannot_top_up(api: Server) -> None:
    status, body = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.read, {"amount": 25 * EUR},
        **{"Idempotency-Key": "r"},
    )  # fmt: skip
    assert (status, body["code"]) == (403, "forbidden")


async def test_health_says_what_is_down_and_metrics_count(api: Server) -> None:
    status, body = await api.call("GET", "/health", None)
    assert (status, body["ari_connected"], body["database"]) == (200, True, True)
    api.ari_up[0] = False
    status, body = await api.call("GET", "/health", None)
    assert (status, body["ari_connected"]) == (503, False)
    await api.call("GET", f"/v1/cards/{api.serial}", None)
    status, text = await api.call("GET", "/metrics", None)
    assert status == 200
    assert 'minutecard_api_requests_total{route="/v1/cards/{serial}",status="401"} 1.0' in text
    assert "minutecard_live_calls 0.0" in text
    assert "minutecard_open_holds 0.0" in text
    assert 'minutecard_calls_total{outcome="hangup"} 2.0' in text
    assert 'minutecard_calls_refused_total{reason="loop_lag"} 3.0' in text
    assert 'minutecard_event_loop_lag_ms_bucket{le="1"} 5.0' in text
    assert 'minutecard_event_loop_lag_ms_bucket{le="100"} 5.0' in text
    assert 'minutecard_event_loop_lag_ms_bucket{le="200"} 6.0' in text
    assert 'minutecard_event_loop_lag_ms_bucket{le="+Inf"} 6.0' in text
    assert "minutecard_event_loop_lag_ms_sum 250.0" in text


async def test_ledger_line_and_calls_of_a_card(api: Server, db: Database) -> None:
    await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 15 * EUR},
        **{"Idempotency-Key": "t-1"},
    )  # fmt: skip
    status, page = await api.call("GET", f"/v1/cards/{api.serial}/transactions", api.read)
    assert (status, page["next_after"]) == (200, None)
    assert [(e["kind"], e["amount"]) for e in page["items"]] == [
        ("voucher", 10 * EUR),
        ("topup", 15 * EUR),
    ]
    assert (await api.call("GET", f"/v1/cards/{api.other_serial}/transactions", api.read))[0] == 404
    await activation.activate(db, "astro", "+4930123456", api.pin, secret=SECRET)
    status, card = await api.call("GET", "/v1/lines/030 123456", api.read)
    assert (status, card["serial"]) == (200, api.serial)
    assert (await api.call("GET", "/v1/lines/030 123456", api.other))[0] == 404
    assert (await api.call("GET", "/v1/lines/garbage", api.read))[0] == 400
    status, calls = await api.call("GET", "/v1/calls?caller=030123456&since=2026-01-01", api.read)
    assert (status, calls) == (200, {"items": [], "next_after": None})
    assert (await api.call("GET", "/v1/calls?since=yesterday", api.read))[0] == 400
    assert (await api.call("GET", "/v1/calls?who=x", api.read))[0] == 400
    assert (await api.call("GET", "/v1/live-calls", api.read)) == (200, [])


async def test_the_openapi_document_names_every_route(
    api: Server, db: Database, tmp_path: Path
) -> None:
    status, doc = await api.call("GET", "/v1/openapi.json", None)
    assert status == 200
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in Api(db, Status(bool, int, int, Journal(tmp_path / "j"))).app().router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=JSON_VALUES, key=st.text(max_size=120))
async def test_any_topup_request_gets_a_documented_answer(api: Server, body: Any, key: str) -> None:
    """Hypothesis over the schema's request: any JSON body and key → 201, 400 or 409 with the
    error shape; never a 500, never money moved by a refusal."""
    before = (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"]
    headers = {"Idempotency-Key": key} if key.isascii() and key.isprintable() else {}
    status, answer = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, body, **headers
    )
    assert status in (201, 400, 409, 413, 415, 422), answer  # 415: no body at all
    after = (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"]
    if status != 201:
        assert set(answer) == PROBLEM_KEYS
        assert after == before


async def test_credits_and_debits_with_a_reason_once_per_key(api: Server) -> None:
    path = f"/v1/cards/{api.serial}"
    debit = {"amount": 3 * EUR, "reason": "book sold"}
    first = await api.call("POST", f"{path}/debits", api.write, debit, **{"Idempotency-Key": "d1"})
    again = await api.call("POST", f"{path}/debits", api.write, debit, **{"Idempotency-Key": "d1"})
    assert first[0] == 201 and again == first
    assert first[1]["card"]["balance"] == 7 * EUR
    credit = {"amount": EUR, "reason": "goodwill"}
    status, body = await api.call(
        "POST", f"{path}/credits", api.write, credit, **{"Idempotency-Key": "c1"}
    )
    assert (status, body["card"]["balance"]) == (201, 8 * EUR)
    status, body = await api.call(
        "POST", f"{path}/debits", api.write, {"amount": 9 * EUR, "reason": "too much"},
        **{"Idempotency-Key": "d2"},
    )  # fmt: skip
    assert (status, body["code"]) == (422, "insufficient_funds")
    for bad in ({"amount": EUR}, {"amount": EUR, "reason": 5}, {"amount": EUR, "reason": " "}):
        status, body = await api.call(
            "POST", f"{path}/credits", api.write, bad, **{"Idempotency-Key": "c9"}
        )
        assert status == 400, (bad, body)
    assert (await api.call("GET", path, api.read))[1]["balance"] == 8 * EUR


async def test_twenty_parallel_requests_with_one_key_credit_once_and_answer_alike(
    api: Server,
) -> None:
    path = f"/v1/cards/{api.serial}/topups"
    answers = await asyncio.gather(
        *(
            api.call("POST", path, api.write, {"amount": 25 * EUR}, **{"Idempotency-Key": "par"})
            for _ in range(20)
        )
    )
    assert {json.dumps(a, sort_keys=True) for a in answers} == {
        json.dumps(answers[0], sort_keys=True)
    }
    assert answers[0][0] == 201
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 35 * EUR

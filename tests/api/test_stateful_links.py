"""Schemathesis's stateful phase over the served OpenAPI document's links (issue 25 item 7): it
walks list → card → top-up/refund → ledger, block → unblock, with a write token, and every
answer must be a documented status with a body and headers the document gives."""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks
from schemathesis.generation.stateful.state_machine import APIStateMachine

from cards.db import Database
from cards.services import cardbatch, strict_audit
from testbed.astro import SECRET
from tests.api.conftest import EUR
from tests.support.api_client import Server

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
STEPS = 100
"""Scenarios of up to 10 calls (about 1,000 requests): 32-40 s a database on this 2-core box at
load 10; 150 took 18 s idle."""


def machine(url: str, token: str, seen: list[tuple[str, int]]) -> type[APIStateMachine]:
    schema = schemathesis.openapi.from_url(f"{url}/v1/openapi.json")
    base: Any = schema.as_state_machine()

    class Shop(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            # The shop's own token, in place of whatever the generator put for the scheme.
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"timeout": 10}

        def after_call(self, response: Any, case: Any) -> None:
            seen.append((case.operation.label, response.status_code))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    return Shop


async def test_the_stateful_phase_over_the_links_finds_no_violation(
    api: Server, db: Database
) -> None:
    """The document's links are followed (a card listed is read, its ledger, top-ups, refunds,
    blocks on it); any undocumented status, body or header fails; the books still hold."""
    await cardbatch.create_cards(db, "astro", 3, 20 * EUR, secret=SECRET, label="fair")
    run = settings(
        max_examples=STEPS, stateful_step_count=10, deadline=None, derandomize=True,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck), database=None,
    )  # fmt: skip
    # The machine speaks plain blocking HTTP: it runs in a thread while this loop serves.
    seen: list[tuple[str, int]] = []
    await asyncio.to_thread(lambda: machine(api.url, api.write, seen).run(settings=run))
    followed = {("GET /v1/cards/{serial}", 200), ("GET /v1/cards/{serial}/transactions", 200)}
    assert followed <= set(seen), sorted(set(seen))  # links led to real cards, not only 404s
    writes = {op for op, status in seen if op.startswith("POST /v1/cards/") and status != 404}
    assert len(writes) >= 3, sorted(set(seen))  # and writes reached them (2xx or their 4xx rules)
    status, page = await api.call("GET", "/v1/cards?limit=500", api.read)
    assert status == 200 and len(page["items"]) == 4
    assert await strict_audit.strict_audit(db) == []

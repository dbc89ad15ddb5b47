"""A running balance API on SQLite and PostgreSQL: a money project's card, another project's card,
write, read and foreign tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cards.db import Database
from cards.journal import Journal
from cards.services import cardbatch, projects, tokens
from pbx_engine.api.app import Api, Status, serve
from pbx_engine.api.limits import Limits
from testbed.postgres import free_port
from tests.cards.helpers import project_with_cards
from tests.support.api_client import Server

EUR = 10_000
SHOP = {"denominations": [15 * EUR, 25 * EUR, 50 * EUR]}


MANY_FAILURES = Limits(auth_failures=1_000_000)
"""These servers take wrong tokens on purpose, many; the throttle has tests of its own."""


async def start(
    db: Database, tmp_path: Path, ari_up: list[bool], limits: Limits = MANY_FAILURES
) -> tuple[Server, Any]:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    await projects.create_project(db, "other", "money")
    [other_card] = await cardbatch.create_cards(db, "other", 1, 10 * EUR, secret=b"x" * 20)
    write, _ = await tokens.create(db, "astro", "write")
    read, _ = await tokens.create(db, "astro", "read")
    other, _ = await tokens.create(db, "other", "write")
    status = Status(
        lambda: ari_up[0], lambda: 0, lambda: 0, Journal(tmp_path / "j.jsonl"),
        outcomes=lambda: {"hangup": 2},
        refused=lambda: {"loop_lag": 3},
        loop_lag=lambda: ([5, 0, 0, 0, 0, 0, 0, 1] + [0] * 4, 250),
    )  # fmt: skip
    port = free_port()
    runner = await serve(Api(db, status, limits), "127.0.0.1", port)
    server = Server(
        f"http://127.0.0.1:{port}", write, read, other, card.serial, other_card.serial, ari_up
    )
    server.pin = card.pin
    return server, runner


@pytest.fixture
async def api(db: Database, tmp_path: Path) -> AsyncIterator[Server]:
    server, runner = await start(db, tmp_path, [True])
    yield server
    await runner.cleanup()

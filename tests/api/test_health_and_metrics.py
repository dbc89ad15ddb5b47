"""/health/live and /health/ready (ARI reported, not required), /health as before, and /metrics
as Prometheus reads it: running totals as counters, a latency histogram per route pattern, and
an answer from memory while the database is away (``minutecard_database_up 0``)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from cards.db import Database
from cards.journal import Journal
from cards.migrate import upgrade
from pbx_engine.api.app import Api, Status, serve
from testbed.postgres import PrivatePostgres, free_port
from tests.support.api_client import Server


async def test_an_api_without_ari_is_ready_and_health_stays_as_it_was(api: Server) -> None:
    api.ari_up[0] = False
    assert await api.call("GET", "/health/live", None) == (200, {"status": "live"})
    status, body = await api.call("GET", "/health/ready", None)
    assert (status, body["status"]) == (200, "ready")
    assert body["components"] == {
        "database": {"ok": True, "required": True},
        "journal": {"ok": True, "required": True, "pending": 0},
        "ari": {"ok": False, "required": False},
    }
    status, body = await api.call("GET", "/health", None)
    assert (status, body["ari_connected"], body["database"]) == (503, False, True)


async def test_metrics_are_typed_as_prometheus_expects(api: Server) -> None:
    await api.call("GET", f"/v1/cards/{api.serial}", api.read)
    await api.call("GET", f"/v1/cards/{api.other_serial}", api.read)
    text = (await api.call("GET", "/metrics", None))[1]
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("minutecard_settle_retries", "minutecard_billed_seconds",
                 "minutecard_ari_connects", "minutecard_api_requests", "minutecard_calls",
                 "minutecard_api_throttled"):  # fmt: skip
        assert families[name].type == "counter", name
    for name in ("minutecard_live_calls", "minutecard_open_holds", "minutecard_database_up"):
        assert families[name].type == "gauge", name
    latency = families["minutecard_api_request_duration_seconds"]
    assert latency.type == "histogram"
    counts = {s.labels["route"]: s.value for s in latency.samples if s.name.endswith("_count")}
    assert counts["/v1/cards/{serial}"] == 2.0  # one series per pattern, not per serial
    assert "minutecard_database_up 1.0" in text


async def test_metrics_and_liveness_answer_while_the_database_is_away(tmp_path: Path) -> None:
    away = Database(f"postgresql+asyncpg://minutecard@127.0.0.1:{free_port()}/gone")
    status = Status(lambda: True, lambda: 3, lambda: 7, Journal(tmp_path / "j.jsonl"))
    port = free_port()
    runner = await serve(Api(away, status), "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                metrics = (resp.status, await resp.text())
            async with session.get(f"http://127.0.0.1:{port}/health/ready") as resp:
                ready = (resp.status, await resp.json())
            async with session.get(f"http://127.0.0.1:{port}/health/live") as resp:
                live = resp.status
    finally:
        await runner.cleanup()
        await away.close()
    assert metrics[0] == 200
    assert "minutecard_database_up 0.0" in metrics[1]
    assert "minutecard_live_calls 3.0" in metrics[1]
    assert "minutecard_settle_retries_total 7.0" in metrics[1]
    assert (ready[0], ready[1]["components"]["database"]["ok"]) == (503, False)
    assert live == 200


async def test_metrics_say_the_database_went_away_and_came_back(
    own_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    """A real PostgreSQL stopped under a serving API: /metrics keeps answering 200 with
    ``minutecard_database_up 0`` (it was 503 exactly then), ready is 503, live 200; back: 1."""
    conn = await asyncpg.connect(own_postgres.admin_url)
    await conn.execute("CREATE DATABASE metrics")
    await conn.close()
    db = Database(own_postgres.url("metrics"))
    await upgrade(db)
    status = Status(lambda: True, lambda: 1, lambda: 0, Journal(tmp_path / "j.jsonl"))
    port = free_port()
    runner = await serve(Api(db, status), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"

    async def scrape() -> tuple[int, str, int, int]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/metrics") as resp:
                metrics = (resp.status, await resp.text())
            async with session.get(f"{base}/health/ready") as resp:
                ready = resp.status
            async with session.get(f"{base}/health/live") as resp:
                live = resp.status
        return metrics[0], metrics[1], ready, live

    try:
        up = await scrape()
        own_postgres.halt()
        try:
            away = await scrape()
        finally:
            own_postgres.resume()
        back = await scrape()
    finally:
        await runner.cleanup()
        await db.close()
    assert (up[0], up[2:]) == (200, (200, 200)) and "minutecard_database_up 1.0" in up[1]
    assert (away[0], away[2:]) == (200, (503, 200))
    assert "minutecard_database_up 0.0" in away[1] and "minutecard_live_calls 1.0" in away[1]
    assert "minutecard_database_up 1.0" in back[1]

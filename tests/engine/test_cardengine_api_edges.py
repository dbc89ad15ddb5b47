"""``cardengine run`` as a real process at the API's edges: SIGTERM is not held up by a stalled
upload (the API's requests get ``[api] shutdown_seconds``), and a listener off loopback without
an allowlist is refused at start."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp

from cards.db import Database
from cards.services import tokens
from testbed.postgres import free_port
from tests.engine.test_cardengine_run import _config, _engine_without_ari, _env, _run_to_exit

SHUTDOWN_SECONDS = 5  # the default of [api] shutdown_seconds
MARGIN_SECONDS = 3


async def _listening(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/health/live"):
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise AssertionError("the API never listened")


async def test_sigterm_is_not_held_by_a_half_sent_body(tmp_path: Path) -> None:
    """`Content-Length: 100`, 5 bytes sent, then SIGTERM: the engine exits 0 within
    shutdown_seconds and a margin (aiohttp's own default waited 60 s for it)."""
    proc, port = await _engine_without_ari(tmp_path, "MINUTECARD_API_PORT")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}")
    token, _ = await tokens.create(db, "astro", "write")
    await db.close()
    try:
        await _listening(port)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /v1/cards/1/topups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + token.encode()
            + b"\r\nIdempotency-Key: k\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"amo'
        )
        await writer.drain()
        await asyncio.sleep(0.2)  # the request is in flight, its body half there
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        took = time.monotonic() - signalled
        writer.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    log = stderr.decode()
    assert proc.returncode == 0, log[-2000:]
    assert took < SHUTDOWN_SECONDS + MARGIN_SECONDS, f"exited {took:.1f} s after SIGTERM"
    assert "Traceback" not in log


async def test_an_api_off_loopback_without_an_allowlist_is_refused(tmp_path: Path) -> None:
    env = {
        **_env(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", tmp_path),
        "MINUTECARD_API_HOST": "0.0.0.0",
        "MINUTECARD_API_PORT": str(free_port()),
    }
    code, lines = await _run_to_exit(_config(tmp_path, "http://127.0.0.1:1"), env)
    assert code == 2
    assert lines[-1].startswith("cardengine: error: [api] host = '0.0.0.0' is not a loopback")
    assert "[api] allow" in lines[-1]

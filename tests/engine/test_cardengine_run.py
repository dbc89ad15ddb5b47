"""``cardengine run`` as a real process: serves the app, and SIGTERM settles live calls, exit 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select

from cards.db import Database
from cards.models import LedgerEntry
from cards.services import activation
from tests.conftest import SECRET
from tests.engine.conftest import CALLER, eventually
from tests.support.astro import ADVISOR_NO, astro_project
from tests.support.fake_ari import PASSWORD, USER, FakeAri, FakeClock


async def test_sigterm_settles_live_calls_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}"
    db = Database(url)
    card = await astro_project(db, secret=SECRET, credit=600)
    await activation.activate(db, "astro", CALLER, card.pin, secret=SECRET)
    clock = FakeClock(wall_start_ms=time.time_ns() // 1_000_000)
    clock.now = 0
    fake = FakeAri(clock)
    await fake.start()
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[ari]\nurl = "{fake.url}"\nuser = "{USER}"\n\n'
        '[engine]\ndrain_seconds = 0\nlog_level = "INFO"\n'
    )
    env = {
        **os.environ,
        "MINUTECARD_DATABASE_URL": url,
        "MINUTECARD_ARI_PASSWORD": PASSWORD,
        "MINUTECARD_PIN_SECRET": SECRET.decode(),
    }
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "cardengine"),
        "run",
        "--config",
        str(config),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: fake.connects == 1, what="engine connected")
        await fake.caller_dials("c1", ADVISOR_NO, CALLER)
        await eventually(lambda: fake.made("POST", "/channels/c1-advisor"), what="dial")
        await fake.advisor_answers("c1-advisor", "c1")
        await eventually(lambda: fake.made("POST", "/addChannel"), what="bridge")
        proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            proc.kill()
            _, stderr = await proc.communicate()
            raise AssertionError(stderr.decode()) from None
    finally:
        if proc.returncode is None:
            proc.kill()
        await fake.stop()
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert "bridging -> talking" in log
    assert "stopped; every call settled" in log
    assert fake.made("DELETE", "/channels/c1")
    async with db.transaction() as session:
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))
        ).all()
    assert len(entries) == 1
    await db.close()

"""``cardengine run`` as a real process: serves the app, SIGTERM settles live calls (exit 0);
it refuses to start on a wrong ARI password or a database not upgraded, and stops with exit 1
when one of its tasks dies, the cause in its last log line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from cards.db import Database
from cards.models import CallRecord, LedgerEntry, Reservation
from cards.services import activation
from pbx_engine import main as engine_main
from pbx_engine.config import load
from pbx_engine.credit_watch import CreditWatcher
from testbed.astro import ADVISOR_NO, SECRET, astro_project
from testbed.engine_world import CALLER, eventually
from testbed.fake_ari import PASSWORD, USER, FakeAri, FakeClock
from testbed.postgres import free_port

CARDENGINE = str(Path(sys.executable).parent / "cardengine")


def _config(tmp_path: Path, ari_url: str) -> Path:
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[ari]\nurl = "{ari_url}"\nuser = "{USER}"\n\n'
        '[engine]\ndrain_seconds = 0\nlog_level = "INFO"\n'
    )
    return config


async def _engine_without_ari(
    tmp_path: Path, port_variable: str
) -> tuple[asyncio.subprocess.Process, int]:
    """`cardengine run` with ARI unreachable and ``port_variable`` set to a free port."""
    url = await _astro_database(tmp_path)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        CARDENGINE,
        "run",
        "--config",
        str(_config(tmp_path, f"http://127.0.0.1:{free_port()}")),
        env={**_env(url, tmp_path), port_variable: str(port)},
        stderr=asyncio.subprocess.PIPE,
    )
    return proc, port


async def _astro_database(tmp_path: Path) -> str:
    """A SQLite file with the astro project and a card; its URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}"
    db = Database(url)
    await astro_project(db, secret=SECRET, credit=600)
    await db.close()
    return url


def _env(url: str, tmp_path: Path, password: str = PASSWORD) -> dict[str, str]:
    return {
        **os.environ,
        "MINUTECARD_DATABASE_URL": url,
        "MINUTECARD_ARI_PASSWORD": password,
        "MINUTECARD_PIN_SECRET": SECRET.decode(),
        "MINUTECARD_JOURNAL": str(tmp_path / "journal.jsonl"),
    }


async def _run_to_exit(config: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        CARDENGINE, "run", "--config", str(config), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        _, stderr = await proc.communicate()
        raise AssertionError(f"cardengine did not exit: {stderr.decode()}") from None
    assert proc.returncode is not None
    return proc.returncode, stderr.decode().strip().splitlines()


async def test_a_wrong_ari_password_is_fatal_with_a_clear_line(tmp_path: Path) -> None:
    url = await _astro_database(tmp_path)
    fake = FakeAri(FakeClock())
    await fake.start()
    try:
        code, lines = await _run_to_exit(
            _config(tmp_path, fake.url), _env(url, tmp_path, password="not-the-password")
        )
    finally:
        await fake.stop()
    assert code == 1, lines
    assert "401" in lines[-1] and "password" in lines[-1], lines[-1]
    assert "not-the-password" not in "\n".join(lines)
    assert not any("Traceback" in line for line in lines)


async def test_the_pages_old_trusted_proxies_stops_the_start_in_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:1")
    config.write_text(config.read_text() + '[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    code, lines = await _run_to_exit(config, _env("sqlite+aiosqlite:///unused", tmp_path))
    assert code == 2  # refused before anything started, like every configuration error
    assert len(lines) == 1, lines
    assert lines[0].startswith("cardengine: error: config ")
    assert "[web] trusted_proxies is no longer read; set [api] trusted_proxies" in lines[0]


@pytest.mark.parametrize("schema", ["none", "missing file"])
async def test_a_database_not_upgraded_is_refused_with_the_fix(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "empty.sqlite3"
    if schema == "none":
        path.write_bytes(b"")
    fake = FakeAri(FakeClock())
    await fake.start()
    try:
        code, lines = await _run_to_exit(
            _config(tmp_path, fake.url), _env(f"sqlite+aiosqlite:///{path}", tmp_path)
        )
    finally:
        await fake.stop()
    assert code == 2, lines
    assert "run `cardadmin db upgrade`" in lines[-1], lines[-1]
    assert fake.connects == 0, "the engine took calls on a database it cannot serve"


async def test_another_pin_secret_is_refused_at_start(tmp_path: Path) -> None:
    url = await _astro_database(tmp_path)
    fake = FakeAri(FakeClock())
    await fake.start()
    env = {**_env(url, tmp_path), "MINUTECARD_PIN_SECRET": "a-different-secret-0123456789"}
    try:
        code, lines = await _run_to_exit(_config(tmp_path, fake.url), env)
    finally:
        await fake.stop()
    assert code == 2, lines
    assert "not the one the PINs of astro were made with" in lines[-1], lines[-1]
    assert "a-different-secret" not in "\n".join(lines)
    assert fake.connects == 0


async def test_a_dying_engine_task_stops_the_process_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = await _astro_database(tmp_path)
    fake = FakeAri(FakeClock())
    await fake.start()

    async def dies(self: CreditWatcher) -> None:
        await eventually(lambda: fake.connects == 1, what="engine connected")
        raise RuntimeError("credit watcher broke")

    monkeypatch.setattr(CreditWatcher, "run", dies)
    for name, value in _env(url, tmp_path).items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.INFO, logger="minutecard")
    try:
        code = await asyncio.wait_for(engine_main.serve(load(_config(tmp_path, fake.url))), 30)
    finally:
        await fake.stop()
    assert code == 1
    last = caplog.records[-1]
    assert last.levelno == logging.ERROR
    assert "the credit task died: RuntimeError('credit watcher broke')" in last.getMessage()


async def test_sigterm_settles_live_calls_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}"
    db = Database(url)
    card = await astro_project(db, secret=SECRET, credit=600)
    await activation.activate(db, "astro", CALLER, card.pin, secret=SECRET)
    clock = FakeClock(wall_start_ms=time.time_ns() // 1_000_000)
    clock.now = 0
    fake = FakeAri(clock)
    await fake.start()
    proc = await asyncio.create_subprocess_exec(
        CARDENGINE,
        "run",
        "--config",
        str(_config(tmp_path, fake.url)),
        env=_env(url, tmp_path),
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


async def test_fastagi_serves_while_ari_is_unreachable(tmp_path: Path) -> None:
    """With [agi] port set, `cardengine run` answers FastAGI at once, though Asterisk's ARI is
    not there: an unrouted number gets MC_RESULT=not_routed and the prompt to play."""
    proc, agi_port = await _engine_without_ari(tmp_path, "MINUTECARD_AGI_PORT")
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", agi_port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("FastAGI never listened")
        writer.write(
            b"agi_network_script: authorize\nagi_uniqueid: 1.1\n"
            b"agi_callerid: 030123456\nagi_extension: 0301111111\n\n"
        )
        commands = []
        while line := await asyncio.wait_for(reader.readline(), 10):
            commands.append(line.decode().strip())
            writer.write(b"200 result=1\n")  # what Asterisk answers to SET VARIABLE
        writer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert commands[:2] == [
        'SET VARIABLE MC_RESULT "not_routed"',
        'SET VARIABLE MC_PROMPT "number_not_reachable"',
    ]
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert "ARI events at 127.0.0.1" in stderr.decode()  # unreachable, said with host and reason


async def test_the_api_serves_while_ari_is_unreachable_and_health_says_so(tmp_path: Path) -> None:
    proc, api_port = await _engine_without_ari(tmp_path, "MINUTECARD_API_PORT")
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{api_port}/health") as resp:
                        status, body = resp.status, await resp.json()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the API never listened")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    assert status == 503
    assert (body["ari_connected"], body["database"], body["journal_pending"]) == (False, True, 0)
    assert proc.returncode == 0


async def books(db: Database) -> tuple[list[CallRecord], list[LedgerEntry]]:
    async with db.read() as session:
        records = (await session.scalars(select(CallRecord))).all()
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))
        ).all()
    return list(records), list(entries)


async def test_kill_9_mid_call_then_restart_hangs_up_orphans_and_bills_to_the_checkpoint(
    tmp_path: Path,
) -> None:
    """An engine killed with SIGKILL under a live call: the restarted engine finds the call's
    channels still in its Stasis app, hangs them up and settles the hold at its last checkpoint
    (every 1 s here), at once — at most one checkpoint short, charged once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}"
    db = Database(url)
    card = await astro_project(db, secret=SECRET, credit=600)
    await activation.activate(db, "astro", CALLER, card.pin, secret=SECRET)
    fake = FakeAri(FakeClock(wall_start_ms=time.time_ns() // 1_000_000))
    await fake.start()
    env = {**_env(url, tmp_path), "MINUTECARD_CHECKPOINT_SECONDS": "1"}

    async def engine() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            CARDENGINE, "run", "--config", str(_config(tmp_path, fake.url)), env=env,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def checkpointed() -> int:
        async with db.read() as session:
            hold = await session.scalar(select(Reservation))
            return hold.used_at_checkpoint if hold is not None else 0

    first = await engine()
    try:
        await eventually(lambda: fake.connects == 1, what="engine connected")
        await fake.caller_dials("c1", ADVISOR_NO, CALLER)
        await eventually(lambda: fake.made("POST", "/channels/c1-advisor"), what="dial")
        await fake.advisor_answers("c1-advisor", "c1")
        await eventually(lambda: fake.made("POST", "/addChannel"), what="bridge")
        for _ in range(100):
            if await checkpointed() >= 2:
                break
            await asyncio.sleep(0.05)
        first.kill()
        await first.wait()
        used = await checkpointed()
        assert used >= 2 and set(fake.channels) == {"c1", "c1-advisor"}
        second = await engine()
        try:
            await eventually(lambda: fake.connects == 2, what="restarted engine connected")
            await eventually(lambda: not fake.channels, what="orphans hung up")
            for _ in range(100):
                records, entries = await books(db)
                if records:
                    break
                await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
    finally:
        if first.returncode is None:
            first.kill()
        await fake.stop()
        await db.close()
    [record] = records
    assert (record.hangup_cause, record.charged) == ("recovered", used)
    assert [e.amount for e in entries] == [-used]
    assert second.returncode == 0

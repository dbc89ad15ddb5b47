"""Faults on the real Asterisk with real SIPp calls, the engine a real ``cardengine`` process:
killed with SIGKILL mid-call and started again; Asterisk crashed and started again mid-call.
Each is judged from outside: Asterisk's bridge stamps, the test's own kill instants, the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import select

from cards.db import Database
from cards.models import CallRecord, LedgerEntry, Reservation
from cards.services import activation, projects, tokens
from dialplan.render import RoutedNumber, render_numbers
from pbx_engine.ari.events import timestamp_ms
from pbx_engine.checkpoints import FLUSH_MS
from testbed import sipp
from testbed.asterisk import ARI_USER, PrivateAsterisk
from testbed.astro import ADVISOR_NO, astro_project
from testbed.e2e_world import SECRET, observe, place_call
from testbed.postgres import PrivatePostgres, free_port
from testbed.sipp import after_ms
from tests.support.tcp_cut import CuttableLink

CARDENGINE = str(Path(sys.executable).parent / "cardengine")
CALLER = "030123456"
OTHER_CALLER = "040987654"
CHECKPOINT_S = 5


@dataclass
class FaultWorld:
    root: Path
    db: Database
    asterisk: PrivateAsterisk
    observed: list[dict[str, Any]]
    api_port: int = field(default_factory=free_port)
    engine: asyncio.subprocess.Process | None = None
    starts: int = 0
    observers: list[asyncio.Task[None]] = field(default_factory=list)
    link: CuttableLink | None = None
    serial: str = ""
    """The card bound to CALLER."""
    """When set, the engine reaches ARI through it (a network the test can cut)."""

    def observe(self) -> None:
        """(Again, after Asterisk restarted:) watch everything Asterisk does, from outside."""
        self.observed.clear()
        self.observers.append(asyncio.create_task(observe(self.asterisk, self.observed)))

    async def start_engine(self) -> None:
        """A ``cardengine run`` process; returns once its /health says ARI is connected."""
        self.starts += 1
        config = self.root / "engine.toml"
        config.write_text(
            f'[ari]\nurl = "{self.ari_url}"\nuser = "{ARI_USER}"\n\n'
            '[engine]\ndrain_seconds = 0\nlog_level = "INFO"\n'
            f"checkpoint_seconds = {CHECKPOINT_S}\n"
        )
        env = {
            **os.environ,
            "MINUTECARD_DATABASE_URL": self.db.url,
            "MINUTECARD_ARI_PASSWORD": self.asterisk.password,
            "MINUTECARD_PIN_SECRET": SECRET.decode(),
            "MINUTECARD_JOURNAL": str(self.root / "journal.jsonl"),
            "MINUTECARD_API_PORT": str(self.api_port),
        }
        log = (self.root / f"engine-{self.starts}.log").open("wb")
        self.engine = await asyncio.create_subprocess_exec(
            CARDENGINE, "run", "--config", str(config), env=env, stderr=log
        )
        await self.until_connected(timeout_s=20)

    @property
    def ari_url(self) -> str:
        if self.link is None:
            return self.asterisk.ari_url
        return f"http://127.0.0.1:{self.link.port}"

    async def channels(self) -> list[dict[str, Any]]:
        """Asterisk's channels, asked directly (not through the link)."""
        auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, self.asterisk.password)}
        async with (
            aiohttp.ClientSession(headers=auth) as session,
            session.get(f"{self.asterisk.ari_url}/ari/channels") as resp,
        ):
            found: list[dict[str, Any]] = await resp.json()
            return found

    async def health(self) -> dict[str, Any] | None:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.api_port}/health") as resp,
            ):
                answer: dict[str, Any] = await resp.json()
                return answer
        except aiohttp.ClientError:
            return None

    async def until_connected(self, timeout_s: float) -> float:
        """Seconds until the engine's /health says ARI is connected."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            health = await self.health()
            if health is not None and health["ari_connected"]:
                return time.monotonic() - began
            await asyncio.sleep(0.02)
        raise AssertionError(f"the engine never connected:\n{self.engine_log()}")

    def kill_engine(self) -> None:
        assert self.engine is not None
        self.engine.send_signal(signal.SIGKILL)

    def engine_log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("engine-*.log"))
        )

    def bridged(self) -> list[int]:
        """Asterisk's stamps of legs entering a bridge, as the observer app saw them."""
        return [
            timestamp_ms(e["timestamp"]) or 0
            for e in self.observed
            if e["type"] == "ChannelEnteredBridge"
        ]

    async def both_bridged(self, count: int = 2) -> int:
        for _ in range(400):
            if len(self.bridged()) >= count:
                return max(self.bridged())
            await asyncio.sleep(0.05)
        raise AssertionError(f"never bridged:\n{self.engine_log()}")

    async def billed(self, count: int) -> tuple[list[LedgerEntry], list[CallRecord]]:
        """The call entries and records once ``count`` calls are billed (settling is async)."""
        for _ in range(200):
            entries, records, holds = await self.rows()
            if len(entries) >= count and not holds:
                return entries, records
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(entries)} of {count} calls billed, {len(holds)} holds open")

    async def rows(self) -> tuple[list[LedgerEntry], list[CallRecord], list[Reservation]]:
        async with self.db.read() as session:
            calls = await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))
            records = await session.scalars(select(CallRecord))
            holds = await session.scalars(select(Reservation).where(Reservation.state == "open"))
            return list(calls), list(records), list(holds)


@contextlib.asynccontextmanager
async def fault_world(
    root: Path,
    sounds: Path,
    credit_seconds: int,
    *,
    cuttable: bool = False,
    db_url: str | None = None,
    systemname: str | None = None,
) -> AsyncIterator[FaultWorld]:
    """The astro project with a card bound to CALLER, a private Asterisk, a cardengine."""
    db = Database(db_url or f"sqlite+aiosqlite:///{root / 'faults.sqlite3'}")
    try:
        card = await astro_project(
            db, secret=SECRET, credit=credit_seconds, settings={"warning_lead": 3}
        )
        await activation.activate(db, "astro", CALLER, card.pin, secret=SECRET)
        async with pbx_with_engine(root, db, sounds, cuttable, systemname) as world:
            world.serial = card.serial
            yield world
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def pbx_with_engine(
    root: Path, db: Database, sounds: Path, cuttable: bool = False, systemname: str | None = None
) -> AsyncIterator[FaultWorld]:
    """One more Asterisk with its own cardengine on the same database."""
    numbers = [RoutedNumber(n.e164, n.role, "astro") for n in await projects.list_numbers(db)]
    asterisk = PrivateAsterisk.prepare(
        render_numbers(numbers), sounds / "minutecard", systemname=systemname
    )
    root.mkdir(exist_ok=True)
    world = FaultWorld(root, db, asterisk, [])
    if cuttable:
        world.link = CuttableLink(asterisk.http_port)
        await world.link.start()
    try:
        await asterisk.start()
        world.observe()
        await world.start_engine()
        yield world
    finally:
        if world.engine is not None and world.engine.returncode is None:
            world.engine.terminate()
            await world.engine.wait()
        for task in world.observers:
            task.cancel()
        if world.link is not None:
            await world.link.stop()
        asterisk.stop()


def assert_clean(run: sipp.SippRun) -> None:
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.mark.every_asterisk
async def test_an_engine_killed_mid_call_is_settled_by_its_restart(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """SIGKILL at bridge + 7.5 s; the next ``cardengine`` hangs up both legs of the orphaned
    call and bills its last checkpoint written: at most one checkpoint interval and one flush
    (``FLUSH_MS``) under what was talked at the kill, never more; no hold is left and the call is
    billed once."""
    async with fault_world(tmp_path, e2e_sounds, credit_seconds=60) as world:
        call = asyncio.create_task(
            place_call(tmp_path, world.asterisk, ADVISOR_NO, CALLER, pcap_seconds=60, name="k9")
        )
        bridged = await world.both_bridged()
        await asyncio.sleep(max(0.0, (bridged + 7_500) / 1000 - time.time()))
        killed_ms = time.time_ns() // 1_000_000
        world.kill_engine()
        assert world.engine is not None
        await world.engine.wait()
        restarted = time.monotonic()
        await world.start_engine()
        caller, advisor = await call
        hung_up_after_s = time.monotonic() - restarted
        assert_clean(caller)
        assert advisor is not None
        assert_clean(advisor)
        entries, records = await world.billed(1)
        talked_s = (killed_ms - bridged) / 1000
        print(f"\nkill -9 at bridge + {talked_s:.2f} s: billed {-entries[0].amount} s; "
              f"both legs hung up {hung_up_after_s:.2f} s after the restart began")  # fmt: skip
        [entry] = entries
        assert talked_s - CHECKPOINT_S - FLUSH_MS / 1000 <= -entry.amount <= talked_s
        [record] = records
        assert (record.hangup_cause, record.charged) == ("recovered", -entry.amount)


async def test_asterisk_crashed_mid_call_the_engine_reconnects_and_bills_to_the_loss(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """Asterisk is SIGKILLed at bridge + 6.5 s and started again: the engine is connected
    within 2 s of Asterisk's ARI answering, bills the lost call to the instant its events were
    lost (6 or 7 started seconds), and takes the next call and bills it."""
    async with fault_world(tmp_path, e2e_sounds, credit_seconds=60) as world:
        call = asyncio.create_task(
            place_call(
                tmp_path,
                world.asterisk,
                ADVISOR_NO,
                CALLER,
                pcap_seconds=60,
                name="lost",
                timeout_s=20,
            )
        )
        bridged = await world.both_bridged()
        await asyncio.sleep(max(0.0, (bridged + 6_500) / 1000 - time.time()))
        crashed_ms = time.time_ns() // 1_000_000
        world.asterisk.crash()
        await asyncio.sleep(0.5)
        await world.asterisk.start()
        reconnect_s = await world.until_connected(timeout_s=10)
        caller, _ = await call  # SIPp's dialog died with Asterisk: its own timeout ends it
        assert caller.returncode != 0
        entries, records = await world.billed(1)
        talked_s = (crashed_ms - bridged) / 1000
        print(f"\nAsterisk crashed at bridge + {talked_s:.2f} s: engine connected "
              f"{reconnect_s * 1000:.0f} ms after ARI answered; billed "
              f"{[-e.amount for e in entries]} s")  # fmt: skip
        assert reconnect_s < 2
        [entry] = entries
        assert int(talked_s) <= -entry.amount <= int(talked_s) + 1
        [record] = records
        assert record.hangup_cause == "gone_while_disconnected"
        world.observe()
        caller, _ = await place_call(
            tmp_path, world.asterisk, ADVISOR_NO, CALLER, pcap_seconds=20, name="after",
            hang_up_ms=4_000,
        )  # fmt: skip
        assert_clean(caller)
        entries, _ = await world.billed(2)
        hung_up = min(
            timestamp_ms(e["timestamp"]) or 0
            for e in world.observed
            if e["type"] == "ChannelHangupRequest"
        )
        talked_ms = hung_up - max(world.bridged())
        assert -entries[1].amount == -(-talked_ms // 1000), talked_ms


async def test_a_dropped_ari_link_resyncs_and_the_call_ends_on_its_second(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """The network between engine and Asterisk drops at bridge + 4 s for 3 s (both keep
    running): the engine reconnects, finds the call still up, and ends it at bridge + 15 s as
    planned — BYE at the advisor's SIPp within 50 ms, 15 s billed once, no channel left."""
    async with fault_world(tmp_path, e2e_sounds, credit_seconds=15, cuttable=True) as world:
        assert world.link is not None
        call = asyncio.create_task(
            place_call(tmp_path, world.asterisk, ADVISOR_NO, CALLER, pcap_seconds=40, name="ws")
        )
        bridged = await world.both_bridged()
        await asyncio.sleep(max(0.0, (bridged + 4_000) / 1000 - time.time()))
        world.link.cut(for_s=3)
        await asyncio.sleep(0.2)
        assert (await world.health() or {}).get("ari_connected") is False
        reconnect_s = await world.until_connected(timeout_s=10)
        caller, advisor = await call
        assert_clean(caller)
        assert advisor is not None
        assert_clean(advisor)
        [bye] = advisor.times("BYE")
        late_ms = (bye - after_ms(bridged, 15)) / timedelta(milliseconds=1)
        print(f"\nARI link cut for 3 s: reconnected {reconnect_s - 2.8:.2f} s after it was back; "
              f"BYE {late_ms:.1f} ms after bridge + 15 s")  # fmt: skip
        assert 0 <= late_ms < 50
        entries, records = await world.billed(1)
        assert [-e.amount for e in entries] == [15]
        assert records[0].hangup_cause == "credit_exhausted"
        assert await world.channels() == []


async def test_the_database_away_for_10_s_live_calls_run_new_ones_are_refused(
    own_postgres: PrivatePostgres, e2e_sounds: Path, tmp_path: Path
) -> None:
    """PostgreSQL stopped at bridge + 3 s for 10 s: the live call runs on to its known limit
    (bridge + 12 s, BYE within 50 ms), a new call meanwhile hears the service-unavailable prompt
    and is hung up, and when the server is back the live call is billed 12 s, once."""
    conn = await asyncpg.connect(own_postgres.admin_url)
    await conn.execute("CREATE DATABASE faults")
    await conn.close()
    url = own_postgres.url("faults")
    async with fault_world(tmp_path, e2e_sounds, credit_seconds=12, db_url=url) as world:
        call = asyncio.create_task(
            place_call(tmp_path, world.asterisk, ADVISOR_NO, CALLER, pcap_seconds=40, name="db")
        )
        bridged = await world.both_bridged()
        await asyncio.sleep(max(0.0, (bridged + 3_000) / 1000 - time.time()))
        stopped = time.monotonic()
        own_postgres.halt()
        try:
            refused, _ = await place_call(
                tmp_path, world.asterisk, ADVISOR_NO, OTHER_CALLER, pcap_seconds=10,
                name="refused", advisor=None, timeout_s=15,
            )  # fmt: skip
            caller, advisor = await call
            await asyncio.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        finally:
            own_postgres.resume()
        assert_clean(refused)
        played = [
            e["playback"]["media_uri"] for e in world.observed if e["type"] == "PlaybackStarted"
        ]
        assert any("service_unavailable" in m for m in played), played
        assert_clean(caller)
        assert advisor is not None
        [bye] = advisor.times("BYE")
        late_ms = (bye - after_ms(bridged, 12)) / timedelta(milliseconds=1)
        entries, records = await world.billed(1)
        print(f"\ndatabase away 10 s: live call's BYE {late_ms:.1f} ms after bridge + 12 s; "
              f"billed {[-e.amount for e in entries]} s after it came back")  # fmt: skip
        assert 0 <= late_ms < 50
        assert [-e.amount for e in entries] == [12]
        assert [r.hangup_cause for r in records] == ["credit_exhausted"]


async def test_two_asterisks_and_two_engines_share_one_card_without_overspending(
    postgres: PrivatePostgres, e2e_sounds: Path, tmp_path: Path
) -> None:
    """Two Asterisks (systemname pbx1, pbx2), each with its own cardengine, one PostgreSQL. A
    call through pbx1 holds the card's 8 s; 10 s topped up through engine 2's API at bridge
    + 3 s reach it (its end moves to bridge + 18 s); a call through pbx2 meanwhile finds
    nothing available and is refused; 18 s billed in all — exactly the card's credit."""
    conn = await asyncpg.connect(postgres.admin_url)
    await conn.execute("CREATE DATABASE twopbx")
    await conn.close()
    url = postgres.url("twopbx")
    async with (
        fault_world(tmp_path / "one", e2e_sounds, 8, db_url=url, systemname="pbx1") as one,
        pbx_with_engine(tmp_path / "two", one.db, e2e_sounds, systemname="pbx2") as two,
    ):
        token, _ = await tokens.create(one.db, "astro", "write")
        call = asyncio.create_task(
            place_call(one.root, one.asterisk, ADVISOR_NO, CALLER, pcap_seconds=40, name="one")
        )
        bridged = await one.both_bridged()
        await asyncio.sleep(max(0.0, (bridged + 3_000) / 1000 - time.time()))
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "two-1"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{two.api_port}/v1/cards/{one.serial}/topups",
                json={"amount": 10},
                headers=headers,
            ) as resp,
        ):
            assert resp.status == 201, await resp.text()
        topped_up = time.monotonic()
        while (holds := (await one.rows())[2]) and holds[0].amount != 18:
            assert time.monotonic() - topped_up < 1, "engine 1 did not follow within 1 s"
            await asyncio.sleep(0.01)
        followed_ms = (time.monotonic() - topped_up) * 1000
        refused, _ = await place_call(
            two.root, two.asterisk, ADVISOR_NO, CALLER, pcap_seconds=10, name="two",
            advisor=None, timeout_s=15,
        )  # fmt: skip
        assert_clean(refused)
        caller, advisor = await call
        assert_clean(caller)
        assert advisor is not None
        [bye] = advisor.times("BYE")
        late_ms = (bye - after_ms(bridged, 18)) / timedelta(milliseconds=1)
        entries, records = await one.billed(1)
        print(f"\ntwo PBXs: engine 1's hold followed engine 2's top-up in {followed_ms:.0f} ms; "
              f"pbx1's call ended {late_ms:.1f} ms after bridge + 18 s; "
              f"records {sorted((r.call_id, r.hangup_cause) for r in records)}")  # fmt: skip
        assert 0 <= late_ms < 50
        assert [-e.amount for e in entries] == [18]
        by_pbx = {r.call_id.split("-")[0]: r for r in records}
        assert sorted(by_pbx) == ["pbx1", "pbx2"]
        assert (by_pbx["pbx1"].charged, by_pbx["pbx2"].charged) == (18, 0)
        assert by_pbx["pbx2"].hangup_cause.startswith("no_credit")

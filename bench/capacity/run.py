"""Engines under a capacity ramp: each a real ``cardengine run`` against its own stand-in ARI,
live calls raised step by step at a set-up rate and each step held (with churn: set-ups at that
rate throughout) and measured from outside (the stand-in's instants, /proc, /metrics)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.capacity.standin import StandIn, WallClock
from bench.load import procstat
from cards.db import Database
from cards.services import activation, cardbatch
from pbx_engine.clock import RealClock
from pbx_engine.pressure import Pressure, ShedLimits
from testbed.astro import ADVISOR_NO, SECRET, astro_project
from testbed.fake_ari import PASSWORD, USER
from testbed.postgres import free_port

BIN = Path(sys.executable).parent
BLOCK = 50_000
"""Calls an engine may place in one run (its cards and lines are a block of their own)."""
PG_WORKERS = 4
"""Cards activated at once on PostgreSQL (SQLite has one writer): 10,000 cards take a while."""


@dataclass
class Ramp:
    steps: list[int]
    rate_per_s: int
    hold_s: int
    talk_mean_s: int
    credit_s: tuple[int, ...]
    """Cards are made with these credits (seconds, in turn): calls that talk longer than their
    credit are ended by the engine, which is how its hang-up instants get judged."""
    churn: bool = True
    """In the hold, each new call comes with a random talking call ended by its caller, so live
    calls stay at the step and set-ups run at the rate (the issue's 2,000 live at 30/s)."""
    seed: int = 7

    def cards_for(self, missing: int, seconds: int) -> int:
        """Cards a step may use at most: a ramp gives up after 10 s + twice the time its
        ``missing`` calls take (steps.raise_to), then a set-up a tick for ``seconds``."""
        return 2 * missing + self.rate_per_s * (10 + seconds)


@dataclass
class Engine:
    """One engine process, its stand-in and the calls placed through it (each engine with its
    own block of cards and lines)."""

    standin: StandIn
    proc: asyncio.subprocess.Process
    metrics_url: str
    cards: Cards
    """This engine's calls are cap{cards.first}, cap{cards.first + 1}, …"""
    started: int = 0
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    ending: set[asyncio.Task[None]] = field(default_factory=set)
    placed: list[str] = field(default_factory=list)
    """Channels placed and maybe still up: churn draws from here (ended ones drop out)."""
    rss_start: int = 0

    def has_cards(self) -> bool:
        return self.cards.first + self.started < self.cards.made

    def cards_left(self) -> int:
        return self.cards.made - self.cards.first - self.started

    async def ensure_cards(self, calls: int) -> None:
        """Cards for ``calls`` more calls, made now (between measured windows)."""
        await self.cards.make_up_to(self.cards.first + self.started + calls)

    def start_one(self, rng: random.Random, talk_mean_s: int) -> None:
        i = self.cards.first + self.started
        self.started += 1
        channel = f"cap{i}"
        talk_s = max(1, int(rng.expovariate(1 / talk_mean_s)))
        task = asyncio.create_task(self._call(channel, line(i), talk_s))
        self.tasks[channel] = task
        self.placed.append(channel)
        task.add_done_callback(lambda _: self.tasks.pop(channel, None))

    async def _call(self, channel: str, line: str, talk_s: int) -> None:
        await self.standin.call_in(channel, ADVISOR_NO, line)
        await asyncio.sleep(talk_s)
        await self.standin.caller_hangs_up(channel)

    def end_random(self, rng: random.Random) -> bool:
        """The caller of a random talking call hangs up now (False: none found in a few draws)."""
        for _ in range(20):
            if not self.placed:
                return False
            k = rng.randrange(len(self.placed))
            channel = self.placed[k]
            if self.standin.ended(channel) or self.standin.talking(channel):
                self.placed[k] = self.placed[-1]
                self.placed.pop()
            if self.standin.talking(channel):
                task = self.tasks.pop(channel, None)
                if task is not None:
                    task.cancel()
                hang_up = asyncio.create_task(self.standin.caller_hangs_up(channel))
                self.ending.add(hang_up)
                hang_up.add_done_callback(self.ending.discard)
                return True
        return False

    async def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            self.proc.kill()
        for task in [*self.tasks.values(), *self.ending]:
            task.cancel()
        await self.standin.stop()


async def start_engine(url: str, work: Path, cards: Cards) -> Engine:
    """A stand-in on a port of its own and ``cardengine run`` connected to it."""
    standin = StandIn(WallClock())  # type: ignore[arg-type]
    await standin.start()
    work.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    config = work / "engine.toml"
    config.write_text(
        f'[ari]\nurl = "{standin.url}"\nuser = "{USER}"\n\n'
        '[engine]\ndrain_seconds = 0\nlog_level = "WARNING"\n\n'
        f"[api]\nport = {api_port}\n"
    )
    env = {
        **os.environ,
        "MINUTECARD_DATABASE_URL": url,
        "MINUTECARD_ARI_PASSWORD": PASSWORD,
        "MINUTECARD_PIN_SECRET": SECRET.decode(),
        "MINUTECARD_JOURNAL": str(work / "journal.jsonl"),
    }
    log = (work / "engine.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "cardengine"), "run", "--config", str(config), env=env, stderr=log
    )
    for _ in range(200):
        if standin.connects and standin.allowed is not None:
            engine = Engine(standin, proc, f"http://127.0.0.1:{api_port}/metrics", cards)
            engine.rss_start = procstat.rss_kib(proc.pid)
            return engine
        await asyncio.sleep(0.05)
    proc.kill()
    await standin.stop()
    raise RuntimeError(f"cardengine did not connect to the stand-in (log: {work / 'engine.log'})")


def line(i: int) -> str:
    """The caller line of call ``i`` (bound to its card)."""
    return f"+49302000{i:04d}"


@dataclass
class Cards:
    """One card and bound line per call (project astro: 1 card unit a second), credits in turn
    from ``credit_s``; made block by block as the ramp needs them, so a run that meets its knee
    early does not wait for cards of steps it never reaches."""

    url: str
    credit_s: tuple[int, ...]
    first: int = 0
    """Calls first … made - 1 have their card; engine k's block starts at k × BLOCK."""
    made: int = 0

    async def start(self) -> None:
        """The project (with the first block) and this block's start."""
        if self.first == 0:
            db = Database(self.url)
            try:
                await astro_project(db, secret=SECRET, credit=self.credit_s[0])
            finally:
                await db.close()
        self.made = self.first

    def credit_of(self, i: int) -> int:
        return self.credit_s[i % len(self.credit_s)]

    async def make_up_to(self, upto: int) -> None:
        upto = min(upto, self.first + BLOCK)
        if upto <= self.made:
            return
        db = Database(self.url)
        workers = PG_WORKERS if self.url.startswith("postgresql") else 1
        try:
            for credit in self.credit_s:
                mine = [i for i in range(self.made, upto) if self.credit_of(i) == credit]
                if not mine:
                    continue
                made = await cardbatch.create_cards(db, "astro", len(mine), credit, secret=SECRET)
                pairs = list(zip(mine, made, strict=True))

                async def bind(share: list[tuple[int, cardbatch.NewCard]]) -> None:
                    for i, card in share:
                        await activation.activate(db, "astro", line(i), card.pin, secret=SECRET)

                await asyncio.gather(*(bind(pairs[w::workers]) for w in range(workers)))
        finally:
            await db.close()
        self.made = upto


def stand_in_lag() -> Pressure:
    """The stand-ins' own loop lag (one process for all): their instants are only as good as
    their loop is on time."""
    return Pressure(RealClock(), ShedLimits())

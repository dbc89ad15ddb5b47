"""One private Asterisk for the whole load run, with three ways in: the engine's numbers
(Stasis minutecard), ``bare`` (Stasis bare) and ``native`` (``Dial(…,L(credit))``)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from cards.db import Database
from cards.services import activation, cardbatch
from dialplan.render import RoutedNumber, render_numbers
from pbx_engine.call.context import announced_minutes
from prompts import PromptId, fragments
from prompts.sentences import warning_fragments
from rating import warning_instant
from testbed.asterisk import ARI_USER, PrivateAsterisk
from testbed.astro import ADVISOR_NO, SECRET, astro_project
from testbed.postgres import PrivatePostgres

BIN = Path(sys.executable).parent


def numbers_conf(credit_ms: int) -> str:
    numbers = [RoutedNumber(ADVISOR_NO, "advisor", "astro")]
    return render_numbers(numbers) + (
        "\nexten => bare,1,Stasis(bare)\n same => n,Hangup()\n"
        f"exten => native,1,Dial(PJSIP/advisor1,30,L({credit_ms}))\n same => n,Hangup()\n"
    )


def callers(count: int) -> list[str]:
    return [f"+49302000{i:04d}" for i in range(count)]


async def engine_database(url: str, count: int, credit_s: int) -> None:
    """Project astro, one card per caller, each caller's line bound to its card."""
    db = Database(url)
    try:
        first = await astro_project(
            db, secret=SECRET, credit=credit_s, settings={"warning_lead": credit_s // 2}
        )
        cards = [first]
        if count > 1:
            cards += await cardbatch.create_cards(db, "astro", count - 1, credit_s, secret=SECRET)
        for line, card in zip(callers(count), cards, strict=True):
            await activation.activate(db, "astro", line, card.pin, secret=SECRET)
    finally:
        await db.close()


@dataclass
class Databases:
    root: Path
    postgres: PrivatePostgres | None = None
    made: int = 0

    async def fresh(self, kind: str) -> str:
        self.made += 1
        if kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.root / f'load{self.made}.sqlite3'}"
        if self.postgres is None:
            self.postgres = PrivatePostgres.start()
        conn = await asyncpg.connect(self.postgres.admin_url)
        await conn.execute(f"CREATE DATABASE load{self.made}")
        await conn.close()
        return self.postgres.url(f"load{self.made}")

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()


async def start_engine(
    asterisk: PrivateAsterisk, url: str, root: Path, *, max_calls: int = 0
) -> asyncio.subprocess.Process:
    config = root / "engine.toml"
    config.write_text(
        f'[ari]\nurl = "{asterisk.ari_url}"\nuser = "{ARI_USER}"\n\n'
        f'[engine]\ndrain_seconds = 0\nlog_level = "INFO"\nmax_calls = {max_calls}\n'
    )
    env = {
        **os.environ,
        "MINUTECARD_DATABASE_URL": url,
        "MINUTECARD_ARI_PASSWORD": asterisk.password,
        "MINUTECARD_PIN_SECRET": SECRET.decode(),
        "MINUTECARD_JOURNAL": str(root / "journal.jsonl"),
    }
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "cardengine"), "run", "--config", str(config),
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    log = root / "engine.log"
    with log.open("wb") as out:
        while b"ARI events connected" not in (line := await proc.stderr.readline()):
            if not line:
                raise RuntimeError(f"cardengine exited before it connected (log: {log})")
            out.write(line)
        out.write(line)
    asyncio.get_running_loop().create_task(_drain(proc.stderr, log))
    return proc


def prompt_media(*paths: str) -> str:
    """An ARI media list of the engine's German prompts (every caller here is German)."""
    return ",".join(f"sound:minutecard/de/{p}" for p in paths)


async def start_bare(
    asterisk: PrivateAsterisk, credit_s: int, out: Path
) -> asyncio.subprocess.Process:
    """The bare app with the prompts the engine plays on the same call (engine_database's
    project: ``credit_s`` of credit, warned ``credit_s // 2`` before the end)."""
    announce = fragments(PromptId.REMAINING, "de", minutes=announced_minutes(credit_s))
    warn_ms = 1000 * warning_instant(credit_s, credit_s // 2)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.load.bare_app", asterisk.ari_url, ARI_USER,
        asterisk.password, str(out), str(credit_s * 1000), str(warn_ms), prompt_media(*announce),
        prompt_media(*warning_fragments(credit_s // 2, "de")),
        prompt_media(PromptId.CREDIT_EXHAUSTED),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    if b"ready" not in await proc.stdout.readline():
        raise RuntimeError("the bare ARI app did not start")
    return proc


async def _drain(stream: asyncio.StreamReader, log: Path) -> None:
    """Keep reading the engine's log so it never blocks on a full pipe; keep it in ``log``
    (the work directory, which ``--keep`` keeps)."""
    with log.open("ab") as out:
        while line := await stream.readline():
            out.write(line)

"""Every `sh` block of the README and of docs/ runs as written, in order, in a new directory: the
operator's first day, the month, quotes, rendering, prompts; `cardengine run` last (it needs the
database the others made), against the fake ARI, stopped with SIGTERM, with the API's `curl`s
while it runs."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from testbed.fake_ari import PASSWORD, USER, FakeAri, FakeClock

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


PAGES = [
    "README.md",
    "docs/operating.md",
    "docs/engine.md",
    "docs/api.md",
    "docs/money-rules.md",
    "docs/asterisk.md",
    "docs/benchmarks.md",
    "docs/spec.md",
    "docs/advisors.md",
    "docs/pay-page.md",
    "docs/payments.md",
]
"""In the order their blocks run: the first day (operating) makes the database the rest use."""


def readme_lines() -> list[str]:
    text = "\n".join((ROOT / page).read_text() for page in PAGES)
    return [line for block in BLOCK.findall(text) for line in block.splitlines() if line.strip()]


def test_every_page_of_the_docs_is_run() -> None:
    assert {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")} == set(PAGES[1:])


def test_the_readme_shows_commands_to_run() -> None:
    lines = readme_lines()
    assert any(line.startswith("cardadmin cards create") for line in lines)
    assert sum(line.startswith("cardengine run") for line in lines) == 1


async def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    lines = readme_lines()
    engine = [line for line in lines if line.startswith("cardengine run")]
    api = [line for line in lines if line.startswith("curl ")]  # they need the engine running
    script = "\n".join(line for line in lines if line not in engine + api)
    shutil.copy(ROOT / "cardengine.example.toml", tmp_path)
    started = f"{datetime.now(UTC):%Y-%m}"  # the month the pages' `date -u +%Y-%m` reads
    fake = FakeAri(FakeClock())
    await fake.start()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MINUTECARD_DATA_DIR": str(tmp_path / "data"),
        "MINUTECARD_ARI_URL": fake.url,
        "MINUTECARD_ARI_USER": USER,
        "MINUTECARD_ARI_PASSWORD": PASSWORD,
        "MINUTECARD_JOURNAL": str(tmp_path / "journal.jsonl"),
    }
    env.pop("MINUTECARD_DATABASE_URL", None)
    env.pop("MINUTECARD_PIN_SECRET", None)
    # The engine line runs as written, in the background of the same shell session (it needs
    # the exported secret), until it has connected; then SIGTERM must stop it with exit 0.
    wrapped = "\n".join(
        f"( {line} ) 2> engine.log & pid=$!\n"
        "for _ in $(seq 1200); do grep -q 'ARI events connected' engine.log && break; "
        "sleep 0.05; done\n"
        "grep -q 'ARI events connected' engine.log || { echo 'engine never connected' >&2; "
        "exit 3; }\n" + "\n".join(api) + "\n"
        'kill -TERM "$pid"; wait "$pid"'
        for line in engine
    )
    proc = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-x", "-c", f"{script}\n{wrapped}\n",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        await fake.stop()
    log = (tmp_path / "engine.log").read_text() if (tmp_path / "engine.log").exists() else ""
    assert proc.returncode == 0, f"{err.decode()[-3000:]}\n{log[-2000:]}"
    text = out.decode()
    assert "already credited (idempotency key order-77)" in text
    assert '"ari_connected": true' in text  # /health through the engine's own API
    assert '"balance": 575000' in text  # 10 + 25 − 1.50 − 1.00 (refund) + 25 EUR (the API)
    assert "Sie haben noch einundzwanzig Minuten Guthaben." in text
    # docs/api.md's pages and card steps: a page of the kiosk cards, a second ledger page
    # reached by its cursor, block, unblock and a refund with the shop's key on its entry.
    assert text.count('"next_after": "') >= 2 and '"label": "kiosk 3"' in text
    assert '"status": "blocked"' in text and '"status": "active"' in text
    assert (
        '"kind": "refund", "amount": -10000' in text
        and '"idempotency_key": "shop-refund-12"' in text
    )
    # The month, in the month it runs in: set-up 59 + minimum usage 2 EUR, cards and minutes
    # loaded announced (10 + 26.50 EUR), as docs/operating.md says.
    [month] = {started, f"{datetime.now(UTC):%Y-%m}"} & set(re.findall(r"berger-(\S+)\.pdf", text))
    assert f"platform fees {month}" in text
    assert re.search(r"sternenlicht │ total .* 61\.00 EUR", text), text[-3000:]
    assert re.search(r"sternenlicht │ minutes loaded .* 26\.50 EUR", text)
    assert (tmp_path / f"berger-{month}.pdf").exists()
    assert fake.connects == 1
    assert "stopped; every call settled" in log
    assert "Traceback" not in err.decode() + log

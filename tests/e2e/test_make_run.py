"""`make run` as an operator starts it: it prints where to call and with which PIN and the top-up
page's address, keeps Asterisk and the engine up, and Ctrl-C (SIGINT) stops both with exit 0."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from testbed.asterisk_versions import selected
from testbed.astro import ADVISOR_NO, CARD_NO

ROOT = Path(__file__).resolve().parents[2]
CONTACT = re.compile(
    r"Asterisk SIP:\s+udp 127\.0\.0\.1:(?P<sip>\d+).*"
    r"ARI:\s+(?P<ari>http://127\.0\.0\.1:\d+).*"
    r"Card number:\s+(?P<card>\+\d+)\s+PIN (?P<pin>\d{8}).*"
    r"Advisor:\s+(?P<advisor>\+\d+).*"
    r"Top-up page:\s+(?P<pay>http://127\.0\.0\.1:\d+/pay/astro)\s+card serial …\d{4}",
    re.S,
)


def run_command() -> list[str]:
    """The command of the Makefile's `run` target, with this interpreter."""
    recipe = re.search(r"^run:.*\n\t\$\(PY\) (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no `run` target running the demo"
    return [sys.executable, *recipe[1].split()]


async def test_make_run_prints_its_contact_and_stops_on_ctrl_c() -> None:
    if not selected().installed():
        if os.environ.get("CI") == "true":
            pytest.fail("Asterisk is not installed (make test installs it)")
        pytest.skip("Asterisk is not installed (make test installs it)")
    command = run_command()
    assert command[1:] == ["-m", "scripts.demo", "--keep-running"]
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    printed = ""
    try:
        assert proc.stdout is not None
        while (found := CONTACT.search(printed)) is None:
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert line, f"make run ended before printing its contact: {printed}"
            printed += line.decode()
        assert (found["card"], found["advisor"]) == (CARD_NO, ADVISOR_NO)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{found['ari']}/ari/asterisk/info") as resp,
        ):
            assert resp.status == 401  # Asterisk's ARI answers there (it wants the password)
        async with aiohttp.ClientSession() as session, session.get(found["pay"]) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'name="serial"' in page  # the top-up page's form
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
    with pytest.raises(aiohttp.ClientConnectionError):  # Asterisk stopped with it
        async with aiohttp.ClientSession() as session:
            await session.get(f"{found['ari']}/ari/asterisk/info")

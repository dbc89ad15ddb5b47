"""asterisk_conf/ with a rendered dialplan (both modes) loads on each Asterisk version with no
error and no warning in messages.log."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from dialplan.render import RoutedNumber, render_numbers
from testbed.asterisk import PrivateAsterisk
from testbed.asterisk_versions import AsteriskVersion
from testbed.astro import ADVISOR_NO, CARD_NO, FREEPHONE_NO

NUMBERS = [
    RoutedNumber(CARD_NO, "card", "astro"),
    RoutedNumber(ADVISOR_NO, "advisor", "astro"),
    RoutedNumber(FREEPHONE_NO, "advisor", "astro"),
]


@pytest.mark.every_asterisk
@pytest.mark.parametrize("mode", ["ari", "agi"])
async def test_the_configs_load_without_an_error_or_a_warning(
    mode: str, e2e_sounds: Path, asterisk_version: AsteriskVersion
) -> None:
    asterisk = PrivateAsterisk.prepare(
        render_numbers(NUMBERS, mode=mode), e2e_sounds / "minutecard"
    )
    try:
        await asterisk.start()
        version = asterisk.cli("core show version")
        dialplan = asterisk.cli("dialplan show minutecard-in")
    finally:
        log = asterisk.log()
        asterisk.stop()
    assert version.startswith(f"Asterisk {asterisk_version.key}."), version
    assert "Asterisk Ready." in log
    assert CARD_NO.lstrip("+") in dialplan, dialplan
    assert [line for line in log.splitlines() if re.search(r"\] (WARNING|ERROR)\[", line)] == []


@pytest.mark.every_asterisk
def test_the_host_name_resolves_where_asterisk_runs(asterisk_version: AsteriskVersion) -> None:
    """Asterisk looks up its own host name for every RTP stream, on PJSIP's SIP thread; sent to
    a DNS that does not answer, each look-up held all SIP for 5 s (Asterisk 22's root had no
    /etc/hosts: docs/asterisk.md, "Asterisk versions")."""
    name = socket.gethostname()
    found = subprocess.run(
        asterisk_version.in_root("getent", "hosts", name),
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert found.returncode == 0 and name in found.stdout, (found.returncode, found.stdout)

"""End-to-end set-up: real Asterisk and SIPp. Missing under CI=true fails; elsewhere skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.asterisk import asterisk_binary
from testbed.e2e_world import build_sounds


def _missing() -> str | None:
    if asterisk_binary() is None:
        return "Asterisk is not installed (make test installs it)"
    if shutil.which("sipp") is None:
        return "SIPp is not installed (make test installs sip-tester)"
    if os.geteuid() != 0:
        return "SIPp needs root to play RTP from a pcap (raw sockets)"
    return None


INSTALLER = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"


def _install() -> None:
    """Install Asterisk and SIPp the way `make test` does, when they are missing."""
    subprocess.run(
        ["bash", str(INSTALLER)],
        check=False,
        timeout=900,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def e2e_sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if asterisk_binary() is None or shutil.which("sipp") is None:
        _install()
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"end-to-end tests cannot run under CI: {reason}")
        pytest.skip(reason)
    return build_sounds(tmp_path_factory.mktemp("e2e-sounds"))

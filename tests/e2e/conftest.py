"""End-to-end set-up: real Asterisk and SIPp. Missing under CI=true fails; elsewhere skips.

Each test runs on Asterisk 22; those marked ``every_asterisk`` (the core set) on 16.28 as well.
``MINUTECARD_ASTERISK=16|22`` runs every test on that one version only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.asterisk_versions import NEWEST, VARIABLE, VERSIONS, AsteriskVersion
from testbed.e2e_world import build_sounds


def _missing(version: AsteriskVersion) -> str | None:
    if not version.installed():
        return f"Asterisk {version.key} is not installed (make test installs it)"
    if shutil.which("sipp") is None:
        return "SIPp is not installed (make test installs sip-tester)"
    if os.geteuid() != 0:
        return "SIPp needs root to play RTP from a pcap (raw sockets)"
    return None


INSTALLER = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "asterisk_version" not in metafunc.fixturenames:
        return
    if chosen := os.environ.get(VARIABLE):
        if chosen not in VERSIONS:
            raise pytest.UsageError(f"{VARIABLE}={chosen}: use one of {', '.join(VERSIONS)}")
        keys = [chosen]
    elif metafunc.definition.get_closest_marker("every_asterisk"):
        keys = list(VERSIONS)
    else:
        keys = [NEWEST]
    metafunc.parametrize("asterisk_version", keys, indirect=True)


@pytest.fixture(scope="session")
def installed() -> None:
    """Install Asterisk (both versions) and SIPp the way `make test` does, when missing."""
    if shutil.which("sipp") is None or not all(v.installed() for v in VERSIONS.values()):
        subprocess.run(
            ["bash", str(INSTALLER)],
            check=False,
            timeout=900,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture(autouse=True)
def asterisk_version(
    request: pytest.FixtureRequest, installed: None, monkeypatch: pytest.MonkeyPatch
) -> AsteriskVersion:
    """The Asterisk every PrivateAsterisk of the test starts (through ``MINUTECARD_ASTERISK``)."""
    version = VERSIONS[request.param]
    reason = _missing(version)
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"end-to-end tests cannot run under CI: {reason}")
        pytest.skip(reason)
    monkeypatch.setenv(VARIABLE, version.key)
    return version


@pytest.fixture(scope="session")
def e2e_sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sounds(tmp_path_factory.mktemp("e2e-sounds"))

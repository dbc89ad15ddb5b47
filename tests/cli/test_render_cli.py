"""`cardadmin asterisk render`: a refusal writes nothing; ari.conf is 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.cli.helpers import ok, refused, setup_money_project


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_render_writes_all_or_nothing_and_keeps_ari_conf_private(
    cli_env: str, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_money_project(capsys, tmp_path)
    out = tmp_path / "etc"
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "bad password\n[evil]")
    refused(capsys, "asterisk", "render", "--out", str(out), "--with-samples")
    assert not out.exists()
    refused(capsys, "asterisk", "render", "--out", str(out), "--app", "mc\nexten => x")
    assert not out.exists()
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "a-good-password-123")
    ok(capsys, "asterisk", "render", "--out", str(out), "--with-samples")
    assert stat.S_IMODE((out / "ari.conf").stat().st_mode) == 0o600
    assert "a-good-password-123" in (out / "ari.conf").read_text()
    assert "Stasis(minutecard,+498912345670)" in (out / "minutecard-numbers.conf").read_text()

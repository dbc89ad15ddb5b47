"""``cardengine`` configuration: TOML, environment overrides, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards.errors import InvalidInput
from pbx_engine.config import load

SECRET = "config-test-secret-0123456789"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "from-env")
    monkeypatch.setenv("MINUTECARD_DRAIN_SECONDS", "5")
    monkeypatch.setenv("MINUTECARD_MAX_CALLS", "150")
    path = write(
        tmp_path,
        '[ari]\nurl = "http://10.0.0.1:8088"\npassword = "from-file"\n'
        '[engine]\ndrain_seconds = 60\ncaller_format = "international"\n',
    )
    settings = load(path)
    assert settings.ari_url == "http://10.0.0.1:8088"
    assert settings.ari_password == "from-env"
    assert settings.drain_seconds == 5
    assert settings.max_calls == 150
    assert settings.caller_format == "international"
    assert settings.database_url is None


def test_shedding_limits_default_on_and_can_be_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    plain = load(write(tmp_path, '[ari]\npassword = "p"\n'))
    assert (plain.shed_loop_lag_ms, plain.shed_ari_answer_ms) == (100, 1_000)
    monkeypatch.setenv("MINUTECARD_SHED_ARI_ANSWER_MS", "0")
    path = write(tmp_path, '[ari]\npassword = "p"\n[engine]\nshed_loop_lag_ms = 250\n')
    settings = load(path)
    assert (settings.shed_loop_lag_ms, settings.shed_ari_answer_ms) == (250, 0)


def test_zero_drain_is_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    path = write(tmp_path, '[ari]\npassword = "p"\n[engine]\ndrain_seconds = 0\n')
    assert load(path).drain_seconds == 0


@pytest.mark.parametrize(
    "text",
    [
        '[ari]\nurl = "x"\n',
        '[ari]\npassword = "p"\n[engine]\ndrain_seconds = "soon"\n',
        '[ari]\npassword = "p"\n[engine]\ncaller_format = "guess"\n',
        '[ari]\npassword = "p"\n[engine]\nmax_calls = -1\n',
        '[ari]\npassword = "p"\n[engine]\nshed_loop_lag_ms = 1.5\n',
        "[ari\nbroken",
    ],
)
def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    monkeypatch.delenv("MINUTECARD_ARI_PASSWORD", raising=False)
    with pytest.raises(InvalidInput):
        load(write(tmp_path, text))


def test_the_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "p")
    example = Path(__file__).resolve().parents[2] / "cardengine.example.toml"
    settings = load(example)
    assert (settings.app, settings.drain_seconds, settings.caller_format) == (
        "minutecard",
        300,
        "national",
    )

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


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[api]\nhost = "0.0.0.0"\n', "[api] host = '0.0.0.0' is not a loopback address"),
        ('[agi]\nhost = "192.0.2.7"\n', "[agi] host = '192.0.2.7' is not a loopback address"),
        ('[agi]\nhost = "0.0.0.0"\nallow = ["192.0.2.300/32"]\n', "is not a network"),
        ('[agi]\nhost = "0.0.0.0"\nallow = ["192.0.2.1/24"]\n', "host bits set"),
        ('[agi]\nhost = "0.0.0.0"\nallow = []\n', "name at least one network"),
    ],
)
def test_off_loopback_needs_an_allowlist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, says: str
) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    with pytest.raises(InvalidInput) as refused:
        load(write(tmp_path, '[ari]\npassword = "p"\n' + text))
    assert says in str(refused.value)


def test_an_allowlist_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    monkeypatch.setenv("MINUTECARD_API_ALLOW", "127.0.0.0/8, 192.0.2.0/24")
    path = write(
        tmp_path,
        '[ari]\npassword = "p"\n[agi]\nhost = "0.0.0.0"\nallow = ["192.0.2.10/32"]\n'
        '[api]\nhost = "::"\nshutdown_seconds = 2\n',
    )
    settings = load(path)
    assert settings.agi_allow is not None and settings.api_allow is not None
    assert str(settings.agi_allow) == "192.0.2.10/32"
    assert settings.api_allow.permits("192.0.2.99") and settings.api_allow.permits(
        "::ffff:127.0.0.2"
    )
    assert not settings.api_allow.permits("198.51.100.1")
    assert settings.api_shutdown_seconds == 2
    assert load(write(tmp_path, '[ari]\npassword = "p"\n')).api_shutdown_seconds == 5


def test_one_trusted_proxy_setting_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    path = write(tmp_path, '[ari]\npassword = "p"\n[api]\ntrusted_proxies = ["127.0.0.1/32"]\n')
    proxies = load(path).api_trusted_proxies
    assert proxies is not None and proxies.permits("127.0.0.1")
    assert not proxies.permits("127.0.0.2")
    monkeypatch.setenv("MINUTECARD_API_TRUSTED_PROXIES", "192.0.2.0/24")
    proxies = load(path).api_trusted_proxies
    assert proxies is not None and str(proxies) == "192.0.2.0/24"
    assert load(write(tmp_path, '[ari]\npassword = "p"\n')).api_trusted_proxies is not None
    monkeypatch.delenv("MINUTECARD_API_TRUSTED_PROXIES")
    assert load(write(tmp_path, '[ari]\npassword = "p"\n')).api_trusted_proxies is None


def test_the_pages_own_trusted_proxies_is_refused_naming_the_one_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was read once; ignoring it now would leave the pages keyed on the proxy's address."""
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET)
    old = '[ari]\npassword = "p"\n[web]\ntrusted_proxies = ["127.0.0.1"]\n'
    with pytest.raises(InvalidInput) as refused:
        load(write(tmp_path, old))
    assert "[web] trusted_proxies is no longer read; set [api] trusted_proxies" in str(
        refused.value
    )
    monkeypatch.setenv("MINUTECARD_WEB_TRUSTED_PROXIES", "127.0.0.1")
    with pytest.raises(InvalidInput) as refused:
        load(write(tmp_path, '[ari]\npassword = "p"\n'))
    assert str(refused.value).startswith("MINUTECARD_WEB_TRUSTED_PROXIES is no longer read; ")
    assert "MINUTECARD_API_TRUSTED_PROXIES" in str(refused.value)

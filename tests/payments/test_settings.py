"""``[payments]``: what each provider needs is checked when the config is read; unknown keys
are errors; the example config loads with its payments section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cards.errors import InvalidInput
from pbx_engine.config import load
from pbx_engine.payments.settings import TRANSFER_TTL_S, parse
from testbed.astro import SECRET

BANK = {"bank": ["Astro GmbH", "IBAN DE02 1203 0000 0000 2020 51"]}
WEBHOOK = {"providers": ["webhook"], "webhook_secret": "s" * 16, "checkout_url": "https://s.ex"}
PAYPAL = {"api_base": "https://api-m.sandbox.paypal.com", "client_id": "i", "client_secret": "s"}


def test_a_full_section() -> None:
    got = parse({
        "public_url": "https://pay.example/", "order_ttl_seconds": 600,
        "transfer": BANK, "paypal": PAYPAL,
        "projects": {"astro": {**WEBHOOK, "providers": ["paypal", "webhook", "transfer"]}},
    })  # fmt: skip
    assert got.offered("astro") == ("paypal", "webhook", "transfer") and got.offered("x") == ()
    assert got.public_url == "https://pay.example"
    assert got.ttl_seconds == {"webhook": 600, "paypal": 600, "transfer": TRANSFER_TTL_S}


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"projects": {"astro": {"providers": ["cash"]}}}, "providers"),
        ({"projects": {"astro": {**WEBHOOK, "webhook_secret": "short"}}}, "16 characters"),
        ({"projects": {"astro": {"providers": ["webhook"], "webhook_secret": "s" * 16}}},
         "checkout_url"),
        ({"projects": {"astro": {"providers": ["transfer"]}}}, "bank"),
        ({"projects": {"astro": {"providers": ["paypal"]}}, "paypal": PAYPAL}, "public_url"),
        ({"paypal": {**PAYPAL, "api_base": "ftp://x"}}, "http(s) URL"),
        ({"paypal": {"client_id": "i"}}, "needs api_base"),
        ({"order_ttl_seconds": 5}, "60 to"),
        ({"projects": []}, "one table per project"),
    ],
)  # fmt: skip
def test_what_is_refused(section: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse(section)


def test_the_example_config_loads_its_payments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "x")
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET.decode())
    settings = load(Path(__file__).parents[2] / "cardengine.example.toml")
    assert settings.payments.bank_lines[0] == "Astro Hotline GmbH"
    assert settings.payments.projects == {}

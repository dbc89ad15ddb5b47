"""The ``[payments]`` section of ``cardengine``'s config: which providers each project offers,
the webhook secrets, the bank details for transfers and PayPal's credentials. Unknown keys are
errors, as everywhere in the config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cards.errors import InvalidInput
from cards.services.orders import PROVIDERS

DEFAULT_TTL_S = 3_600
"""An order not paid within an hour expires (PayPal, webhook)."""
TRANSFER_TTL_S = 14 * 86_400
"""A bank transfer may take days: two weeks."""
MIN_SECRET = 16


@dataclass(frozen=True)
class ProjectPayments:
    providers: tuple[str, ...]
    webhook_secret: str | None = None
    checkout_url: str | None = None
    """The operator's shop page a ``webhook`` order is sent to; ``{reference}`` and
    ``{amount}`` (1/10,000 EUR) are filled in."""


@dataclass(frozen=True)
class Paypal:
    api_base: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class PaymentSettings:
    projects: dict[str, ProjectPayments] = field(default_factory=dict)
    public_url: str | None = None
    """How callers' browsers reach this server (PayPal's return and cancel addresses)."""
    bank_lines: tuple[str, ...] = ()
    ttl_seconds: dict[str, int] = field(default_factory=dict)
    sweep_seconds: int = 60
    paypal: Paypal | None = None

    def offered(self, project: str) -> tuple[str, ...]:
        found = self.projects.get(project)
        return found.providers if found else ()


def _keys(where: str, body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"[{where}] must be a table")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInput(f"unknown key {sorted(unknown)[0]!r} in [{where}]")
    return body


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where} must be text")
    return value.strip()


def _url(where: str, value: Any) -> str:
    url = _text(where, value).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.password:
        raise InvalidInput(f"{where} must be an http(s) URL with a host and no credentials")
    return url


def _seconds(where: str, value: Any) -> int:
    if type(value) is not int or not 60 <= value <= 90 * 86_400:
        raise InvalidInput(f"{where} must be whole seconds, 60 to 7776000")
    return value


def _project(name: str, body: Any) -> ProjectPayments:
    where = f"payments.projects.{name}"
    raw = _keys(where, body, {"providers", "webhook_secret", "checkout_url"})
    providers = raw.get("providers", [])
    if (
        not isinstance(providers, list)
        or not providers
        or any(p not in PROVIDERS for p in providers)
    ):
        raise InvalidInput(f"{where}.providers: a list of {', '.join(PROVIDERS)}")
    secret = raw.get("webhook_secret")
    if "webhook" in providers:
        if secret is None or len(_text(f"{where}.webhook_secret", secret)) < MIN_SECRET:
            raise InvalidInput(f"{where}.webhook_secret: at least {MIN_SECRET} characters")
        if "checkout_url" not in raw:
            raise InvalidInput(f"{where}.checkout_url: the shop page webhook orders go to")
    checkout = raw.get("checkout_url")
    return ProjectPayments(
        providers=tuple(dict.fromkeys(providers)),
        webhook_secret=_text(f"{where}.webhook_secret", secret) if secret else None,
        checkout_url=_url(f"{where}.checkout_url", checkout) if checkout else None,
    )


def parse(body: Any) -> PaymentSettings:
    """``[payments]`` with ``[payments.transfer]``, ``[payments.paypal]`` and one
    ``[payments.projects.NAME]`` per project that sells online."""
    raw = _keys("payments", body, {"public_url", "order_ttl_seconds", "sweep_seconds",
                                   "transfer", "paypal", "projects"})  # fmt: skip
    listed = raw.get("projects", {})
    if not isinstance(listed, dict):
        raise InvalidInput("[payments.projects] must hold one table per project")
    projects = {name: _project(name, value) for name, value in listed.items()}
    transfer = _keys("payments.transfer", raw.get("transfer", {}), {"bank", "ttl_seconds"})
    bank = transfer.get("bank", [])
    if not isinstance(bank, list) or not all(isinstance(line, str) for line in bank):
        raise InvalidInput("payments.transfer.bank: a list of lines (account holder, IBAN, BIC)")
    paypal = None
    if "paypal" in raw:
        keys = {"api_base", "client_id", "client_secret"}
        pp = _keys("payments.paypal", raw["paypal"], keys)
        if set(pp) != keys:
            raise InvalidInput("payments.paypal needs api_base, client_id and client_secret")
        paypal = Paypal(_url("payments.paypal.api_base", pp["api_base"]),
                        _text("payments.paypal.client_id", pp["client_id"]),
                        _text("payments.paypal.client_secret", pp["client_secret"]))  # fmt: skip
    offered = {p for project in projects.values() for p in project.providers}
    if "transfer" in offered and not bank:
        raise InvalidInput("payments.transfer.bank: the bank details transfers go to")
    if "paypal" in offered and (paypal is None or "public_url" not in raw):
        raise InvalidInput("paypal needs [payments.paypal] and payments.public_url")
    ttl = _seconds("payments.order_ttl_seconds", raw.get("order_ttl_seconds", DEFAULT_TTL_S))
    return PaymentSettings(
        projects=projects,
        public_url=_url("payments.public_url", raw["public_url"]) if "public_url" in raw else None,
        bank_lines=tuple(line.strip() for line in bank if line.strip()),
        ttl_seconds={
            "webhook": ttl,
            "paypal": ttl,
            "transfer": _seconds(
                "payments.transfer.ttl_seconds", transfer.get("ttl_seconds", TRANSFER_TTL_S)
            ),
        },
        sweep_seconds=_seconds("payments.sweep_seconds", raw.get("sweep_seconds", 60)),
        paypal=paypal,
    )

"""``cardengine`` configuration: a TOML file, then environment overrides, then checks.

Unknown sections and keys are errors (a typo must not silently fall back to a default); every
value is range-checked; credentials never travel in a URL.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cards.db import check_url
from cards.errors import InvalidInput
from cards.pins import pin_secret
from cards.services.routing import CALLER_FORMATS
from pbx_engine.allowlist import Allowlist, check_exposure
from pbx_engine.payments.settings import PaymentSettings
from pbx_engine.payments.settings import parse as parse_payments
from pbx_engine.web.settings import KEYS as WEB_KEYS
from pbx_engine.web.settings import WebSettings, web_settings


@dataclass(frozen=True)
class Settings:
    ari_url: str
    ari_user: str
    ari_password: str
    app: str
    database_url: str | None
    pin_secret: bytes
    drain_seconds: int
    log_level: str
    caller_format: str
    checkpoint_seconds: int
    journal: str | None
    max_calls: int = 0
    """Calls the engine takes at once (0: no cap); more hear congestion."""
    shed_loop_lag_ms: int = 100
    shed_ari_answer_ms: int = 1_000
    """Overload shedding: new calls hear congestion while the event loop runs later or Asterisk
    answers ARI slower than this (0: not watched)."""
    agi_host: str = "127.0.0.1"
    agi_port: int | None = None
    """FastAGI mode is served when a port is set (``[agi] port`` or MINUTECARD_AGI_PORT)."""
    api_host: str = "127.0.0.1"
    api_port: int | None = None
    """The balance API, /health and /metrics are served when a port is set."""
    web: WebSettings | None = None
    """The pay pages (served with the API); ``[web]``."""
    payments: PaymentSettings = dataclasses.field(default_factory=PaymentSettings)
    """``[payments]``: online top-ups (its own nested tables, ``payments.settings``)."""
    api_shutdown_seconds: int = 5
    """At shutdown the API's requests in flight get this long, then they are cancelled."""
    agi_allow: Allowlist | None = None
    api_allow: Allowlist | None = None
    """Peer networks that may connect; needed when the host is not a loopback address."""
    api_trusted_proxies: Allowlist | None = None
    """The reverse proxy in front of the listener: X-Forwarded-For is believed only from it, by
    the API and the pay pages alike."""
    api_public_url: str | None = None
    """Where clients reach the API (behind a proxy); the served OpenAPI names it as its server."""


# (section, key) → (environment variable, kind); kind is "str", "networks" (CIDRs) or (min, max)
# for whole numbers.
SCHEMA: dict[tuple[str, str], tuple[str, object]] = {
    ("ari", "url"): ("MINUTECARD_ARI_URL", "str"),
    ("ari", "user"): ("MINUTECARD_ARI_USER", "str"),
    ("ari", "password"): ("MINUTECARD_ARI_PASSWORD", "str"),
    ("ari", "app"): ("MINUTECARD_ARI_APP", "str"),
    ("database", "url"): ("MINUTECARD_DATABASE_URL", "str"),
    ("engine", "drain_seconds"): ("MINUTECARD_DRAIN_SECONDS", (0, 86_400)),
    ("engine", "log_level"): ("MINUTECARD_LOG_LEVEL", "str"),
    ("engine", "pin_secret"): ("MINUTECARD_PIN_SECRET", "str"),
    ("engine", "caller_format"): ("MINUTECARD_CALLER_FORMAT", "str"),
    ("engine", "checkpoint_seconds"): ("MINUTECARD_CHECKPOINT_SECONDS", (1, 3_600)),
    ("engine", "journal"): ("MINUTECARD_JOURNAL", "str"),
    ("engine", "max_calls"): ("MINUTECARD_MAX_CALLS", (0, 100_000)),
    ("engine", "shed_loop_lag_ms"): ("MINUTECARD_SHED_LOOP_LAG_MS", (0, 60_000)),
    ("engine", "shed_ari_answer_ms"): ("MINUTECARD_SHED_ARI_ANSWER_MS", (0, 60_000)),
    ("agi", "host"): ("MINUTECARD_AGI_HOST", "str"),
    ("agi", "port"): ("MINUTECARD_AGI_PORT", (1, 65_535)),
    ("api", "host"): ("MINUTECARD_API_HOST", "str"),
    ("api", "port"): ("MINUTECARD_API_PORT", (1, 65_535)),
    ("api", "shutdown_seconds"): ("MINUTECARD_API_SHUTDOWN_SECONDS", (0, 3_600)),
    ("agi", "allow"): ("MINUTECARD_AGI_ALLOW", "networks"),
    ("api", "allow"): ("MINUTECARD_API_ALLOW", "networks"),
    ("api", "trusted_proxies"): ("MINUTECARD_API_TRUSTED_PROXIES", "networks"),
    ("api", "public_url"): ("MINUTECARD_API_PUBLIC_URL", "str"),
    **{("web", key): (f"MINUTECARD_WEB_{key.upper()}", "web") for key in WEB_KEYS},
}
RETIRED = {
    ("web", "trusted_proxies"): (
        "MINUTECARD_WEB_TRUSTED_PROXIES",
        "set [api] trusted_proxies (or MINUTECARD_API_TRUSTED_PROXIES) to networks like "
        '["127.0.0.1/32"] instead: it serves the API and the pay pages',
    ),
}
"""Keys once read, refused at start with what to set instead: ignoring one would silently
change whom the engine believes. (section, key) → (its environment variable, the fix)."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _read(path: Path) -> dict[tuple[str, str], Any]:
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"config {path}: {exc}") from exc
    sections = {section for section, _ in SCHEMA}
    values: dict[tuple[str, str], Any] = {}
    for section, body in raw.items():
        if section == "payments":
            values[("payments", "")] = parse_payments(body)
            continue
        if section not in sections or not isinstance(body, dict):
            raise InvalidInput(f"config {path}: unknown section [{section}]")
        for key, value in body.items():
            if (section, key) in RETIRED:
                fix = RETIRED[(section, key)][1]
                raise InvalidInput(f"config {path}: [{section}] {key} is no longer read; {fix}")
            if (section, key) not in SCHEMA:
                raise InvalidInput(f"config {path}: unknown key {key!r} in [{section}]")
            values[(section, key)] = value
    return values


def _whole(name: str, value: Any, bounds: tuple[int, int]) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"{name} must be a whole number, got {text[:40]!r}")
    number, (low, high) = int(text), bounds
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {number}")
    return number


def load(path: Path | None) -> Settings:
    """Read ``path`` (sections [ari], [database], [engine]); environment variables win."""
    values = _read(path) if path is not None else {}
    for env, fix in RETIRED.values():
        if os.environ.get(env):
            raise InvalidInput(f"{env} is no longer read; {fix}")
    for field, (env, _kind) in SCHEMA.items():
        if os.environ.get(env):
            values[field] = os.environ[env]
    got: dict[str, Any] = {}
    for (section, key), (_env, kind) in SCHEMA.items():
        value = values.get((section, key))
        if value is None:
            continue
        name = f"{section}.{key}"
        if kind == "web":
            got[name] = value  # pbx_engine.web.settings checks lists and booleans
        elif kind == "str":
            if not isinstance(value, str):
                raise InvalidInput(f"{name} must be text")
            got[name] = value
        elif kind == "networks":
            got[name] = _networks(name, value)
        else:
            got[name] = _whole(name, value, kind)  # type: ignore[arg-type]
    if not got.get("ari.password"):
        raise InvalidInput("set the ARI password ([ari] password or MINUTECARD_ARI_PASSWORD)")
    ari_url = _url("ari.url", got.get("ari.url", "http://127.0.0.1:8088"))
    database_url = got.get("database.url")
    if database_url and urlsplit(database_url).password is not None:
        raise InvalidInput("database.url: put the password in ~/.pgpass or PGPASSWORD, not the URL")
    if database_url:
        check_url(database_url)
    caller_format = got.get("engine.caller_format", "national")
    if caller_format not in CALLER_FORMATS:
        raise InvalidInput(f"caller_format must be one of {', '.join(CALLER_FORMATS)}")
    log_level = got.get("engine.log_level", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise InvalidInput(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    agi_host, api_host = got.get("agi.host", "127.0.0.1"), got.get("api.host", "127.0.0.1")
    check_exposure("agi", agi_host, got.get("agi.allow"))
    check_exposure("api", api_host, got.get("api.allow"))
    secret = pin_secret(got.get("engine.pin_secret"))
    web = {key: got[f"web.{key}"] for key in WEB_KEYS if f"web.{key}" in got}
    return Settings(
        ari_url=ari_url,
        ari_user=got.get("ari.user", "minutecard"),
        ari_password=got["ari.password"],
        app=got.get("ari.app", "minutecard"),
        database_url=database_url,
        pin_secret=secret,
        drain_seconds=got.get("engine.drain_seconds", 300),
        log_level=log_level,
        caller_format=caller_format,
        checkpoint_seconds=got.get("engine.checkpoint_seconds", 5),
        journal=got.get("engine.journal"),
        max_calls=got.get("engine.max_calls", 0),
        shed_loop_lag_ms=got.get("engine.shed_loop_lag_ms", 100),
        shed_ari_answer_ms=got.get("engine.shed_ari_answer_ms", 1_000),
        agi_host=agi_host,
        agi_port=got.get("agi.port"),
        api_host=api_host,
        api_port=got.get("api.port"),
        web=web_settings(web, secret),
        payments=values.get(("payments", ""), PaymentSettings()),
        api_shutdown_seconds=got.get("api.shutdown_seconds", 5),
        agi_allow=got.get("agi.allow"),
        api_allow=got.get("api.allow"),
        api_trusted_proxies=got.get("api.trusted_proxies"),
        api_public_url=_url("api.public_url", got["api.public_url"])
        if "api.public_url" in got
        else None,
    )


def _networks(name: str, value: Any) -> Allowlist:
    """A TOML list of CIDRs, or (from the environment) the same separated by commas."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidInput(f'{name} must be a list of networks, e.g. ["192.0.2.10/32"]')
    return Allowlist.parse(name, items)


def _url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{name} must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise InvalidInput(f"{name}: credentials do not belong in the URL; use [ari] user/password")
    return url

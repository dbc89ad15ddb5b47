"""``cardengine`` configuration: a TOML file, then environment overrides, then checks."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cards.errors import InvalidInput
from cards.pins import pin_secret
from cards.services.routing import CALLER_FORMATS


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


ENV = {
    "ari_url": "MINUTECARD_ARI_URL",
    "ari_user": "MINUTECARD_ARI_USER",
    "ari_password": "MINUTECARD_ARI_PASSWORD",
    "app": "MINUTECARD_ARI_APP",
    "database_url": "MINUTECARD_DATABASE_URL",
    "drain_seconds": "MINUTECARD_DRAIN_SECONDS",
    "log_level": "MINUTECARD_LOG_LEVEL",
    "caller_format": "MINUTECARD_CALLER_FORMAT",
}


def load(path: Path | None) -> Settings:
    """Read ``path`` (sections [ari], [database], [engine]); environment variables win."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"config {path}: {exc}") from exc
        ari, db, engine = (raw.get(k, {}) for k in ("ari", "database", "engine"))
        data = {
            "ari_url": ari.get("url"),
            "ari_user": ari.get("user"),
            "ari_password": ari.get("password"),
            "app": ari.get("app"),
            "database_url": db.get("url"),
            "drain_seconds": engine.get("drain_seconds"),
            "log_level": engine.get("log_level"),
            "pin_secret": engine.get("pin_secret"),
            "caller_format": engine.get("caller_format"),
        }
    for key, name in ENV.items():
        if os.environ.get(name):
            data[key] = os.environ[name]
    if not data.get("ari_password"):
        raise InvalidInput("set the ARI password ([ari] password or MINUTECARD_ARI_PASSWORD)")
    try:
        given = data.get("drain_seconds")
        drain = 300 if given is None else int(str(given))
    except ValueError as exc:
        raise InvalidInput("drain_seconds must be a whole number of seconds") from exc
    caller_format = str(data.get("caller_format") or "national")
    if caller_format not in CALLER_FORMATS:
        raise InvalidInput(f"caller_format must be one of {', '.join(CALLER_FORMATS)}")
    return Settings(
        ari_url=str(data.get("ari_url") or "http://127.0.0.1:8088"),
        ari_user=str(data.get("ari_user") or "minutecard"),
        ari_password=str(data["ari_password"]),
        app=str(data.get("app") or "minutecard"),
        database_url=str(data["database_url"]) if data.get("database_url") else None,
        pin_secret=pin_secret(str(data["pin_secret"]) if data.get("pin_secret") else None),
        drain_seconds=drain,
        log_level=str(data.get("log_level") or "INFO").upper(),
        caller_format=caller_format,
    )

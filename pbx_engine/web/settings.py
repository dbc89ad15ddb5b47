"""The ``[web]`` section: who may frame the pay pages, what they are titled, cookie rules."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cards.errors import InvalidInput

KEYS = (
    "frame_ancestors",
    "title",
    "operator",
    "support",
    "secret",
    "secure_cookies",
)
"""The [web] keys; frame_ancestors is a list, secure_cookies a boolean. The reverse proxy the
pages believe is the API's, ``[api] trusted_proxies``: one listener, one proxy."""


@dataclass(frozen=True)
class WebSettings:
    secret: bytes
    """Signs CSRF tokens: [web] secret, else derived from the PIN secret (one secret less to
    keep; the derivation cannot be turned back into the PIN secret)."""
    frame_ancestors: tuple[str, ...] = ()
    """Origins allowed to show the pages in an <iframe>; none by default ('none')."""
    title: str = "Guthaben aufladen"
    operator: str = ""
    support: str = ""
    secure_cookies: bool = True
    """Off only for plain-http tests and a local demo: a browser sends Secure cookies over TLS."""


def web_settings(values: dict[str, Any], pin_secret: bytes) -> WebSettings:
    """Checked [web] settings from ``values`` (key → value from the file or the environment,
    where a list is comma-separated text and a boolean is true/false)."""
    secret = values.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
        raise InvalidInput("web.secret must be text of at least 16 characters")
    key = (
        secret.encode()
        if secret
        else hmac.new(pin_secret, b"minutecard web pages", hashlib.sha256).digest()
    )
    return WebSettings(
        secret=key,
        frame_ancestors=tuple(_origin(o) for o in _texts("frame_ancestors", values)),
        title=_text("title", values, WebSettings.title),
        operator=_text("operator", values, ""),
        support=_text("support", values, ""),
        secure_cookies=_flag("secure_cookies", values.get("secure_cookies", True)),
    )


def _texts(key: str, values: dict[str, Any]) -> tuple[str, ...]:
    value = values.get(key, [])
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"web.{key} must be a list of texts")
    return tuple(value)


def _text(key: str, values: dict[str, Any], default: str) -> str:
    value = values.get(key, default)
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidInput(f"web.{key} must be text of at most 200 characters")
    return value


def _flag(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidInput(f"web.{key} must be true or false")


def _origin(text: str) -> str:
    """An origin a CSP frame-ancestors list takes: scheme, host, optional port; nothing else
    (a path, a quote or a blank would change what the header says)."""
    parts = urlsplit(text.strip())
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or any(c in text for c in " ;,'\"")
    ):
        raise InvalidInput(
            f"web.frame_ancestors: {text[:60]!r} is not an origin like https://shop.example"
        )
    return f"{parts.scheme}://{parts.netloc}"

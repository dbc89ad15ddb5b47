"""The OpenAPI document as served: the file, with ``servers`` naming where this API is reached
(``[api] public_url``, else ``[api] host`` and ``port``, else the host the client asked)."""

from __future__ import annotations

import json
from functools import cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any

OPENAPI = Path(__file__).with_name("openapi.json")


@cache
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OPENAPI.read_text())
    return doc


def server_url(public_url: str | None, host: str, port: int) -> str:
    """Where clients reach the API; "" when only the request can tell (a wildcard listener)."""
    if public_url:
        return public_url.rstrip("/")
    try:
        address = ip_address(host)
    except ValueError:  # a host name
        return f"http://{host}:{port}"
    if address.is_unspecified:
        return ""
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def served(url: str) -> str:
    """The document's text with ``servers`` set to ``url``."""
    return json.dumps({**_document(), "servers": [{"url": url}]}, ensure_ascii=False)

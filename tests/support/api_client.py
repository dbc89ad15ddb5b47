"""A small client of the balance API for tests: one request, the status and the decoded body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
"""What every refusal carries (RFC 9457 problem details)."""


@dataclass
class Server:
    url: str
    write: str
    read: str
    other: str
    serial: str
    other_serial: str
    ari_up: list[bool]
    pin: str = ""

    async def call(
        self, method: str, path: str, token: str | None, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, data=data, headers=headers) as resp,
        ):
            text = await resp.text()
            return resp.status, json.loads(text) if "json" in resp.content_type else text

"""The FastAGI request header reader panoramisk lacks: bounded in size and time, and an early
EOF ends the connection (panoramisk's own loop spins forever on one, freezing the engine)."""

from __future__ import annotations

import asyncio

MAX_HEADER_BYTES = 8 * 1024
READ_TIMEOUT_S = 5.0


class BadRequest(Exception):
    """The peer sent no usable AGI header block: closed early, too slow, too long, not text."""


async def read_headers(
    reader: asyncio.StreamReader,
    *,
    limit: int = MAX_HEADER_BYTES,
    timeout_s: float = READ_TIMEOUT_S,
) -> dict[str, str]:
    """``agi_*: value`` lines up to the blank line that ends them."""
    headers: dict[str, str] = {}
    total = 0
    while True:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout_s)
        except TimeoutError as exc:
            raise BadRequest(f"no complete header within {timeout_s} s") from exc
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise BadRequest("a header line longer than the stream's limit") from exc
        if not line.endswith(b"\n"):
            raise BadRequest("the peer closed before the end of the headers")
        total += len(line)
        if total > limit:
            raise BadRequest(f"headers longer than {limit} bytes")
        if line in (b"\n", b"\r\n"):
            return headers
        try:
            text = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise BadRequest("a header that is not UTF-8") from exc
        name, sep, value = text.partition(": ")
        if sep and name.startswith("agi_"):
            headers[name] = value

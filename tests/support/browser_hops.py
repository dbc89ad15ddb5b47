"""One browser hop for payment tests: GET without following, answer where it sends us."""

from __future__ import annotations

import aiohttp


async def hop(url: str) -> str:
    """The ``Location`` a GET is redirected to, or the status when it is not redirected."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        return resp.headers.get("Location") or str(resp.status)

"""panoramisk's FastAGI ``Application`` with our connection handler: peers outside the allowlist
closed unread, headers read by ``reader.read_headers``, a route per script, every connection
closed, nothing that goes wrong on one connection reaching another."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from panoramisk.fast_agi import Application, Request

from pbx_engine.agi.reader import BadRequest, read_headers
from pbx_engine.allowlist import Allowlist

log = logging.getLogger("minutecard.agi")

Route = Callable[[Request], Awaitable[None]]


class AgiApp(Application):  # type: ignore[misc]  # panoramisk ships no type hints
    def __init__(self, routes: dict[str, Route], allow: Allowlist | None = None) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        for path, endpoint in routes.items():
            self.add_route(path, endpoint)
        self.refused = 0
        self.allow = allow

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if self.allow is not None and not self.allow.permits(str(peer[0]) if peer else ""):
            # FastAGI has no authentication: a peer outside [agi] allow gets not one byte read.
            self.refused += 1
            log.warning("AGI from %s closed unread: not in [agi] allow", peer)
            writer.close()
            return
        try:
            headers = await read_headers(reader)
            script = headers.get("agi_network_script", "")
            route = self._route.get(script)
            if route is None:
                log.warning("AGI from %s: no route %r", peer, script[:40])
                return
            await route(Request(self, headers, reader, writer))
        except BadRequest as exc:
            self.refused += 1
            log.warning("AGI from %s refused: %s", peer, exc)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.warning("AGI from %s: connection lost (%s)", peer, exc)
        finally:
            writer.close()


async def serve(app: AgiApp, host: str, port: int) -> asyncio.Server:
    return await asyncio.start_server(app.handler, host, port)
